from __future__ import annotations

from django.urls import path

from gvrs.evaluation import views

urlpatterns = [
    path("j/<slug:slug>/evaluation/", views.evaluation, name="evaluation-jurisdiction"),
]
