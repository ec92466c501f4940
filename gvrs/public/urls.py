from __future__ import annotations

from django.urls import path

from gvrs.public import views

urlpatterns = [
    path("", views.index, name="public-index"),
    path("<slug:slug>/", views.dashboard, name="public-dashboard"),
    path("<slug:slug>/data.csv", views.download, name="public-download"),
]
