from django.contrib import admin

from gvrs.public.models import PublicDashboard


@admin.register(PublicDashboard)
class PublicDashboardAdmin(admin.ModelAdmin):
    list_display = ["jurisdiction", "enabled", "metric", "threshold", "updated_at"]
    list_filter = ["enabled"]
    autocomplete_fields = ["jurisdiction"]
    search_fields = ["jurisdiction__name"]
