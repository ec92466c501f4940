"""The review's settings in the admin: each place's review policy, and the areas each partner
organization covers (where it works is not case data; which alerts it receives follows from
it). Reviews, groups, conflicts and alerts change only through the audited pages."""

from __future__ import annotations

from django.contrib import admin

from gvrs.accounts.audit import record
from gvrs.reviews.models import CoverageArea, ReviewPolicy


class _Audited(admin.ModelAdmin):
    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        record(request.user, "change" if change else "add", obj, str(obj))

    def delete_model(self, request, obj) -> None:
        record(request.user, "delete", obj, str(obj))
        super().delete_model(request, obj)


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(_Audited):
    list_display = [
        "jurisdiction",
        "deadline_days",
        "queue_back_days",
        "designation_months",
        "alert_window_days",
    ]
    autocomplete_fields = ["jurisdiction"]


@admin.register(CoverageArea)
class CoverageAreaAdmin(_Audited):
    list_display = ["organization", "area"]
    list_filter = ["organization"]
    autocomplete_fields = ["area"]
