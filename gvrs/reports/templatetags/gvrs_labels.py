from django import template

from gvrs.reports.labels import code_label as _code_label
from gvrs.reports.labels import series_title as _series_title
from gvrs.reports.labels import source_title as _source_title

register = template.Library()


@register.filter
def source_title(source: str) -> str:
    return _source_title(source)


@register.filter
def series_title(series) -> str:
    """A series' source as a reader is told it, the primary incident source marked."""
    return _series_title(series)


@register.simple_tag
def code_label(source: str, field: str, code: str) -> str:
    """{% code_label incident.source "victim_race" person.race %} -> "Black"."""
    return _code_label(source, field, code or "")
