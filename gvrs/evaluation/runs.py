"""From the registry to an evaluation: the treated place's series, the comparison places'
(donors), populations and a placebo outcome, as the tables ``gvrs.analysis.evaluation``
takes; shared by ``gvrs evaluate`` and the evaluation page.

A place counted from incidents is evaluated by month, its donors the other places of its
parent (the towns of a county); a place known from published counts (the California DOJ's
annual figures) by year, its donors every other place the same source publishes for.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from django.db.models import Sum

from gvrs.analysis.counts import CountSeries
from gvrs.analysis.evaluation import (
    DonorPool,
    Evaluation,
    EvaluationError,
    difference_in_differences,
    interrupted_time_series,
    select_donors,
    staggered_adoption,
    synthetic_control,
)
from gvrs.analysis.evaluation._core import split_at
from gvrs.data.metrics import Metric
from gvrs.data.panel import Panel
from gvrs.incidents.models import Jurisdiction, Population, PublishedCount
from gvrs.reports.series import all_series, incident_series

METHODS = ("its", "did", "synth", "staggered")
METHOD_NAMES = {
    "its": "Interrupted time series",
    "did": "Difference in differences",
    "synth": "Synthetic control",
    "staggered": "Staggered adoption",
}
# Annual series: this many years before the start unless told otherwise (a log-linear trend
# over four decades of homicides would be a poor counterfactual).
DEFAULT_PRE_YEARS = 20
# Outcomes the strategy should not move, per metric of a published source: (label, metric to
# take, metric to subtract).
PLACEBO_OUTCOMES = {
    "homicides": ("violent crime other than homicide", "violent_crimes", "homicides"),
}


class DonorFileError(ValueError):
    """A donors file naming a place that is not in the registry (with file, line, reason)."""


@dataclass(frozen=True)
class Tables:
    treated: str
    source: str
    definition: str
    counts: pd.DataFrame  # periods x places, the treated place first
    populations: pd.DataFrame | None
    placebo_counts: pd.DataFrame | None
    placebo_label: str
    pool: DonorPool | None
    kind: str = "counts"  # "levels": figures per person (a panel file), compared as they are
    predictors: pd.DataFrame | None = None  # a row per predictor, a column per place
    adoptions: dict[str, dt.date] = field(default_factory=dict)  # column -> start
    ids: dict[str, int] = field(default_factory=dict)  # column -> jurisdiction id (registry)


def read_donor_file(path: Path) -> list[Jurisdiction]:
    """One jurisdiction per line (name, slug or "County > City"); a CSV whose header is
    ``jurisdiction`` works too. Blank lines and lines starting with # are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DonorFileError(f"{path}: cannot read: {exc.strerror}") from None
    found = []
    for number, line in enumerate(lines, start=1):
        name = line.split(",")[0].strip().strip('"')
        if not name or name.startswith("#") or (number == 1 and name == "jurisdiction"):
            continue
        place = _named(name)
        if place is None:
            raise DonorFileError(
                f"{path}: line {number}: jurisdiction={name!r}: no such jurisdiction "
                "(`gvrs jurisdictions --search` lists them)"
            )
        found.append(place)
    if not found:
        raise DonorFileError(f"{path}: names no jurisdiction")
    return found


def read_donor_names(path: Path) -> list[str]:
    """A donors file for a panel: one place name per line, as the panel names them."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DonorFileError(f"{path}: cannot read: {exc.strerror}") from None
    names = []
    for number, line in enumerate(lines, start=1):
        name = line.split(",")[0].strip().strip('"')
        if name and not name.startswith("#") and not (number == 1 and name == "place"):
            names.append(name)
    if not names:
        raise DonorFileError(f"{path}: names no place")
    return names


def _named(name: str) -> Jurisdiction | None:
    if ">" in name:
        *parents, last = [part.strip() for part in name.split(">")]
        match = Jurisdiction.objects.filter(name__iexact=last, parent__name__iexact=parents[-1])
        return match.first() if match.count() == 1 else None
    try:
        return Jurisdiction.objects.named(name)
    except (Jurisdiction.DoesNotExist, Jurisdiction.MultipleObjectsReturned):
        return None


def _labels(places: list[Jurisdiction]) -> dict[int, str]:
    """A column name per place: its name, with its parent's where two share a name."""
    names = pd.Series([p.name for p in places])
    twice = set(names[names.duplicated()])
    return {
        p.pk: f"{p.name} ({p.parent.name})" if p.name in twice and p.parent else p.name
        for p in places
    }


