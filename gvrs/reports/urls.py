from __future__ import annotations

from django.urls import path

from gvrs.reports import views

urlpatterns = [
    path("", views.overview_index, name="reports-overview"),
    path("places/", views.places, name="reports-places"),
    path("j/<slug:slug>/", views.overview, name="reports-jurisdiction"),
    path("j/<slug:slug>/evaluation/", views.evaluation, name="reports-evaluation"),
]
