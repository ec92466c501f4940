"""A source's coverage across its import runs: the period its files cover and the kinds of
incident (or published metrics) they hold. A series' coverage for a place is its source's,
never the place's own first and last incident."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Min

from gvrs.incidents.models import ImportRun, Incident

_COUNTED = (ImportRun.Status.SUCCEEDED, ImportRun.Status.PARTIAL)


@dataclass(frozen=True)
class SourceCoverage:
    source: str
    first: dt.date
    last: dt.date
    kinds: frozenset[str]
    recorded: bool  # False: no run recorded it; taken from the source's own incidents
    warnings: tuple[str, ...] = ()

    def holds(self, kinds: tuple[str, ...]) -> bool:
        """Whether the source records any of ``kinds`` (all kinds when empty)."""
        return not kinds or bool(self.kinds & set(kinds))


def source_coverage(sources: list[str] | None = None) -> dict[str, SourceCoverage]:
    """Coverage of each source (all sources when None): the union of its runs' periods. A
    source imported before coverage was recorded falls back to its incidents' first and
    last dates, across every place (never one place's own)."""
    runs = ImportRun.objects.filter(status__in=_COUNTED, covers_through__isnull=False)
    if sources is not None:
        runs = runs.filter(source__in=sources)
    found: dict[str, SourceCoverage] = {}
    spans = runs.values("source").annotate(first=Min("covers_from"), last=Max("covers_through"))
    kinds: dict[str, set[str]] = {}
    warnings: dict[str, list[str]] = {}
    for source, run_kinds, run_warnings in runs.order_by("pk").values_list(
        "source", "covers_kinds", "coverage_warnings"
    ):
        kinds.setdefault(source, set()).update(run_kinds or [])
        warnings[source] = list(run_warnings or [])  # the latest run's findings
    for span in spans:
        source = span["source"]
        found[source] = SourceCoverage(
            source,
            span["first"],
            span["last"],
            frozenset(kinds.get(source, ())),
            True,
            tuple(warnings.get(source, ())),
        )
    missing = None if sources is None else [s for s in sources if s not in found]
    if missing is None or missing:
        incidents = Incident.objects.all()
        if missing is not None:
            incidents = incidents.filter(source__in=missing)
        else:
            incidents = incidents.exclude(source__in=list(found))
        fallback = incidents.values("source").annotate(
            first=Min("occurred_on"), last=Max("occurred_on")
        )
        for span in fallback:
            source = span["source"]
            held = set(
                Incident.objects.filter(source=source).values_list("kind", flat=True).distinct()
            )
            found[source] = SourceCoverage(
                source, span["first"].replace(day=1), span["last"], frozenset(held), False
            )
    return found


def place_coverage(place_ids, kinds: tuple[str, ...] = ()) -> list[SourceCoverage]:
    """The coverage of each source that holds incidents in these places and records any of
    ``kinds`` (all kinds when empty): what a place's figures may claim to cover."""
    sources = list(
        Incident.objects.filter(jurisdiction_id__in=place_ids)
        .order_by()
        .values_list("source", flat=True)
        .distinct()
    )
    return [c for c in source_coverage(sources).values() if c.holds(kinds)]
