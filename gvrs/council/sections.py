"""The sections of the council report, each from the statistics engine and worded by
``gvrs.analysis.narrative``: one function per section, returning a ``Section`` of paragraphs,
tables and figures (or saying, in a sentence, why its data are missing)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from django.db.models import Count

from gvrs.accounts.audience import deployment_policy
from gvrs.analysis import narrative
from gvrs.analysis.counts import (
    YEAR,
    CountSeries,
    SeriesError,
    comparable_windows,
    compare_periods,
    period_count,
)
from gvrs.analysis.evaluation import EvaluationError
from gvrs.analysis.history import rank_in_history
from gvrs.analysis.inference import binomial_interval
from gvrs.analysis.periods import Period
from gvrs.analysis.periods import year as whole_year
from gvrs.analysis.projection import project_year_end
from gvrs.analysis.suppression import DEFAULT_THRESHOLD, suppress_table
from gvrs.analysis.workload import (
    CostPerShooting,
    WorkloadAssumptions,
    hours_freed,
    officer_hours,
    shooting_costs,
)
from gvrs.council import charts
from gvrs.council.document import Figure, Paragraph, Section, Table
from gvrs.data.metrics import Metric
from gvrs.evaluation.runs import METHOD_NAMES, evaluate
from gvrs.incidents.models import Area, Incident, Jurisdiction
from gvrs.incidents.people import NOT_RECORDED
from gvrs.partners.figures import program_figures
from gvrs.partners.models import Organization
from gvrs.reports.labels import series_title
from gvrs.reports.series import (
    INCIDENTS,
    all_series,
    count_expression,
    covered_incidents,
)
from gvrs.reports.victims import groups as victim_groups

# Police workload is costed per shooting incident (one call for service, whatever the number
# of people shot in it).
WORKLOAD_METRIC = "shooting_incidents"
HISTORY_YEARS_SHOWN = 40
CHARTS_SHOWN = 2  # history charts and rate tables for the first measures; sentences for all
RATE_YEARS_SHOWN = 10
PROJECTION_LEVEL = 0.90


@dataclass
class Found:
    """One metric's series that can speak to the period, and its headline comparisons."""

    metric: Metric
    series: CountSeries
    window: Period  # the period, or its covered part when the period is still running
    count: int
    ci: tuple[float, float]
    running: bool
    changes: list  # Change against vs, then against the baseline (those that could be made)
    gaps: list[str]  # comparisons that could not be made, and why


def _notes(series: CountSeries, today: dt.date) -> list[str]:
    return [narrative.figure_note(series_title(series), series.definition, series.coverage(today))]


def summary(found: list[Found], left_out: list[str], today: dt.date) -> Section:
    """Each measure's change against the period before and the baseline (the engine's
    sentences, the first measure leading), then the same as a table with the counts behind
    every change and its exact test."""
    blocks: list = []
    for f in found:
        for change in f.changes:
            # The first measure leads; the others follow in ordinary type.
            style = "lead" if f.metric.name == found[0].metric.name else "text"
            blocks.append(Paragraph(change.sentence, style))
        blocks.extend(Paragraph(g, "note") for g in f.gaps)
    header = ["Measure", "Period", "Count (95% interval)", "Compared with", "Change", "Exact test"]
    several = len({f.series.source for f in found}) > 1
    rows = []
    for f in found:
        first = True
        for change in f.changes or [None]:
            row = [
                (
                    f.metric.label + (f" ({series_title(f.series)})" if several else "")
                    if first
                    else ""
                ),
                f.window.label if first else "",
                narrative.count_with_interval(f.count, *f.ci) if first else "",
            ]
            if change is None:
                row += ["—", "—", "—"]
            else:
                row += [
                    f"{change.baseline_count:,} in {change.baseline.label}",
                    narrative.change_text(change.baseline_count, change.count),
                    narrative.format_p(change.p_value),
                ]
            rows.append(row)
            first = False
    notes = []
    for f in found:
        notes += [n for n in _notes(f.series, today) if n not in notes]
    blocks.append(Table("Headline figures", header, rows, notes))
    blocks.extend(Paragraph(s, "note") for s in left_out)
    return Section("Summary", blocks, "summary")


