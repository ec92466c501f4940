from django.contrib import admin

from gvrs.accounts.audit import record
from gvrs.incidents.models import (
    Area,
    ImportRun,
    Incident,
    Jurisdiction,
    PersonInvolved,
    Population,
    PrimarySource,
    PublishedCount,
    ScheduledImport,
    ScheduledRun,
)


class PrimarySourceInline(admin.TabularInline):
    model = PrimarySource
    extra = 0


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "parent", "time_zone"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PrimarySourceInline]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "jurisdiction", "kind"]
    list_filter = ["jurisdiction"]
    search_fields = ["name"]


class PersonInline(admin.TabularInline):
    model = PersonInvolved
    extra = 0


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["source_id", "kind", "occurred_on", "jurisdiction", "area", "killed", "injured"]
    list_filter = ["kind", "jurisdiction"]
    search_fields = ["source_id"]
    date_hierarchy = "occurred_on"
    raw_id_fields = ["area", "import_run"]
    inlines = [PersonInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Reading an incident (its people, its block address) in the admin is audited like
        # reading it on the incident page.
        if request.method == "GET":
            incident = self.get_object(request, object_id)
            if incident is not None and self.has_view_or_change_permission(request, incident):
                record(request.user, "view", incident, detail="admin")
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "file_name", "format", "status", "rows_read", "rows_rejected"]
    list_filter = ["status", "format"]


admin.site.register(Population)
admin.site.register(PublishedCount)


class ScheduledRunInline(admin.TabularInline):
    """A schedule's runs, newest first: read only, written by the runs themselves."""

    model = ScheduledRun
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-started_at", "-pk"]
    fields = ["started_at", "outcome", "file_name", "message", "import_run", "notified"]
    readonly_fields = fields


@admin.register(ScheduledImport)
class ScheduledImportAdmin(admin.ModelAdmin):
    """Data that arrives by itself (docs/importing.md, "Scheduled imports")."""

    list_display = ["name", "enabled", "place", "folder", "url", "every_minutes", "next_run_at"]
    list_filter = ["enabled"]
    search_fields = ["name"]
    raw_id_fields = ["place"]
    inlines = [ScheduledRunInline]
