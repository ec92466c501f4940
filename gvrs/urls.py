"""Site URLs, one include per domain app; the read API's own (``gvrs.api``) under /api/v1/."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from gvrs.api.api import api
from gvrs.operations import health

urlpatterns = [
    path("", include("gvrs.reports.urls")),
    path("", include("gvrs.evaluation.urls")),
    path("", include("gvrs.council.urls")),
    path("accounts/", include("gvrs.accounts.urls")),
    path("incidents/", include("gvrs.incidents.urls")),
    path("partners/", include("gvrs.partners.urls")),
    path("reviews/", include("gvrs.reviews.urls")),
    path("public/", include("gvrs.public.urls")),
    path("notifications/", include("gvrs.notifications.urls")),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    # Answered by gvrs.operations.health.OperationsMiddleware before the chain; named here too.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
]
