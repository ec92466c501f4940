from django import template

from gvrs.reports.labels import source_title as _source_title

register = template.Library()


@register.filter
def source_title(source: str) -> str:
    return _source_title(source)
