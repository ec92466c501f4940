from __future__ import annotations

from django.contrib import admin

from gvrs.accounts.audit import CASE_DETAIL_HIDDEN, case_work, is_case_work
from gvrs.accounts.models import AuditEvent, Membership, Organization


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, so nobody (a superuser included) adds, changes or
    deletes an event here; events are written only by ``gvrs.accounts.audit.record``.

    Administrators are not case workers: a partner organization's case events are listed
    (who, when, what kind of action, on which record) without their detail, which holds
    outcomes ("died"), consents ("aggregate_reporting: refused"), services and the like; the
    organization's own managers read them in full on their access page. The search does not
    look into those details either, or searching "died" would say whose exit it was."""

    list_display = [
        "at",
        "username",
        "roles",
        "organization",
        "action",
        "object_type",
        "object_id",
        "shown_detail",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["username", "object_id"]
    readonly_fields = list_display
    fields = list_display  # one event on its own: the same columns, never the raw detail

    @admin.display(description="detail")
    def shown_detail(self, event: AuditEvent) -> str:
        return CASE_DETAIL_HIDDEN if is_case_work(event) else event.detail

    def get_search_results(self, request, queryset, search_term):
        found, duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            in_details = queryset.exclude(case_work()).filter(detail__icontains=search_term)
            found = found | in_details
        return found, duplicates

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
