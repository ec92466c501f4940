from django.contrib import admin

from gvrs.incidents.models import (
    Area,
    ImportRun,
    Incident,
    Jurisdiction,
    PersonInvolved,
    Population,
    PublishedCount,
)


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "parent", "time_zone"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


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


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "file_name", "format", "status", "rows_read", "rows_rejected"]
    list_filter = ["status", "format"]


admin.site.register(Population)
admin.site.register(PublishedCount)
