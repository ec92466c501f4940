from __future__ import annotations

from django.urls import path

from gvrs.council import views

urlpatterns = [
    path("report/", views.council, name="council-report"),
    path("report/pdf/", views.council_pdf, name="council-report-pdf"),
]