def caveat(
    place: Jurisdiction, lead: Found, strategy_start: dt.date | None, method: str
) -> Section:
    """Before/after is not an effect, said plainly; then the evaluation's own sentence when a
    strategy start is given (issue 16's designs), or where to run one."""
    blocks = [Paragraph(narrative.BEFORE_AFTER_CAVEAT, "caveat")]
    if strategy_start is not None:
        try:
            result, _ = evaluate(
                lead.metric,
                place,
                strategy_start,
                method,
                source=lead.series.source,
            )
            blocks.append(Paragraph(narrative.evaluation_sentence(result, METHOD_NAMES[method])))
        except EvaluationError as exc:
            blocks.append(Paragraph(narrative.evaluation_failed_sentence(place.name, str(exc))))
    else:
        blocks.append(Paragraph(narrative.no_evaluation_sentence(place.name)))
    return Section("What these figures do not show", blocks, "caveat")


def _leads(found: list[Found]) -> list[Found]:
    """One series per metric: the first found (incidents before published counts)."""
    seen, out = set(), []
    for f in found:
        if f.metric.name not in seen:
            seen.add(f.metric.name)
            out.append(f)
    return out


def history(found: list[Found], period: Period, today: dt.date) -> Section | None:
    """The year's rank among the years before it and the series' record, with a chart of the
    annual counts for the first measures."""
    blocks: list = []
    for number, f in enumerate(_leads(found)):
        annual = f.series.annual()
        annual = annual.loc[annual.index <= period.end.year]
        if len(annual) < 2:
            continue
        year = period.start.year
        if period.is_whole_years and period.start.year == period.end.year and year in annual:
            blocks.append(
                Paragraph(
                    narrative.history_sentence(
                        f.metric.label, rank_in_history(annual, year), f.metric.label.lower()
                    )
                )
            )
        blocks.append(Paragraph(narrative.record_sentence(f.metric.label, annual)))
        if number >= CHARTS_SHOWN:
            continue
        shown = annual.iloc[-HISTORY_YEARS_SHOWN:]
        shown_year = year in annual.index
        title = f"{f.metric.label}, {f.series.place}, by year" + (
            f" ({year} in red)" if shown_year else " (complete years)"
        )
        blocks.append(
            Figure(
                title,
                charts.annual_chart(
                    [int(y) for y in shown.index],
                    [int(v) for v in shown.to_numpy()],
                    highlight=year,
                    unit=f.metric.label.lower(),
                    title=title,
                ),
                _notes(f.series, today),
                alt=narrative.record_sentence(f.metric.label, annual),
            )
        )
    if not blocks:
        return None
    return Section("The place in history", blocks, "history")


def year_to_date(found: list[Found], period: Period, today: dt.date) -> Section:
    """A running period: that its comparisons are window for window, and (for a calendar year)
    where the year is heading, with the projection's interval and assumptions."""
    title = "Year to date and projection"
    running = [f for f in _leads(found) if f.running]
    if not running:
        return Section(title, [Paragraph(narrative.period_complete_sentence(period.label))], "ytd")
    year = period.start.year
    calendar_year = period == whole_year(year)
    window = running[0].window.label
    blocks: list = [
        Paragraph(narrative.running_period_sentence(period.label, window, projected=calendar_year))
    ]
    if not calendar_year:
        reason = f"{period.label} is not a calendar year (ask for {year} to see one)"
        blocks.append(Paragraph(narrative.no_projection_sentence(year, reason)))
        return Section(title, blocks, "ytd")
    for f in running:
        series = f.series
        try:
            projection = project_year_end(series.counts, series.last, level=PROJECTION_LEVEL)
        except ValueError as exc:
            blocks.append(Paragraph(narrative.no_projection_sentence(year, str(exc))))
            continue
        blocks.append(
            Paragraph(
                narrative.projection_sentence(f.metric.label, projection)[:-1]
                + f" ({series.coverage(today)})."
            )
        )
    return Section(title, blocks, "ytd")


