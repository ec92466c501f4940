"""The council report, computed from the registry with the statistics engine.

Everything a sentence says comes from ``gvrs.analysis`` (counts, tests, history, projection,
workload) and is worded by ``gvrs.analysis.narrative``; this module chooses what goes in, in
which order, and refuses a period the data do not cover.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Max

from gvrs.analysis import narrative
from gvrs.analysis.counts import (
    YEAR,
    CountSeries,
    SeriesError,
    comparable_windows,
    compare_periods,
    period_count,
)
from gvrs.analysis.periods import Period, PeriodError, parse_period, previous
from gvrs.analysis.periods import year as whole_year
from gvrs.analysis.suppression import DEFAULT_THRESHOLD
from gvrs.analysis.workload import (
    CostPerShooting,
    WorkloadAssumptions,
)
from gvrs.council import sections
from gvrs.council.document import CouncilReport, Paragraph, Section
from gvrs.council.sections import Found
from gvrs.data.metrics import Metric, load_metrics
from gvrs.incidents.models import ImportRun, Incident, Jurisdiction
from gvrs.reports.labels import series_title
from gvrs.reports.series import INCIDENTS, all_series

# The metrics a council report leads with, in this order, where the place has data on them.
REPORT_METRICS = (
    "homicides",
    "shootings",
    "shooting_incidents",
    "nonfatal_shootings",
    # Published by the California DOJ only: the closest published proxy for nonfatal
    # shootings, so a place known from its annual totals gets more than homicides.
    "firearm_aggravated_assaults",
)


class ReportError(ValueError):
    """A report that cannot honestly be made: the message names the data's coverage."""


@dataclass(frozen=True)
class ReportRequest:
    """What the user asked for; ``vs`` defaults to the period before, ``baseline`` to the
    place's baseline year."""

    jurisdiction: Jurisdiction
    period: str
    vs: str | None = None
    baseline: int | None = None
    workload: WorkloadAssumptions = field(default_factory=WorkloadAssumptions)
    costs: tuple[CostPerShooting, ...] = ()
    strategy_start: dt.date | None = None
    evaluation_method: str = "its"
    today: dt.date | None = None
    metrics: dict[str, Metric] | None = None


def _last_imports(sources: list[str]) -> dict[str, dt.datetime | None]:
    runs = (
        ImportRun.objects.filter(
            source__in=sources,
            status__in=(ImportRun.Status.SUCCEEDED, ImportRun.Status.PARTIAL),
        )
        .values("source")
        .annotate(last=Max("finished_at"))
    )
    found = {row["source"]: row["last"] for row in runs}
    return {source: found.get(source) for source in sources}


def _usable(series: CountSeries, period: Period, today: dt.date) -> tuple[bool, bool]:
    """(usable, running): the series covers the period, or the period is still running and
    the series covers its start. A period that is over but not wholly covered is refused:
    its missing days are unknown, never zero."""
    if series.resolution == YEAR:
        years = range(period.start.year, period.end.year + 1)
        ok = period.is_whole_years and all(y in series.counts.index for y in years)
        return ok, False
    if period.start < series.first or period.start > series.covered_through:
        return False, False
    if period.end <= series.covered_through:
        return True, False
    return period.contains(today), period.contains(today)


def _period(text: str, as_of: dt.date) -> Period:
    try:
        return parse_period(text, as_of)
    except PeriodError as exc:
        raise ReportError(str(exc)) from None


