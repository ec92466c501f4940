"""The simulated county as the weekly shooting review sees it, and retaliation alerts measured
against the simulator's truth.

The review knows each homicide and nonfatal shooting, its area and, where the police record
says it was group-involved, the groups of its victim and suspect; the group audit knows each
group's area (its turf) and the rivalries and alliances. The simulator also knows which
shootings were retaliation and where they fell, which no real source does: that is what the
alert rules are measured against.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from gvrs.analysis.alerts import AlertArea, AlertCapture, alert_capture, retaliation_alerts
from gvrs.analysis.conflicts import Conflict
from gvrs.data.simulate import SimulatedCity


def group_audit(city: SimulatedCity) -> tuple[dict[str, list[str]], list[Conflict]]:
    """Each group's areas (its turf neighbourhood) and the conflict network, by group name,
    with every relation dated from the start of the simulation (``conflicts.csv``'s since)."""
    hoods = city.geography.neighborhoods.set_index("id")["name"]
    groups = city.people.groups
    name = groups.set_index("group_id")["name"]
    areas = {row.name: [hoods[row.turf_id]] for row in groups.itertuples()}
    kinds = {"rivalry": "conflict", "alliance": "alliance"}
    conflicts = [
        Conflict(
            name[row.group_a],
            name[row.group_b],
            dt.date.fromisoformat(row.since),
            None,
            kinds[row.relation],
        )
        for row in city.people.conflicts.itertuples()
    ]
    return areas, conflicts


def reviewed_shootings(city: SimulatedCity) -> pd.DataFrame:
    """One row per simulated shooting (officer-involved left out), with what the review
    would know and what only the simulator knows.

    Columns: ``event_id``, ``date``, ``area``, ``reviewed`` (a homicide or nonfatal shooting:
    somebody was hit, so it enters the review queue), ``victim_groups`` and ``suspect_groups``
    (tuples of names, filled where the police recorded the shooting as group-involved),
    and the truth: ``trigger`` (background, near_repeat, retaliation) and ``parent``.
    """
    events = city.events[city.events["trigger"] != "officer_involved"]
    recorded = (
        city.incident_rows.drop_duplicates("source_id")
        .assign(event_id=lambda r: r["source_id"].str.rsplit("-", n=1).str[-1].astype(int))
        .set_index("event_id")["group_involvement"]
    )
    known = recorded.reindex(events["event_id"]).to_numpy() == "yes"
    names = city.people.groups["name"].to_numpy()
    hoods = city.geography.neighborhoods["name"].to_numpy()

    def side(column: str) -> list[tuple[str, ...]]:
        g = events[column].to_numpy()
        return [(names[k],) if k >= 0 and ok else () for k, ok in zip(g, known, strict=True)]

    when = pd.Timestamp(city.start) + pd.to_timedelta(events["t"].to_numpy(), unit="D")
    return pd.DataFrame(
        {
            "event_id": events["event_id"].to_numpy(),
            "date": when.date,
            "area": hoods[events["hood"].to_numpy()],
            "reviewed": events["n_hit"].to_numpy() > 0,
            "victim_groups": side("victim_group"),
            "suspect_groups": side("shooter_group"),
            "trigger": events["trigger"].to_numpy(),
            "parent": events["parent"].to_numpy(),
        }
    )


Rule = Callable[..., list[AlertArea]]


def naive_rule(row, *, window_days: int = 14, opens: dt.date, **_) -> list[AlertArea]:
    """Alert the victim's neighbourhood for ``window_days`` days, whatever the groups."""
    return [
        AlertArea(
            row.area,
            None,
            "low",
            opens,
            row.date + dt.timedelta(days=window_days),
            f"A shooting in {row.area} on {row.date:%-d %B %Y}.",
        )
    ]


def conflict_rule(row, *, near_repeat: bool, **kwargs) -> list[AlertArea]:
    """`retaliation_alerts` for one reviewed shooting."""
    return retaliation_alerts(
        shooting_date=row.date,
        shooting_area=row.area,
        victim_groups=row.victim_groups,
        suspect_groups=row.suspect_groups,
        near_repeat=near_repeat,
        **kwargs,
    )


def _suspects_unknown(row, **kwargs) -> list[AlertArea]:
    """The conflict rule when no review names the suspects' group: every active rival's
    turf (what the conflict network alone supports)."""
    return conflict_rule(row._replace(suspect_groups=()), near_repeat=False, **kwargs)


RULES: dict[str, Rule] = {
    "naive: the victim's neighbourhood": naive_rule,
    "conflict: the rival's turf": lambda row, **kw: conflict_rule(row, near_repeat=False, **kw),
    "conflict, suspects unknown": _suspects_unknown,
    "conflict + near repeat": lambda row, **kw: conflict_rule(row, near_repeat=True, **kw),
}


@dataclass(frozen=True)
class RuleResult:
    rule: str
    alerts: int
    retaliation: AlertCapture  # retaliatory shootings inside an open alert
    all_shootings: AlertCapture  # every shooting inside an open alert


def measure_rules(
    city: SimulatedCity,
    *,
    start: dt.date,
    end: dt.date | None = None,
    window_days: int = 14,
    review_delay_days: int = 1,
    rules: dict[str, Rule] = RULES,
) -> list[RuleResult]:
    """Issue each rule's alerts after every reviewed shooting and measure them from
    ``start`` to ``end`` (default: the simulation's end) against the truth.

    An alert opens ``review_delay_days`` after its shooting (at least 1: a shooting cannot be
    captured by its own alert) and runs to ``window_days`` after it. Shootings from
    ``window_days`` before ``start`` issue alerts too, so the first days are not left bare.
    """
    if review_delay_days < 1:
        raise ValueError("review_delay_days must be at least 1")
    end = end or city.end
    group_areas, conflicts = group_audit(city)
    shootings = reviewed_shootings(city)
    first = start - dt.timedelta(days=window_days)
    issuing = shootings[
        shootings["reviewed"] & (shootings["date"] >= first) & (shootings["date"] <= end)
    ]
    areas = city.geography.neighborhoods["name"].tolist()
    retaliation = shootings[shootings["trigger"] == "retaliation"]
    out = []
    for name, rule in rules.items():
        alerts: list[AlertArea] = []
        for row in issuing.itertuples(index=False):
            alerts += rule(
                row,
                group_areas=group_areas,
                conflicts=conflicts,
                window_days=window_days,
                opens=row.date + dt.timedelta(days=review_delay_days),
            )
        out.append(
            RuleResult(
                name,
                len(alerts),
                alert_capture(alerts, retaliation, areas=areas, start=start, end=end),
                alert_capture(alerts, shootings, areas=areas, start=start, end=end),
            )
        )
    return out


__all__ = [
    "RULES",
    "RuleResult",
    "group_audit",
    "measure_rules",
    "reviewed_shootings",
]