def rates(found: list[Found], place: Jurisdiction, today: dt.date) -> Section:
    """The period's rate per 100,000 residents, and the last ten years' rates with exact
    intervals for the first measures, where populations are loaded."""
    blocks: list = []
    for number, f in enumerate(_leads(found)):
        series = f.series
        if not series.populations:
            continue
        counted = period_count(series, f.window)
        if counted.rate_per_100k is not None:
            blocks.append(
                Paragraph(
                    narrative.rate_sentence(
                        f.metric.label,
                        counted.count,
                        f.window.label,
                        counted.population,
                        counted.rate_per_100k,
                    )
                )
            )
        if number >= CHARTS_SHOWN:
            continue
        annual = series.annual()
        years = [y for y in annual.index if series.population(int(y))][-RATE_YEARS_SHOWN:]
        rows = []
        for y in years:
            c = period_count(series, whole_year(int(y)))
            low = c.ci_low * 100_000 / c.population
            high = c.ci_high * 100_000 / c.population
            rows.append(
                [
                    str(y),
                    f"{c.count:,}",
                    f"{c.population:,}",
                    f"{c.rate_per_100k:,.1f}",
                    f"{low:,.1f}–{high:,.1f}",
                ]
            )
        if rows:
            blocks.append(
                Table(
                    f"{f.metric.label} per 100,000 residents, {series.place}",
                    ["Year", "Count", "Population", "Rate per 100,000", "95% interval"],
                    rows,
                    _notes(series, today),
                )
            )
    if not blocks:
        blocks.append(Paragraph(narrative.no_rate_sentence(place.name, found[0].window.label)))
    return Section("Rates per 100,000 residents", blocks, "rates")


def group_share(place: Jurisdiction, period: Period, metrics: dict[str, Metric]) -> Section:
    """The group-involved share of shooting incidents whose involvement is recorded (by the
    shooting reviews, on each incident), with its exact interval; else why there is none."""
    metric = metrics[WORKLOAD_METRIC]
    covered = covered_incidents(metric, place)
    title = "Group involvement"
    if covered is None:
        has_incidents = Incident.objects.filter(jurisdiction_id__in=place.descendant_ids()).exists()
        reason = (
            "its incident records hold no shootings"
            if has_incidents
            else "its figures are published counts, which do not record group involvement"
        )
        return Section(
            title,
            [Paragraph(narrative.group_share_unavailable(place.name, period.label, reason))],
            "groups",
        )
    incidents, first, last = covered
    end = min(period.end, last)
    if period.start < first or period.start > last:
        reason = f"the incident records cover {first.isoformat()} to {last.isoformat()}"
        return Section(
            title,
            [Paragraph(narrative.group_share_unavailable(place.name, period.label, reason))],
            "groups",
        )
    rows = dict(
        incidents.filter(occurred_on__gte=period.start, occurred_on__lte=end)
        .values("group_involvement")
        .annotate(n=Count("id"))
        .values_list("group_involvement", "n")
        .order_by()
    )
    yes, no = rows.get("yes", 0), rows.get("no", 0)
    unknown = sum(rows.values()) - yes - no
    window = period.label if end == period.end else f"{period.label} (to {end:%-d %b})"
    if yes + no == 0:
        reason = (
            f"none of its {unknown:,} {metric.label.lower()} has its group involvement recorded "
            "(the shooting reviews record it)"
            if unknown
            else f"no {metric.label.lower()} were recorded"
        )
        return Section(
            title,
            [Paragraph(narrative.group_share_unavailable(place.name, window, reason))],
            "groups",
        )
    interval = binomial_interval(yes, yes + no)
    return Section(
        title,
        [
            Paragraph(
                narrative.group_share_sentence(
                    metric.label, window, yes, yes + no, unknown, interval.low, interval.high
                )
            ),
            Paragraph(
                narrative.figure_note(
                    "Incident records",
                    metric.description + " Group involvement as recorded on each incident.",
                    f"incidents from {first.isoformat()} to {last.isoformat()}",
                ),
                "note",
            ),
        ],
        "groups",
    )