def _monthly(series: CountSeries) -> pd.Series:
    """Whole calendar months inside the series' coverage."""
    months = series.counts.resample("MS").sum()
    first = pd.Timestamp(series.first)
    last = pd.Timestamp(series.last)
    whole = (months.index >= first) & (months.index + pd.offsets.MonthEnd(0) <= last)
    return months[whole].astype("int64")


def _monthly_populations(place_years: dict[int, int], months: pd.DatetimeIndex) -> pd.Series:
    return pd.Series([place_years.get(y, np.nan) for y in months.year], index=months, dtype=float)


def incident_tables(
    metric: Metric,
    jurisdiction: Jurisdiction,
    donors: list[Jurisdiction] | None,
    source: str | None = None,
) -> Tables:
    """The place's monthly counts from one incident source (by default its primary one)
    and its comparison places' from the same source: never two sources summed."""
    treated = incident_series(metric, jurisdiction, source=source)
    if treated is None:
        raise EvaluationError(f"no incidents for {jurisdiction}")
    if donors is None:
        if jurisdiction.parent is None:
            donors = []
        else:
            donors = list(
                Jurisdiction.objects.filter(parent=jurisdiction.parent)
                .exclude(pk=jurisdiction.pk)
                .order_by("name")
            )
    labels = _labels([jurisdiction, *donors])
    own = _monthly(treated)
    columns = {labels[jurisdiction.pk]: own}
    people = {labels[jurisdiction.pk]: _monthly_populations(treated.populations, own.index)}
    # One grouped query per comparison place (a county has a handful of towns).
    for place in donors:
        series = incident_series(metric, place, as_of=treated.last, source=treated.source)
        if series is None:
            continue
        columns[labels[place.pk]] = _monthly(series).reindex(own.index)
        people[labels[place.pk]] = _monthly_populations(series.populations, own.index)
    counts = pd.DataFrame(columns)
    populations = pd.DataFrame(people)
    if populations.isna().any().any():
        populations = None
    return Tables(
        ids={labels[p.pk]: p.pk for p in [jurisdiction, *donors] if labels[p.pk] in counts},
        treated=labels[jurisdiction.pk],
        source=treated.source,
        definition=treated.definition,
        counts=counts,
        populations=populations,
        placebo_counts=None,
        placebo_label="",
        pool=None,
    )


def _published_wide(metric_name: str, source: str, ids: list[int] | None = None) -> pd.DataFrame:
    """Years x jurisdiction id of one source's figures, in one query."""
    rows = PublishedCount.objects.filter(metric=metric_name, source=source)
    if ids is not None:
        rows = rows.filter(jurisdiction_id__in=ids)
    frame = pd.DataFrame(
        list(
            rows.values("jurisdiction_id", "period_start__year")
            .annotate(n=Sum("count"))
            .values_list("jurisdiction_id", "period_start__year", "n")
        ),
        columns=["place", "year", "n"],
    )
    return frame.pivot(index="year", columns="place", values="n").astype(float)


