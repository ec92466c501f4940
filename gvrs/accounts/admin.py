from django.contrib import admin

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
    deletes an event here; events are written only by ``gvrs.accounts.audit.record``."""

    list_display = [
        "at",
        "username",
        "roles",
        "organization",
        "action",
        "object_type",
        "object_id",
        "detail",
    ]
    list_filter = ["action", "object_type"]
    search_fields = ["username", "object_id", "detail"]
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
