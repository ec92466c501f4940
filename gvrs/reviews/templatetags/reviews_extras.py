from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def share(part: int, whole: int) -> str:
    """'38%' of a count, or '—' when there is nothing to divide (never 0% of nothing)."""
    if not whole:
        return "—"
    return f"{100 * part / whole:.0f}%"