def published_tables(
    metric: Metric,
    jurisdiction: Jurisdiction,
    source: str,
    donors: list[Jurisdiction] | None,
) -> Tables:
    series = [
        s
        for s in all_series(metric, jurisdiction, source=source)
        if s.source == source and not s.from_incidents
    ]
    if not series:
        raise EvaluationError(f"no {metric.name} figures for {jurisdiction} from {source}")
    own = series[0].counts.astype(float)
    own.index = own.index.astype(int)
    related = set(jurisdiction.descendant_ids())
    parent = jurisdiction.parent
    while parent is not None:
        related.add(parent.pk)
        parent = parent.parent
    wide = _published_wide(metric.name, source, None if donors is None else [d.pk for d in donors])
    if donors is None and jurisdiction.parent is not None:
        # Agencies of the same county share the place's streets and gangs: a strategy spills
        # over onto them, so they are no control unless named (--donors FILE).
        related |= set(
            Jurisdiction.objects.filter(parent=jurisdiction.parent).values_list("pk", flat=True)
        )
    wide = wide.drop(columns=[c for c in wide.columns if c in related])
    if donors is not None:
        # In the order named; a place without figures shows up as gaps (and is left out).
        wide = wide.reindex(columns=[d.pk for d in donors if d.pk not in related])
    places = {p.pk: p for p in Jurisdiction.objects.filter(pk__in=list(wide.columns))}
    labels = _labels([jurisdiction, *places.values()])
    treated = labels[jurisdiction.pk]
    counts = pd.concat([own.rename(treated), wide.rename(columns=labels)], axis=1)
    counts = counts.reindex(own.index)
    pops = pd.DataFrame(
        list(
            Population.objects.filter(
                jurisdiction_id__in=[jurisdiction.pk, *wide.columns]
            ).values_list("jurisdiction_id", "year", "population")
        ),
        columns=["place", "year", "population"],
    )
    populations = None
    if not pops.empty:
        table = pops.pivot(index="year", columns="place", values="population").rename(
            columns=labels
        )
        table = table.reindex(index=counts.index, columns=counts.columns)
        if not table.isna().any().any():
            populations = table.astype(float)
    placebo_counts, placebo_label = None, ""
    if metric.name in PLACEBO_OUTCOMES:
        placebo_label, total, part = PLACEBO_OUTCOMES[metric.name]
        ids = [jurisdiction.pk, *wide.columns]
        other = _published_wide(total, source, ids) - _published_wide(part, source, ids)
        if jurisdiction.pk in other.columns:
            placebo_counts = other.rename(columns=labels).reindex(
                index=counts.index, columns=counts.columns
            )
    return Tables(
        ids={labels[pk]: pk for pk in [jurisdiction.pk, *places]},
        treated=treated,
        source=source,
        definition=series[0].definition,
        counts=counts,
        populations=populations,
        placebo_counts=placebo_counts,
        placebo_label=placebo_label,
        pool=None,
    )


def choose_source(
    metric: Metric, jurisdiction: Jurisdiction, source: str | None
) -> tuple[str, bool]:
    """(source, whether it is an incident source): the place's primary incident source
    where it has one, else its first published source; ``source`` picks one."""
    found = all_series(metric, jurisdiction, source=source)
    if not found:
        raise EvaluationError(
            f"no {metric.name} data for {jurisdiction}"
            + (f" from source {source!r}" if source else "")
        )
    return found[0].source, found[0].from_incidents


def evaluate(
    metric: Metric,
    jurisdiction: Jurisdiction,
    start: dt.date,
    method: str,
    *,
    donors: list[Jurisdiction] | None = None,
    source: str | None = None,
    since: dt.date | None = None,
    level: float = 0.9,
    predictors: pd.DataFrame | None = None,
) -> tuple[Evaluation, Tables]:
    """Run ``method`` for ``metric`` in ``jurisdiction`` from ``start``. ``donors`` None
    means automatic: places of similar size and pre-period path (``select_donors``).
    ``predictors`` (a row per predictor, a column per place name) make the synthetic
    control match them (``read_predictors``)."""
    if method not in METHODS:
        raise EvaluationError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    source, counted = choose_source(metric, jurisdiction, source)
    if counted:
        tables = incident_tables(metric, jurisdiction, donors, source)
    else:
        tables = published_tables(metric, jurisdiction, source, donors)
        if since is None:
            since = dt.date(start.year - DEFAULT_PRE_YEARS, 1, 1)
    if predictors is not None:
        tables = replace(tables, predictors=predictors)
    tables = replace(tables, adoptions=registry_adoptions(tables.ids, but=jurisdiction.pk))
    if method == "staggered":
        return registry_staggered(tables, start, since=since, level=level, label=metric.label)
    question = Question(
        start=start,
        method=method,
        level=level,
        label=metric.label.lower(),
        place=jurisdiction.name,
        since=since,
        donors="auto" if donors is None else "named",
    )
    return run(tables, question)


@dataclass(frozen=True)
class Question:
    """What is asked of the tables: the design, its start, and how donors are chosen
    ("auto": by size and path; "named": as given; "all": every other place)."""

    start: dt.date
    method: str
    level: float = 0.9
    label: str = ""
    place: str = ""
    since: dt.date | None = None
    donors: str = "auto"
    outcome_only: bool = False


