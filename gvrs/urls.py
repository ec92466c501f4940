"""Site URLs, one include per domain app."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("gvrs.reports.urls")),
    path("", include("gvrs.evaluation.urls")),
    path("", include("gvrs.council.urls")),
    path("accounts/", include("gvrs.accounts.urls")),
    path("incidents/", include("gvrs.incidents.urls")),
    path("partners/", include("gvrs.partners.urls")),
    path("reviews/", include("gvrs.reviews.urls")),
    path("public/", include("gvrs.public.urls")),
    path("admin/", admin.site.urls),
]
