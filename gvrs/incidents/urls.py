from __future__ import annotations

from django.urls import path

from gvrs.incidents import views

urlpatterns = [
    path("", views.incident_list, name="incidents-list"),
    path("export.csv", views.incident_export, name="incidents-export"),
    path("<int:pk>/", views.incident_detail, name="incidents-detail"),
    path("imports/", views.import_list, name="incidents-imports"),
    path("imports/new/", views.import_upload, name="incidents-import-upload"),
    path("imports/confirm/", views.import_confirm, name="incidents-import-confirm"),
    path("imports/jobs/<int:pk>/", views.import_job, name="incidents-import-job"),
    path("imports/<int:pk>/", views.import_detail, name="incidents-import-detail"),
]