def workload(
    assumptions: WorkloadAssumptions,
    costs: tuple[CostPerShooting, ...],
    place: Jurisdiction,
    period: Period,
    vs: Period,
    metrics: dict[str, Metric],
    today: dt.date,
) -> Section:
    metric = metrics[WORKLOAD_METRIC]
    series = [s for s in all_series(metric, place) if s.resolution != YEAR]
    title = "Police workload"
    if not series:
        return Section(title, [Paragraph(narrative.no_workload_sentence(place.name))], "workload")
    daily = series[0]
    try:
        change = compare_periods(daily, period, vs)
    except SeriesError as exc:
        try:
            now = period_count(daily, comparable_windows(daily, period, period)[0])
        except SeriesError:
            return Section(
                title,
                [Paragraph(narrative.no_comparison_sentence(metric.label, vs.label, str(exc)))],
                "workload",
            )
        hours = officer_hours(now.count, now.period.label, assumptions)
        blocks = [Paragraph(narrative.workload_sentence(hours))]
        blocks.append(Paragraph(narrative.no_comparison_sentence(metric.label, vs.label, str(exc))))
        return Section(title, blocks, "workload")
    now = officer_hours(change.count, change.period.label, assumptions)
    before = officer_hours(change.baseline_count, change.baseline.label, assumptions)
    freed = hours_freed(before, now)
    blocks = [
        Paragraph(narrative.workload_sentence(now)),
        Paragraph(narrative.workload_sentence(before)),
        Paragraph(change.sentence),
        Paragraph(narrative.hours_freed_sentence(freed)),
    ]
    for cost in shooting_costs(now.shootings, costs):
        blocks.append(Paragraph(narrative.cost_sentence(cost, now.period)))
    if freed.fewer > 0:
        for cost in shooting_costs(freed.fewer, costs):
            blocks.append(Paragraph(narrative.cost_sentence(cost, now.period, avoided=True)))
    a = assumptions
    blocks.append(
        Table(
            "Officer-hours tied up by shootings",
            ["Period", "Shooting incidents", "Officers each", "Hours each", "Officer-hours"],
            [
                [
                    h.period,
                    f"{h.shootings:,}",
                    narrative.range_text(a.officers.low, a.officers.high),
                    narrative.range_text(a.hours.low, a.hours.high),
                    narrative.range_text(h.hours.low, h.hours.high),
                ]
                for h in (before, now)
            ],
            [*_notes(daily, today), narrative.workload_note(a.source)],
        )
    )
    return Section(title, blocks, "workload")


def busiest(found: list[Found]) -> Found:
    """The measure to map: of those counted from incidents, the one with most events (fewer
    of its areas fall under the suppression threshold); else the first."""
    counted = [f for f in _leads(found) if f.series.from_incidents]
    return max(counted, key=lambda f: f.count) if counted else found[0]


