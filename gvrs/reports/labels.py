"""Names people read in place of the codes gvrs stores: a source's title instead of its slug."""

from __future__ import annotations

from functools import cache

from gvrs.data.mapping import available_formats, load_format

INCIDENTS_TITLE = "Counted from incident records"


@cache
def _shipped_labels() -> dict[str, dict[str, dict[str, str]]]:
    labels: dict[str, dict[str, dict[str, str]]] = {}
    for name in available_formats():
        mapping = load_format(name)
        if mapping.labels:
            labels.setdefault(mapping.source, mapping.labels)
    return labels


def code_label(source: str, field: str, code: str) -> str:
    """What a stored code means to a reader ("B" -> "Black" in the Philadelphia file), from
    the [labels] of the shipped format that names ``source``; otherwise the code itself."""
    return _shipped_labels().get(source, {}).get(field, {}).get(code, code)


@cache
def _shipped_titles() -> dict[str, str]:
    titles = {}
    for name in available_formats():
        mapping = load_format(name)
        if mapping.source:
            titles.setdefault(mapping.source, mapping.title)
    return titles


def source_title(source: str) -> str:
    """ "ca-doj-crimes-clearances" -> "California DOJ OpenJustice, Crimes and Clearances
    (including Arson)"; a source no shipped format names keeps its own name."""
    if source == "incidents":
        return INCIDENTS_TITLE
    return _shipped_titles().get(source, source)


def series_title(series) -> str:
    """What a reader is told a series' figures are: a published source's title, or "Counted
    from incident records: <the incident source's title>", marked "(primary source)" where
    it is the place's primary incident source (the one its headline figures come from)."""
    title = source_title(series.source)
    if not getattr(series, "from_incidents", False) or series.source == "incidents":
        return title
    return f"{INCIDENTS_TITLE}: {title}" + (" (primary source)" if series.primary else "")