def registry_adoptions(ids: dict[str, int], *, but: int | None = None) -> dict[str, dt.date]:
    """The first recorded start (``gvrs strategies``) of each place of the tables."""
    from gvrs.evaluation.models import Strategy

    by_id = {pk: label for label, pk in ids.items() if pk != but}
    found: dict[str, dt.date] = {}
    rows = Strategy.objects.filter(jurisdiction_id__in=list(by_id)).order_by("start")
    for place_id, start in rows.values_list("jurisdiction_id", "start"):
        found.setdefault(by_id[place_id], start)
    return found


def registry_staggered(
    tables: Tables, start: dt.date, *, since: dt.date | None, level: float, label: str
) -> tuple[Evaluation, Tables]:
    """The place and every comparison place of the registry evaluated together: the
    place's own start with every start the registry records for the others (``gvrs
    strategies``), each cohort against the places not yet treated. Places with gaps in the
    window are left out."""
    counts = tables.counts
    keep = _period_starts(counts.index) >= pd.Timestamp(since or dt.date.min)
    counts = counts.loc[keep]
    counts = counts.loc[:, ~counts.isna().any()]
    if tables.treated not in counts.columns:
        raise EvaluationError(f"{tables.treated} has gaps in the window")
    starts = {k: v for k, v in tables.adoptions.items() if k in counts.columns}
    starts[tables.treated] = start
    result = staggered_adoption(
        counts, starts, scale="ratio", level=level, label=label[:1].lower() + label[1:]
    )
    return result, replace(tables, counts=counts)


def evaluate_panel(
    panel: Panel,
    place: str,
    start: dt.date,
    method: str,
    *,
    donors: list[str] | str = "all",
    since: dt.date | None = None,
    level: float = 0.9,
    predictors: pd.DataFrame | None = None,
    adoptions: dict[str, dt.date] | None = None,
    outcome_only: bool = False,
) -> tuple[Evaluation, Tables]:
    """Run ``method`` on a panel file (``gvrs evaluate --panel``) for ``place`` from
    ``start``. Donors: "all" other places of the file (default), "auto" (by size and
    path), or a list of names. Predictors given here are added to the mapping's."""
    if method not in METHODS:
        raise EvaluationError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if method == "staggered":
        place = place or None
    tables = panel_tables(panel, place, None if isinstance(donors, str) else donors)
    found = [t for t in (panel.predictors, predictors) if t is not None]
    if outcome_only:
        found = []
    if found:
        tables = replace(tables, predictors=pd.concat(found))
    tables = replace(tables, adoptions={**panel.adoptions, **(adoptions or {})})
    if method == "staggered":
        return staggered(panel, tables, level=level, since=since, place=place)
    question = Question(
        start=start,
        method=method,
        level=level,
        label=panel.label[:1].lower() + panel.label[1:],
        place=place,
        since=since,
        donors=donors if isinstance(donors, str) else "named",
        outcome_only=outcome_only,
    )
    return run(tables, question)


def staggered(
    panel: Panel,
    tables: Tables,
    *,
    level: float,
    since: dt.date | None,
    place: str = "",
    scale: str | None = None,
    controls: str = "not-yet-treated",
) -> tuple[Evaluation, Tables]:
    """Every adoption of the panel evaluated together (Callaway & Sant'Anna): levels are
    weighted by population (figures per person add up to totals), on the log scale when
    every figure is above 0; counts are compared as totals."""
    if not tables.adoptions:
        raise EvaluationError(
            "no adoptions: give --adoptions FILE (place, start) or a treated column in the "
            "panel mapping"
        )
    values = panel.values
    keep = _period_starts(values.index) >= pd.Timestamp(since or dt.date.min)
    values = values.loc[keep]
    weights = None
    if panel.populations is not None and panel.kind == "levels":
        weights = panel.populations.loc[keep].mean()
    if scale is None:
        positive = bool((values.to_numpy() > 0).all())
        scale = "log" if panel.kind == "levels" and positive else "ratio"
    result = staggered_adoption(
        values,
        tables.adoptions,
        weights=weights,
        scale=scale,
        controls=controls,
        level=level,
        label=panel.label[:1].lower() + panel.label[1:],
        place=place,
    )
    return result, replace(tables, counts=values)


