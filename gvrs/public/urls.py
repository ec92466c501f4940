from __future__ import annotations

from django.urls import path

from gvrs.public import views

urlpatterns = [
    path("", views.index, name="public-index"),
    # Two segments: never taken for a place's page (one segment) or its download.
    path("language/<str:code>/", views.choose_language, name="public-language"),
    path("<slug:slug>/", views.dashboard, name="public-dashboard"),
    path("<slug:slug>/data.csv", views.download, name="public-download"),
]
