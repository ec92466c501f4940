from django.contrib import admin

from gvrs.notifications.models import Notice, Subscription


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "place", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "place"]


@admin.register(Notice)
class NoticeAdmin(admin.ModelAdmin):
    """Deliveries, read only: written by the sender alone."""

    list_display = ["at", "user", "kind", "subject", "recipient", "status", "attempts"]
    list_filter = ["kind", "status"]
    readonly_fields = [f.name for f in Notice._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