def panel_tables(panel: Panel, place: str | None, donors: list[str] | None) -> Tables:
    """The panel as the designs take it: ``place`` first, then the donors (every other
    place, or those named, in order)."""
    names = list(panel.values.columns)
    if place is None:
        return Tables(
            treated="",
            source=panel.source,
            definition=panel.label,
            counts=panel.values,
            populations=panel.populations,
            placebo_counts=None,
            placebo_label="",
            pool=None,
            kind=panel.kind,
        )
    if place not in names:
        raise EvaluationError(
            f"{place!r} is not a place of the panel {panel.source} "
            f"(it has: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''})"
        )
    if donors is None:
        others = [n for n in names if n != place]
    else:
        unknown = [d for d in donors if d not in names]
        if unknown:
            raise EvaluationError(f"not places of the panel {panel.source}: {', '.join(unknown)}")
        others = [d for d in donors if d != place]
    columns = [place, *others]
    populations = None
    if panel.populations is not None:
        populations = panel.populations[columns]
    return Tables(
        treated=place,
        source=panel.source,
        definition=panel.label,
        counts=panel.values[columns],
        populations=populations,
        placebo_counts=None,
        placebo_label="",
        pool=None,
        kind=panel.kind,
    )


def run(tables: Tables, question: Question) -> tuple[Evaluation, Tables]:
    """One design on the tables, the donors chosen as ``question`` says, places that
    adopted a strategy before or during the window left out of the comparison."""
    start, method = question.start, question.method
    counts, populations, placebo = tables.counts, tables.populations, tables.placebo_counts
    keep = _period_starts(counts.index) >= pd.Timestamp(question.since or dt.date.min)
    counts = counts.loc[keep]
    populations = None if populations is None else populations.loc[keep]
    placebo = None if placebo is None else placebo.loc[keep]
    if placebo is not None and placebo[tables.treated].isna().any():
        placebo = None
    treated = tables.treated
    # Levels (figures per person) are compared as they are; a population then weighs.
    offsets = populations if tables.kind == "counts" else None
    common = {"level": question.level, "label": question.label, "place": question.place}
    if placebo is not None:
        common |= {"placebo_label": tables.placebo_label}
    if method == "its":
        result = interrupted_time_series(
            counts[treated],
            start,
            populations=None if offsets is None else offsets[treated],
            placebo_counts=None if placebo is None else placebo[treated],
            **common,
        )
        return result, tables
    if question.donors == "auto":
        pool = select_donors(counts, treated, start, populations=populations)
    else:
        pool = _named_pool(counts, treated, start)
    pool = _without_adopters(pool, tables.adoptions, counts.index, treated)
    if not pool.donors:
        raise EvaluationError(
            f"no comparison places for {question.place or treated}: give --donors FILE"
            + (f" (left out: {_reasons(pool)})" if pool.excluded else "")
        )
    columns = [treated, *pool.donors]
    if placebo is not None and placebo[columns].isna().any().any():
        placebo = None
        common.pop("placebo_label", None)
    extra = {}
    if method == "synth":
        extra["scale"] = "levels" if tables.kind == "levels" else "pre-mean"
        if tables.predictors is not None and not question.outcome_only:
            extra["predictors"] = tables.predictors
    run_design = difference_in_differences if method == "did" else synthetic_control
    result = run_design(
        counts[columns],
        treated,
        start,
        populations=None if offsets is None else offsets[columns],
        placebo_counts=None if placebo is None else placebo[columns],
        **common,
        **extra,
    )
    return result, replace(tables, pool=pool)


def _without_adopters(
    pool: DonorPool, adoptions: dict[str, dt.date], index: pd.Index, treated: str
) -> DonorPool:
    """A place whose own strategy began before the window ends is no comparison: its counts
    after that carry its own effect (and before the window, another regime)."""
    if not adoptions:
        return pool
    starts = _period_starts(index)
    step = (
        pd.DateOffset(years=1) if pd.api.types.is_integer_dtype(index) else pd.DateOffset(months=1)
    )
    end = (starts[-1] + step).date()
    kept, excluded = [], dict(pool.excluded)
    for donor in pool.donors:
        began = adoptions.get(str(donor))
        if donor != treated and began is not None and began < end:
            excluded[donor] = f"its own strategy began {began.isoformat()}, inside the window"
        else:
            kept.append(donor)
    return DonorPool(tuple(kept), excluded)


