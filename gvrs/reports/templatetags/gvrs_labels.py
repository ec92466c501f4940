from django import template

from gvrs.reports.labels import code_label as _code_label
from gvrs.reports.labels import source_title as _source_title

register = template.Library()


@register.filter
def source_title(source: str) -> str:
    return _source_title(source)


@register.simple_tag
def code_label(source: str, field: str, code: str) -> str:
    """{% code_label incident.source "victim_race" person.race %} -> "Black"."""
    return _code_label(source, field, code or "")