def build_report(request: ReportRequest) -> CouncilReport:
    """The report for ``request``; raises ``ReportError`` for a period outside every source's
    coverage (naming the coverage), or a place with no data."""
    place = request.jurisdiction
    today = request.today or dt.date.today()
    metrics = request.metrics or load_metrics()
    candidates: list[tuple[Metric, CountSeries]] = []
    for name in REPORT_METRICS:
        for series in all_series(metrics[name], place):
            candidates.append((metrics[name], series))
    if not candidates:
        raise ReportError(f"no data for {place.name}: import incidents or published counts first")
    as_of = max(s.covered_through for _, s in candidates)
    period = _period(request.period, as_of)
    vs = _period(request.vs, as_of) if request.vs else previous(period)
    baseline_year = request.baseline or place.baseline_year
    baseline = whole_year(baseline_year) if baseline_year else None
    if baseline is not None and period.label.endswith("-YTD"):
        baseline = _period(f"{baseline_year}-YTD", as_of)
    imports = _last_imports(sorted({s.source for _, s in candidates if not s.from_incidents}))
    incident_sources = sorted(
        Incident.objects.filter(jurisdiction_id__in=place.descendant_ids())
        .order_by()
        .values_list("source", flat=True)
        .distinct()
    )
    imports.update({f"{INCIDENTS}:{s}": t for s, t in _last_imports(incident_sources).items()})

    found: list[Found] = []
    left_out: list[str] = []
    for metric, series in candidates:
        ok, running = _usable(series, period, today)
        if not ok:
            left_out.append(
                narrative.not_covered_sentence(
                    metric.label, series_title(series), period.label, series.coverage(today)
                )
            )
            continue
        found.append(_headline(metric, series, period, vs, baseline, running))
    if not found:
        held: dict[str, list[str]] = {}
        for metric, s in candidates:
            held.setdefault(f"{series_title(s)}: {s.coverage(today)}", []).append(
                metric.label.lower()
            )
        coverage = "; ".join(f"{', '.join(labels)} from {where}" for where, labels in held.items())
        raise ReportError(
            f"no data to publish for {period.label} in {place.name}: the data cover "
            f"{coverage}. Choose a period inside the coverage."
        )
    last_imported = max((t for t in imports.values() if t is not None), default=None)
    lead = found[0]
    parts = [
        sections.summary(found, left_out, today),
        sections.caveat(place, lead, request.strategy_start, request.evaluation_method),
        sections.history(found, period, today),
        sections.year_to_date(found, period, today),
        sections.rates(found, place, today),
        sections.group_share(place, period, metrics),
        sections.workload(request.workload, request.costs, place, period, vs, metrics, today),
        sections.areas(place, sections.busiest(found), today),
        sections.victims(place, found, today),
        sections.partners(place, period, today),
        sections.sources(found, imports, place, today),
        Section(
            "Methods",
            [
                Paragraph(s)
                for s in narrative.methods_sentences(
                    narrative.EVIDENCE_THRESHOLD, DEFAULT_THRESHOLD, sections.PROJECTION_LEVEL
                )
            ],
            "methods",
            new_page=True,
        ),
    ]
    facts = {
        "jurisdiction": place.name,
        "period": period.label,
        "vs": vs.label,
        "baseline": baseline.label if baseline else None,
        "headline": [
            {
                "metric": f.metric.name,
                "source": f.series.source,
                "window": f.window.label,
                "count": f.count,
                "changes": [
                    {
                        "vs": c.baseline.label,
                        "vs_count": c.baseline_count,
                        "change_pct": c.change_pct,
                        "p_value": c.p_value,
                        "sentence": c.sentence,
                    }
                    for c in f.changes
                ],
                "coverage": f.series.coverage(today),
            }
            for f in found
        ],
        "last_imported": narrative.imported_phrase(last_imported),
    }
    coverage = "; ".join(
        dict.fromkeys(f"{series_title(f.series)}: {f.series.coverage(today)}" for f in found)
    )
    return CouncilReport(
        title=f"Gun violence in {place.name}: {period.label}",
        subtitle=narrative.report_subtitle(
            place.path, period.label, vs.label, baseline.label if baseline else None
        ),
        place=place.name,
        period=period.label,
        vs=vs.label,
        baseline=baseline.label if baseline else "",
        generated_on=today,
        last_imported=narrative.imported_phrase(last_imported),
        coverage=coverage,
        sections=[s for s in parts if s is not None],
        facts=facts,
    )


def _headline(
    metric: Metric,
    series: CountSeries,
    period: Period,
    vs: Period,
    baseline: Period | None,
    running: bool,
) -> Found:
    changes, gaps = [], []
    window = period
    for other in [vs] + ([baseline] if baseline and baseline != vs else []):
        try:
            change = compare_periods(series, period, other)
        except SeriesError as exc:
            gaps.append(narrative.no_comparison_sentence(metric.label, other.label, str(exc)))
            continue
        changes.append(change)
        window = change.period
    if not changes and running:
        window, _ = comparable_windows(series, period, period)
    counted = period_count(series, window)
    return Found(
        metric,
        series,
        window,
        counted.count,
        (counted.ci_low, counted.ci_high),
        running,
        changes,
        gaps,
    )


__all__ = ["ReportError", "ReportRequest", "build_report"]