def _named_pool(counts: pd.DataFrame, treated: str, start: dt.date) -> DonorPool:
    """Donors named by the user are all kept, except those the data cannot use."""
    keep, post = split_at(counts.index, start)
    kept, excluded = [], {}
    for place in counts.columns:
        if place == treated:
            continue
        if counts.loc[keep, place].isna().any():
            excluded[place] = "has gaps in the period"
        elif counts.loc[keep & ~post, place].sum() <= 0:
            excluded[place] = "no events before the start"
        else:
            kept.append(place)
    return DonorPool(tuple(kept), excluded)


def _reasons(pool: DonorPool) -> str:
    items = list(pool.excluded.items())
    text = "; ".join(f"{k}: {v}" for k, v in items[:5])
    return text + (f"; and {len(items) - 5} more" if len(items) > 5 else "")


def _period_starts(index: pd.Index) -> pd.DatetimeIndex:
    if pd.api.types.is_integer_dtype(index):
        return pd.to_datetime([f"{int(y)}-01-01" for y in index])
    return pd.DatetimeIndex(index)


def _finite(value):
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def record(result: Evaluation, tables: Tables, metric: Metric | str) -> dict:
    """The JSON record of ``gvrs evaluate`` (docs/evaluation.md): the contract's keys first,
    then what each design adds. ``metric`` is the metric, or a panel's label."""
    out = {
        "method": result.method,
        "effect_ratio": _finite(result.effect_ratio),
        "ci_low": _finite(result.ci_low),
        "ci_high": _finite(result.ci_high),
        "p_value": _finite(result.p_value),
        "pre_fit": _finite(result.pre_fit),
        "placebo_rank": result.placebo_rank,
        "assumptions": list(result.assumptions),
        "sentence": result.sentence,
        "jurisdiction": result.place,
        "metric": metric if isinstance(metric, str) else metric.name,
        "source": tables.source,
        "start": result.start.isoformat(),
        "resolution": result.resolution,
        "level": result.level,
        "first_period": str(_label(_periods(result, tables)[0])),
        "last_period": str(_label(_periods(result, tables)[-1])),
        "claims_effect": result.claims_effect,
        "pre_trend_p": _finite(result.pre_trend_p),
        "placebo_count": result.placebo_count,
        "placebo_p": _finite(result.placebo_p),
        "placebo_outcome": None
        if result.placebo_outcome is None
        else {
            "label": result.placebo_outcome.label,
            "effect_ratio": _finite(result.placebo_outcome.effect_ratio),
            "ci_low": _finite(result.placebo_outcome.ci_low),
            "ci_high": _finite(result.placebo_outcome.ci_high),
        },
    }
    if tables.pool is not None:
        out["donors"] = list(tables.pool.donors)
        out["donors_left_out"] = {str(k): v for k, v in tables.pool.excluded.items()}
    if "weights" in result.details:
        out["weights"] = {k: round(v, 4) for k, v in result.details["weights"].items() if v > 1e-4}
    if "predictor_importance" in result.details:
        balance = result.details["predictor_balance"]
        out["predictor_balance"] = [
            {
                "predictor": name,
                "importance": round(result.details["predictor_importance"][name], 4),
                "treated": _finite(row.treated),
                "synthetic": _finite(row.synthetic),
                "donor_mean": _finite(row.donor_mean),
            }
            for name, row in zip(balance.index, balance.itertuples(), strict=True)
        ]
    if result.method == "staggered":
        twfe = result.details["twfe"]
        out["cohorts"] = [
            {**row, "ci_low": _finite(row["ci_low"]), "ci_high": _finite(row["ci_high"])}
            for row in result.details["cohorts"]
        ]
        out["controls"] = result.details["controls"]
        out["control_group"] = result.details["control_group"]
        out["scale"] = result.details["scale"]
        out["treated_places"] = result.details["treated_places"]
        out["left_out"] = result.details["left_out"]
        out["twfe"] = {k: _finite(v) if isinstance(v, float) else v for k, v in twfe.items()}
    if "fit_too_good" in result.details:
        out["fit_too_good"] = result.details["fit_too_good"]
    if "conformal" in result.details:
        out["conformal_permutations"] = result.details["conformal"]
    if "event_study" in result.details:
        study = result.details["event_study"]
        if "event_study_reference" in result.details:
            out["event_study_reference"] = result.details["event_study_reference"]
        out["event_study"] = [
            {
                "years_from_start": int(r.years_from_start),
                "ratio": _finite(r.ratio),
                "ci_low": _finite(r.low),
                "ci_high": _finite(r.high),
            }
            for r in study.itertuples()
        ]
    return out


