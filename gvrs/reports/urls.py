from __future__ import annotations

from django.urls import path

from gvrs.reports import council_views, views

urlpatterns = [
    path("", views.overview_index, name="reports-overview"),
    path("places/", views.places, name="reports-places"),
    path("j/<slug:slug>/", views.overview, name="reports-jurisdiction"),
    path("j/<slug:slug>/evaluation/", views.evaluation, name="reports-evaluation"),
    path("report/", council_views.council, name="reports-council"),
    path("report/pdf/", council_views.council_pdf, name="reports-council-pdf"),
]
