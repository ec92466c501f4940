"""The registry of strategy starts in the administration: where, when and what began."""

from __future__ import annotations

from django.contrib import admin

from gvrs.evaluation.models import Strategy


@admin.register(Strategy)
class StrategyAdmin(admin.ModelAdmin):
    list_display = ("jurisdiction", "start", "description", "added_by", "added_at")
    list_filter = ("start",)
    search_fields = ("jurisdiction__name", "description")
    autocomplete_fields = ("jurisdiction",)
    readonly_fields = ("added_at",)
    date_hierarchy = "start"