def _periods(result: Evaluation, tables: Tables) -> pd.Index:
    """The data's periods (a staggered design's path runs by years since each start)."""
    if result.method == "staggered":
        return tables.counts.index
    return pd.Index(result.path["period"])


def _label(period) -> str:
    return period.strftime("%Y-%m") if isinstance(period, pd.Timestamp) else str(period)


def figures(result: Evaluation, metric: Metric | str) -> dict:
    """Plotly figures as plain JSON: actual against counterfactual with its band, and (for
    difference in differences) the event study."""
    import json

    import plotly.graph_objects as go

    label = metric if isinstance(metric, str) else metric.label
    path = result.path
    x = [_label(p) for p in path["period"]]
    band = f"{result.level:.0%} band"
    chart = go.Figure()
    chart.add_trace(
        go.Scatter(
            x=x, y=path["high"], mode="lines", line={"width": 0}, hoverinfo="skip", showlegend=False
        )
    )
    chart.add_trace(
        go.Scatter(
            x=x,
            y=path["low"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(120,120,200,0.25)",
            name=f"counterfactual, {band}",
        )
    )
    chart.add_trace(
        go.Scatter(
            x=x,
            y=path["counterfactual"],
            mode="lines",
            name="counterfactual",
            line={"dash": "dash", "color": "#4455aa"},
        )
    )
    chart.add_trace(
        go.Scatter(
            x=x,
            y=path["actual"],
            mode="lines+markers",
            name="actual",
            line={"color": "#b22222"},
            marker={"size": 5},
        )
    )
    first_post = x[int(np.argmax(path["post"].to_numpy()))]
    chart.add_shape(
        type="line",
        x0=first_post,
        x1=first_post,
        y0=0,
        y1=1,
        yref="paper",
        line={"color": "#444", "dash": "dot"},
    )
    chart.update_layout(
        margin={"l": 40, "r": 10, "t": 60, "b": 40},
        legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
        yaxis={"title": f"{label.lower()} per {result.resolution}", "rangemode": "tozero"},
    )
    out = {"path": json.loads(chart.to_json())}
    if "event_study" in result.details:
        study = result.details["event_study"]
        events = go.Figure(
            go.Scatter(
                x=study["years_from_start"],
                y=study["ratio"],
                mode="markers",
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": study["high"] - study["ratio"],
                    "arrayminus": study["ratio"] - study["low"],
                },
                name="rate ratio",
            )
        )
        events.add_hline(y=1, line={"color": "#444", "dash": "dot"})
        events.update_layout(
            xaxis={"title": "years from the start", "dtick": 1},
            yaxis={"type": "log"},
            margin={"l": 40, "r": 10, "t": 20, "b": 40},
        )
        out["event_study"] = json.loads(events.to_json())
    return out


def remember(jurisdiction: Jurisdiction, out: dict, *, made_by: str, question: tuple = ()) -> None:
    """Keep an evaluation's record (``record``'s output) for the API: one row per question
    and registry version, the latest answer kept."""
    import hashlib

    from django.utils import timezone

    from gvrs.evaluation.models import EvaluationRun
    from gvrs.incidents.versions import registry_version

    parts = (jurisdiction.pk, out["metric"], out["method"], out["start"], out["source"])
    parts += (out["level"], *question)
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    EvaluationRun.objects.update_or_create(
        question=digest,
        registry_version=registry_version(),
        defaults={
            "place_id": jurisdiction.pk,
            "place_slug": jurisdiction.slug,
            "place_name": jurisdiction.name,
            "metric": out["metric"],
            "method": out["method"],
            "start": out["start"],
            "source": out["source"],
            "record": out,
            "computed_at": timezone.now(),
            "made_by": made_by[:150],
        },
    )