def areas(place: Jurisdiction, lead: Found, today: dt.date) -> Section:
    """Counts by area in the report's window and the comparison window, suppressed for
    publication (each column with its own total), and a static map."""
    f = lead
    heading = "Maps by area"
    covered = (
        covered_incidents(f.metric, place, source=f.series.source)
        if f.series.from_incidents
        else None
    )
    if covered is None:
        reason = "its figures are published totals for the whole place"
        return Section(
            heading, [Paragraph(narrative.no_areas_sentence(place.name, reason))], "areas"
        )
    areas = list(
        Area.objects.filter(jurisdiction_id__in=place.descendant_ids())
        .order_by("name")
        .values("pk", "name", "boundary")
    )
    if not areas:
        reason = "no areas are defined for it"
        return Section(
            heading, [Paragraph(narrative.no_areas_sentence(place.name, reason))], "areas"
        )
    windows = [f.window] + [c.baseline for c in f.changes[:1]]
    # The metric's incidents inside their sources' recorded coverage, as the series counts.
    incidents = covered[0].filter(area__isnull=False)
    index = {a["pk"]: i for i, a in enumerate(areas)}
    counts = np.zeros((len(areas), len(windows)))
    for j, w in enumerate(windows):
        rows = (
            incidents.filter(occurred_on__gte=w.start, occurred_on__lte=w.end)
            .values("area")
            .annotate(n=count_expression(f.metric))
            .values_list("area", "n")
            .order_by()
        )
        for area_id, n in rows:
            if area_id in index:
                counts[index[area_id], j] = n or 0
    columns = []
    for j in range(len(windows)):
        columns.append(suppress_table(counts[:, j], DEFAULT_THRESHOLD))
    table_rows = []
    for i, a in enumerate(areas):
        table_rows.append([a["name"]] + [c.label(i, 0) for c in columns])
    table_rows.append(["Total"] + [c.label(len(areas), 0) for c in columns])
    # Busiest first; a hidden count sorts as the threshold (it lies between 1 and it).
    shown_now = columns[0].shown()[: len(areas), 0]
    order = sorted(
        range(len(areas)),
        key=lambda i: (
            -(DEFAULT_THRESHOLD if np.isnan(shown_now[i]) else shown_now[i]),
            areas[i]["name"],
        ),
    )
    # Areas with none in either window are counted in a sentence, not listed one by one.
    quiet = [i for i in order if not counts[i].any()]
    table_rows = [table_rows[i] for i in order if counts[i].any()] + [table_rows[-1]]
    window = f.window
    blocks: list = [
        Paragraph(narrative.area_sentence(f.metric.label, window.label, DEFAULT_THRESHOLD))
    ]
    with_shapes = [
        (a["name"], a["boundary"], None if np.isnan(shown_now[i]) else int(shown_now[i]))
        for i, a in enumerate(areas)
        if a["boundary"]
    ]
    notes = _notes(f.series, today)
    if with_shapes:
        title = f"{f.metric.label} by area, {window.label}"
        blocks.append(
            Figure(
                title,
                charts.area_map(with_shapes, unit=f.metric.unit, title=title),
                notes,
                alt=title,
            )
        )
    blocks.append(
        Table(
            f"{f.metric.label} by area",
            ["Area"] + [w.label for w in windows],
            table_rows,
            notes,
        )
    )
    unplaced = f.count - int(counts[:, 0].sum())
    if unplaced > 0:
        blocks.append(
            Paragraph(
                narrative.unplaced_sentence(unplaced, f.count, f.metric.label, window.label),
                "note",
            )
        )
    if quiet:
        blocks.append(
            Paragraph(
                narrative.quiet_areas_sentence(
                    len(quiet), f.metric.label, [w.label for w in windows]
                ),
                "note",
            )
        )
    return Section(heading, blocks, "areas")


# The person fields the report breaks its people down by, in this order.
VICTIM_FIELDS = ("victim_sex", "victim_age_group", "victim_race", "victim_ethnicity")


