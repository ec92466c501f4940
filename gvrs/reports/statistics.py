"""The records of ``gvrs stats``, ``gvrs compare`` and ``gvrs project``, computed once for every
face: the commands print them, the API serves them. Keys are a documented contract
(docs/statistics.md): the API and the commands' JSON carry the same ones.

Each function takes a place and a metric already resolved and raises ``StatisticsError`` with
a message for the reader: ``usage`` says whether the question was malformed (a period that
does not parse; the command's exit code 2, the API's 400) or the data cannot answer it
(exit code 1, the API's 404).
"""

from __future__ import annotations

import datetime as dt

from gvrs.analysis.counts import (
    Change,
    CountSeries,
    PeriodCount,
    SeriesError,
    compare_periods,
    compare_published_windows,
    count_in,
    counts_by,
)
from gvrs.analysis.history import rank_in_history
from gvrs.analysis.narrative import projection_sentence
from gvrs.analysis.periods import Period, PeriodError, parse_period, previous, year
from gvrs.analysis.projection import project_year_end
from gvrs.data.metrics import Metric
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.incidents.people import PersonFieldError
from gvrs.reports.series import INCIDENTS, all_series, breakdown_series, published_window


class StatisticsError(ValueError):
    """A question the data cannot answer (``usage`` False) or a malformed one (True)."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


def record(item: PeriodCount | Change, jurisdiction: str, series=None) -> dict:
    """The stable JSON record (docs/statistics.md); a Change adds what it was compared with,
    and a series its coverage (``data_from``, ``data_through``, ``coverage``)."""
    out = {
        "metric": item.metric,
        "jurisdiction": jurisdiction,
        "source": item.source,
        "period": item.period.label,
        "period_start": item.period.start.isoformat(),
        "period_end": item.period.end.isoformat(),
        "count": item.count,
        "rate_per_100k": item.rate_per_100k,
        "ci_low": item.ci_low,
        "ci_high": item.ci_high,
    }
    if isinstance(item, Change):
        out.update(
            {
                "vs_period": item.baseline.label,
                "vs_count": item.baseline_count,
                "change": item.change,
                "change_pct": None if item.change_pct is None else round(item.change_pct, 1),
                "p_value": item.p_value,
                "sentence": item.sentence,
            }
        )
    else:
        out["complete"] = item.complete
    if series is not None:
        # "incidents" (counted from the incident source ``source`` names) or "published".
        out["source_type"] = series.kind
        out["data_from"] = series.first.isoformat()
        out["data_through"] = series.covered_through.isoformat()
        out["coverage"] = series.coverage()
    return out


def find_series(
    metric: Metric,
    jurisdiction: Jurisdiction,
    *,
    area: Area | None = None,
    as_of: dt.date | None = None,
    source: str | None = None,
) -> list[CountSeries]:
    """Every series of the metric for the place (the primary one first), or "no data"."""
    if metric.ratio:
        raise StatisticsError(
            f"{metric.name} is a proportion of two series: see it with gvrs stats", usage=True
        )
    found = all_series(metric, jurisdiction, area=area, as_of=as_of, source=source)
    if not found:
        raise StatisticsError(
            f"no {metric.name} data for {jurisdiction}"
            + (f" from source {source!r}" if source else "")
        )
    return found


def breakdown_records(
    metric: Metric,
    jurisdiction: Jurisdiction,
    field: str,
    by: str,
    start: dt.date | None = None,
    end: dt.date | None = None,
    *,
    area: Area | None = None,
    as_of: dt.date | None = None,
    where: dict[str, list[str]] | None = None,
    source: str | None = None,
) -> list[dict]:
    """``gvrs stats --by FIELD``: the records of ``series_records`` for each value of the
    person field, each with the key ``FIELD`` naming its value (incident records only:
    published counts hold no people)."""
    if metric.ratio or metric.published_only:
        raise StatisticsError(
            f"{metric.name} is published by others, who give no people to break it down by",
            usage=True,
        )
    try:
        found = breakdown_series(
            metric, jurisdiction, field, area=area, as_of=as_of, where=where, source=source
        )
    except PersonFieldError as exc:
        raise StatisticsError(str(exc), usage=True) from None
    if not found:
        raise StatisticsError(f"no {metric.name} data for {jurisdiction}")
    records = []
    for value, series in found:
        for item in series_records(series, by, start, end):
            records.append({**item, field: value})
    return records


def period_of(text: str, as_of: dt.date) -> Period:
    try:
        return parse_period(text, as_of)
    except PeriodError as exc:
        raise StatisticsError(str(exc), usage=True) from None


def series_records(
    series: CountSeries, by: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[dict]:
    """``gvrs stats``' records of one series: each period's count with its exact interval,
    the change on the period before with its test, and (by year) its place in history."""
    try:
        rows = counts_by(series, by, start, end)
    except SeriesError as exc:
        raise StatisticsError(str(exc), usage=True) from None
    annual = series.annual()
    records = []
    for row in rows:
        item = record(row, series.place, series)
        before = previous(row.period)
        try:
            # A partial period is compared over the same window of the one before.
            change = compare_periods(series, row.period, before)
        except SeriesError:
            change = None
        if change is not None:
            compared = record(change, series.place)
            item.update(
                {
                    k: compared[k]
                    for k in ("change", "change_pct", "p_value", "sentence", "vs_count")
                }
            )
            item["vs_period"] = compared["vs_period"]
            if change.period != row.period:
                item["compared_window"] = compared["period"]
        if by == "year" and row.period.start.year in annual.index:
            item["history"] = rank_in_history(annual, row.period.start.year).phrase
        records.append(item)
    return records


def compare_records(
    metric: Metric,
    jurisdiction: Jurisdiction,
    period_text: str,
    vs_text: str,
    *,
    area: Area | None = None,
    as_of: dt.date | None = None,
    source: str | None = None,
    series: list[CountSeries] | None = None,
) -> tuple[list[dict], list[str]]:
    """``gvrs compare``'s records: one change per source with its exact test, and the
    sources that could not be compared (with why). Published figures for exactly the two
    windows (a source's year to date and its same window a year before) are compared as
    they stand. ``series``: the series to compare, as a reader may see them (the disclosure
    policy's), instead of the registry's own."""
    windows = _published_windows(metric, jurisdiction, area, period_text, vs_text, as_of, source)
    if series is not None:
        found = series
    elif windows:
        found = all_series(metric, jurisdiction, as_of=as_of, source=source)
    else:
        found = find_series(metric, jurisdiction, area=area, as_of=as_of, source=source)
    records = [_window_record(change) for change in windows]
    done = {change.source for change in windows}
    problems = []
    for one in found:
        if one.source in done:
            continue
        last = min(as_of, one.last) if as_of else one.last
        period = period_of(period_text, last)
        baseline = period_of(vs_text, last)
        try:
            records.append(record(compare_periods(one, period, baseline), one.place, one))
        except SeriesError as exc:
            if len(found) == 1 and not records:
                raise StatisticsError(str(exc), usage=True) from None
            problems.append(f"{one.source}: {exc}")
    return records, problems


def _published_windows(metric, jurisdiction, area, period_text, vs_text, as_of, source) -> list:
    if area is not None or source == INCIDENTS:
        return []
    as_of = as_of or dt.date.today()
    period = period_of(period_text, as_of)
    baseline = period_of(vs_text, as_of)
    now = published_window(metric, jurisdiction, period.start, period.end)
    before = published_window(metric, jurisdiction, baseline.start, baseline.end)
    if period.label.isdigit() and baseline.label.isdigit():
        return []  # whole years come from the annual series
    sources = sorted(set(now) & set(before))
    if source:
        sources = [s for s in sources if s == source]
    return [
        compare_published_windows(
            metric=metric.name,
            label=metric.label,
            place=jurisdiction.name,
            source=name,
            period=period,
            baseline=baseline,
            count=now[name],
            baseline_count=before[name],
        )
        for name in sources
    ]


def _window_record(change) -> dict:
    """A published window comparison's record: its coverage is the two windows themselves."""
    out = record(change, change.place)
    out["source_type"] = "published"
    out["data_from"] = change.baseline.start.isoformat()
    out["data_through"] = change.period.end.isoformat()
    out["coverage"] = (
        f"published for {change.baseline.start}..{change.baseline.end} "
        f"and {change.period.start}..{change.period.end}"
    )
    return out


def projection_record(
    metric: Metric,
    jurisdiction: Jurisdiction,
    *,
    as_of: dt.date | None = None,
    source: str | None = None,
    level: float = 0.90,
    series: CountSeries | None = None,
) -> dict:
    """``gvrs project``'s record: the year-end total projected from the year to date, with
    its prediction interval; a year that is over has nothing to project. ``series``: the
    series as a reader may see it (the disclosure policy's), instead of the registry's."""
    source = source or INCIDENTS
    given = series
    if series is None:
        series = find_series(metric, jurisdiction, as_of=as_of, source=source)[0]
    # Never past the data: a year to date counted to an earlier end would undercount.
    as_of = min(as_of or series.last, series.last)
    if series.year_is_over(as_of.year, jurisdiction.today()):
        whole = year(as_of.year)
        if series.covered_through >= whole.end and given is None:
            uncut = find_series(metric, jurisdiction, source=source)[0]
            known = f"{count_in(uncut, whole):,} {metric.label.lower()} in {as_of.year}"
        elif series.covered_through >= whole.end:
            known = "its figures are on the series"
        else:
            known = f"the data stop on {series.covered_through.isoformat()}"
        raise StatisticsError(
            f"{series.place}: {as_of.year} is over ({series.coverage()}): {known}; "
            "nothing to project"
        )
    try:
        result = project_year_end(series.counts, as_of, level=level)
    except ValueError as exc:
        raise StatisticsError(f"{jurisdiction}: {exc}") from None
    return {
        "metric": metric.name,
        "jurisdiction": series.place,
        "source": series.source,
        "source_type": series.kind,
        "period": f"{result.year}",
        "as_of": as_of.isoformat(),
        "count": result.ytd_count,
        "projected": result.projected,
        "pi_low": result.low,
        "pi_high": result.high,
        "level": result.level,
        "share_elapsed": result.share_elapsed,
        "prior_years": list(result.prior_years),
        "record_high": result.record_high,
        "record_high_year": result.record_high_year,
        "p_exceed_record": result.p_exceed_record,
        "p_lowest_in": {str(k): v for k, v in result.p_lowest_in.items()},
        "sentence": projection_sentence(metric.label, result),
        "model": result.model,
        "data_through": series.covered_through.isoformat(),
        "coverage": series.coverage(),
    }
