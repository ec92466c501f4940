from __future__ import annotations

from django.urls import path

from gvrs.reports import reference, views

urlpatterns = [
    path("", views.overview_index, name="reports-overview"),
    path("places/", views.places, name="reports-places"),
    path("help/", reference.help_page, name="reports-help"),
    path("help/<slug:name>/", reference.help_page, name="reports-help-page"),
    path("j/<slug:slug>/", views.overview, name="reports-jurisdiction"),
    path("j/<slug:slug>/areas.geojson", views.area_boundaries, name="reports-boundaries"),
]
