"""A source's coverage across its import runs: the period its files cover and the kinds of
incident (or published metrics) they hold. A series' coverage for a place is its source's,
never the place's own first and last incident.

Where a source records which months each agency reported (``ReportedMonth``: NIBRS), a
place's coverage is narrower: the months every agency of that source inside the place
reported, and the months between them that one did not are gaps ("no data", never 0)."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, replace

from django.db.models import Max, Min

from gvrs.incidents.models import ImportRun, Incident, ReportedMonth

_COUNTED = (ImportRun.Status.SUCCEEDED, ImportRun.Status.PARTIAL)


@dataclass(frozen=True)
class SourceCoverage:
    source: str
    first: dt.date
    last: dt.date
    kinds: frozenset[str]
    recorded: bool  # False: no run recorded it; taken from the source's own incidents
    warnings: tuple[str, ...] = ()
    # Spans inside first..last the source does not cover here (months not reported, and
    # thin years: too few records to be a year of data).
    gaps: tuple[tuple[dt.date, dt.date], ...] = ()
    thin_years: tuple[int, ...] = ()

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
    # Each year's verdict on its volume is the latest run's whose file covers it.
    thin: dict[str, dict[int, bool]] = {}
    for source, run_kinds, run_warnings, start, end, run_thin in runs.order_by("pk").values_list(
        "source", "covers_kinds", "coverage_warnings", "covers_from", "covers_through", "thin_years"
    ):
        kinds.setdefault(source, set()).update(run_kinds or [])
        warnings[source] = list(run_warnings or [])  # the latest run's findings
        verdicts = thin.setdefault(source, {})
        for year in range((start or end).year, end.year + 1):
            verdicts[year] = year in (run_thin or [])
    for span in spans:
        source = span["source"]
        years = tuple(sorted(y for y, is_thin in thin.get(source, {}).items() if is_thin))
        found[source] = SourceCoverage(
            source,
            span["first"],
            span["last"],
            frozenset(kinds.get(source, ())),
            True,
            tuple(warnings.get(source, ())),
            gaps=_year_spans(years, span["first"], span["last"]),
            thin_years=years,
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
    """The coverage of each source that holds incidents in these places (or records months
    they reported) and records any of ``kinds`` (all kinds when empty): what a place's
    figures may claim to cover."""
    sources = set(
        Incident.objects.filter(jurisdiction_id__in=place_ids)
        .order_by()
        .values_list("source", flat=True)
        .distinct()
    )
    monthly = set(
        ReportedMonth.objects.filter(jurisdiction_id__in=place_ids)
        .order_by()
        .values_list("source", flat=True)
        .distinct()
    )
    monthly |= set(
        ReportedMonth.objects.filter(source__in=sources)
        .order_by()
        .values_list("source", flat=True)
        .distinct()
    )
    found = []
    for coverage in source_coverage(sorted(sources | monthly)).values():
        if not coverage.holds(kinds):
            continue
        if coverage.source in monthly:
            coverage = reported_months_coverage(coverage, place_ids)
            if coverage is None:
                continue
        found.append(coverage)
    return found


def _year_spans(years, first: dt.date, last: dt.date) -> tuple[tuple[dt.date, dt.date], ...]:
    """Thin years as spans inside first..last, neighbouring years joined."""
    spans: list[tuple[dt.date, dt.date]] = []
    for year in years:
        a, b = max(dt.date(year, 1, 1), first), min(dt.date(year, 12, 31), last)
        if a > b:
            continue
        if spans and spans[-1][1] + dt.timedelta(days=1) == a:
            spans[-1] = (spans[-1][0], b)
        else:
            spans.append((a, b))
    return tuple(spans)


def merge_spans(*groups) -> tuple[tuple[dt.date, dt.date], ...]:
    """Spans of days joined where they overlap or touch, in order."""
    spans: list[tuple[dt.date, dt.date]] = []
    for a, b in sorted(s for group in groups for s in group):
        if spans and a <= spans[-1][1] + dt.timedelta(days=1):
            spans[-1] = (spans[-1][0], max(spans[-1][1], b))
        else:
            spans.append((a, b))
    return tuple(spans)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _next_month(day: dt.date) -> dt.date:
    return _month_end(day) + dt.timedelta(days=1)


def reported_months_coverage(coverage: SourceCoverage, place_ids) -> SourceCoverage | None:
    """``coverage`` narrowed to the months every agency of the source in these places
    reported (incidents or a zero report), with the months between them that any one of
    them did not report as gaps; None when no month is covered."""
    rows = ReportedMonth.objects.filter(
        source=coverage.source, jurisdiction_id__in=place_ids
    ).values_list("jurisdiction_id", "month", "status")
    covered: dict[int, set[dt.date]] = {}
    for place, month, status in rows:
        months = covered.setdefault(place, set())
        if status != ReportedMonth.Status.NOT_REPORTED:
            months.add(month)
    if not covered:
        return None
    every = set.intersection(*covered.values())
    if not every:
        return None
    first, last_month = min(every), max(every)
    last = min(_month_end(last_month), coverage.last)
    first = max(first, coverage.first.replace(day=1))
    if last < first:
        return None
    gaps, month, open_gap = [], first, None
    while month <= last_month:
        if month not in every and open_gap is None:
            open_gap = month
        if month in every and open_gap is not None:
            gaps.append((open_gap, month - dt.timedelta(days=1)))
            open_gap = None
        month = _next_month(month)
    inside = tuple(
        (max(a, first), min(b, last)) for a, b in coverage.gaps if a <= last and b >= first
    )
    return replace(coverage, first=first, last=last, gaps=merge_spans(gaps, inside))