def victims(place: Jurisdiction, found: list[Found], today: dt.date) -> Section | None:
    """Who was killed or shot in the report's window: the people of each measure counted
    from incidents, by sex, age group, race and (where recorded) ethnicity, one table a
    field, small counts suppressed for publication as in the tables by area. None when no
    measure counts people from incident records."""
    leads = [
        f
        for f in _leads(found)
        if f.series.from_incidents
        and f.series.primary
        and f.metric.unit == "people"
        and not f.metric.published_only
    ]
    if not leads:
        return None
    blocks: list = []
    for f in leads[:CHARTS_SHOWN]:
        window = f.window
        tables = []
        for name in VICTIM_FIELDS:
            found_groups = victim_groups(f.metric, place, name, window.start, window.end)
            if found_groups is None or not len(found_groups.ids):
                continue
            counts = found_groups.counts()
            recorded = [v for v in found_groups.values if v != NOT_RECORDED]
            if name == "victim_ethnicity" and not recorded:
                continue  # a source that keeps no ethnicity apart from race
            column = suppress_table(counts.astype(float), DEFAULT_THRESHOLD)
            rows = [[v, column.label(i, 0)] for i, v in enumerate(found_groups.values)]
            rows.append(["Total", column.label(len(found_groups.values), 0)])
            label = found_groups.field.label
            tables.append(
                Table(
                    f"{f.metric.label} by {label.lower()}, {window.label}",
                    [label, window.label],
                    rows,
                    _notes(f.series, today),
                )
            )
        if tables:
            blocks.append(
                Paragraph(
                    narrative.victims_sentence(f.metric.label, window.label, DEFAULT_THRESHOLD)
                )
            )
            blocks += tables
    if not blocks:
        return None
    return Section("Who was killed or shot", blocks, "victims")


def partners(place: Jurisdiction, period: Period, today: dt.date) -> Section:
    """Program figures of every community partner with a program, as they leave the
    organizations (``gvrs.partners.figures``, docs/disclosure.md): only participants who
    consented to aggregate reporting, every count perturbed, as of the day the report is made.

    Which partners are listed never depends on their participants: a partner is named from
    its first program, whether or not anyone is enrolled, consenting or not, so the report
    says nothing of a participant who refused aggregate reporting, nor of a small count."""
    organizations = list(
        Organization.objects.filter(kind=Organization.Kind.PARTNER, programs__isnull=False)
        .distinct()
        .order_by("name")
    )
    title = "Community partners"
    if not organizations:
        return Section(title, [Paragraph(narrative.no_partner_figures(place.name))], "partners")
    within = deployment_policy().noise.cap
    blocks: list = [Paragraph(narrative.partners_sentence(len(organizations), within))]
    for organization in organizations:
        figures = program_figures(organization, suppress=True, as_of=today)
        prefix = f"{organization.name}: "
        for table, transpose in ((figures.funnel, False), (figures.services, True)):
            programs = [r.removeprefix(prefix) for r in table.rows]
            if transpose:  # many kinds of service, few programs: kinds down the page
                header = [table.title.split(" by ")[-1].capitalize(), *programs]
                rows = [
                    [column, *[cells[j] for cells in table.cells]]
                    for j, column in enumerate(table.columns)
                ]
            else:
                header = ["Program", *table.columns]
                rows = [[r, *cells] for r, cells in zip(programs, table.cells, strict=True)]
            blocks.append(
                Table(
                    f"{organization.name}: {table.title}",
                    header,
                    rows,
                    [narrative.partner_note(organization.name, table.note, today.isoformat())],
                )
            )
    return Section(title, blocks, "partners")


def sources(found: list[Found], imports: dict, place: Jurisdiction, today: dt.date) -> Section:
    """Each series' source, definition, coverage and last import; the populations' sources."""
    blocks: list = []
    seen = set()
    for f in found:
        key = (f.metric.name, f.series.source)
        if key in seen:
            continue
        seen.add(key)
        if f.series.from_incidents:
            when = imports.get(f"{INCIDENTS}:{f.series.source}")
        else:
            when = imports.get(f.series.source)
        blocks.append(
            Paragraph(
                narrative.source_sentence(
                    f"{f.metric.label} — {series_title(f.series)}",
                    f.series.definition,
                    f.series.coverage(today),
                    narrative.imported_phrase(when),
                )
            )
        )
    populations = place.populations.order_by().values_list("source", flat=True).distinct()
    sources = sorted({s for s in populations if s})
    if sources:
        blocks.append(Paragraph(narrative.population_source_sentence(sources)))
    return Section("Sources, definitions and coverage", blocks, "sources")
