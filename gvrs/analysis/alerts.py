"""Retaliation alerts: after a reviewed shooting, the places and groups whose risk of a
shooting is raised for the next days, and how well a rule for issuing them does.

An alert names an area, the group whose risk is raised there (or none: everyone in the area),
a level, a window and a reason a meeting can read. It is never a score about a person.

Two kinds of raised risk stand behind it, the two triggering kernels of the contagion model
(`gvrs.analysis.contagion`):

- **Retaliation on the rival's turf.** A shooting between two groups raises the rate of
  shootings in the area of the group on the other side from the victim (the victim's group
  strikes back where its rival is). When the suspects' group is known, its areas get a high
  alert; when it is not, the areas of every group in an active conflict with the victim's
  group get a medium one.
- **Near repeats.** Shootings cluster within a few hundred metres and days of a shooting: the
  shooting's own area gets a low alert (medium when the contagion model's risk surface expects
  at least ``raised_risk_expected`` shootings there over the window).

`alert_capture` measures a set of alerts against what happened: the share of shootings that
fell inside an open alert's area and window, beside the share of area-days under alert. A rule
that alerts everywhere captures everything; what counts is the capture per area-day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from gvrs.analysis.conflicts import Conflict, active_conflicts

LEVELS = ("high", "medium", "low")


@dataclass(frozen=True)
class AlertArea:
    """Raised risk in ``area`` for ``group`` (None: the whole area) from ``starts`` to
    ``ends`` (both inclusive)."""

    area: str
    group: str | None
    level: str  # "high" | "medium" | "low"
    starts: dt.date
    ends: dt.date
    reason: str

    def open_on(self, day: dt.date) -> bool:
        return self.starts <= day <= self.ends


def _raise(level: str) -> str:
    return LEVELS[max(0, LEVELS.index(level) - 1)]


def _day(d: dt.date) -> str:
    return f"{d:%-d %B %Y}"


def _names(groups: Sequence[str]) -> str:
    groups = list(groups)
    if len(groups) <= 2:
        return " and ".join(groups)
    return ", ".join(groups[:-1]) + " and " + groups[-1]


def _unique(groups: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(g for g in groups if g))


def retaliation_alerts(
    *,
    shooting_date: dt.date,
    shooting_area: str,
    victim_groups: Sequence[str],
    suspect_groups: Sequence[str],
    group_areas: Mapping[str, Sequence[str]],
    conflicts: Sequence[Conflict],
    risk_by_area: Mapping[str, float] | None = None,
    window_days: int = 14,
    opens: dt.date | None = None,
    near_repeat: bool = True,
    raised_risk_expected: float = 1.0,
) -> list[AlertArea]:
    """The alerts to issue after a reviewed shooting.

    Parameters
    ----------
    shooting_date, shooting_area : date, str
        When and in which area the shooting happened.
    victim_groups, suspect_groups : sequence of str
        Groups of the victims and of the suspects, as the review recorded them (empty where
        none or not known).
    group_areas : mapping of group name to its areas
        The group audit's areas (only groups whose designation is in force).
    conflicts : sequence of Conflict
        The conflict network; only relations active on ``shooting_date`` are used.
    risk_by_area : mapping of area to expected shootings, optional
        Expected shootings in each area over the alert window from the contagion model's risk
        surface. An area at or above ``raised_risk_expected`` has its alert raised one level,
        and the reason gives the figure.
    window_days : int
        Risk is raised for the ``window_days`` days after the shooting's day; the alert ends
        on ``shooting_date + window_days``. The default, 14 days, holds about three quarters
        of the retaliation the simulator generates (mean delay 10 days) and most near repeats.
    opens : date, optional
        The day the alert opens (the day of the review). Default: the day after the
        shooting, the earliest a review can act on it. No alert is issued when the window
        has passed by then.
    near_repeat : bool
        Also alert the shooting's own area for near repeats.

    Returns
    -------
    list of AlertArea, highest level first, then by area.

    Notes
    -----
    Retaliation follows the conflict-linked triggering kernel and near repeats the space-time
    kernel of the contagion model (Mohler et al. 2011; the turf-based kernel as in the
    gang-rivalry models of Brantingham, Tita, Short & Reid 2012). The alert carries only what
    the police side may share with partners: area, group, window, level and reason.

    Examples
    --------
    >>> c = [Conflict("Eastside", "Westside", dt.date(2020, 1, 1), None, "conflict")]
    >>> alerts = retaliation_alerts(
    ...     shooting_date=dt.date(2025, 5, 3), shooting_area="Oak Park",
    ...     victim_groups=["Eastside"], suspect_groups=["Westside"],
    ...     group_areas={"Eastside": ["Oak Park"], "Westside": ["Union Grove"]}, conflicts=c)
    >>> [(a.area, a.group, a.level, str(a.ends)) for a in alerts]
    [('Union Grove', 'Westside', 'high', '2025-05-17'), ('Oak Park', None, 'low', '2025-05-17')]
    """
    if window_days < 1:
        raise ValueError("window_days must be at least 1")
    starts = opens if opens is not None else shooting_date + dt.timedelta(days=1)
    if starts < shooting_date:
        raise ValueError(f"an alert cannot open ({starts}) before its shooting ({shooting_date})")
    ends = shooting_date + dt.timedelta(days=window_days)
    if starts > ends:
        return []
    victims = _unique(victim_groups)
    suspects = [g for g in _unique(suspect_groups) if g not in victims]
    active = [c for c in active_conflicts(conflicts, shooting_date) if c.kind == "conflict"]
    risk = risk_by_area or {}
    what = f"a shooting in {shooting_area} on {_day(shooting_date)}"
    until = f"the {window_days} days to {_day(ends)}"

    def since(a: str, b: str) -> str:
        for c in active:
            if c.involves(a) and c.involves(b):
                return f"in conflict since {_day(c.start)}"
        return "with no recorded conflict"

    found: dict[tuple[str, str | None], AlertArea] = {}

    def add(area: str, group: str | None, level: str, reason: str) -> None:
        expected = risk.get(area)
        if expected is not None and expected >= raised_risk_expected:
            level = _raise(level)
        if expected is not None:
            reason += (
                f" The contagion model expects {expected:.1f} shootings in {area} over {until}."
            )
        key = (area, group)
        if key not in found or LEVELS.index(level) < LEVELS.index(found[key].level):
            found[key] = AlertArea(area, group, level, starts, ends, reason)

    if victims and suspects:
        # The victims' groups strike back where the suspects' group is.
        for target in suspects:
            areas = list(group_areas.get(target, ()))
            for area in areas:
                links = "; ".join(f"{v} and {target} are {since(v, target)}" for v in victims)
                add(
                    area,
                    target,
                    "high",
                    f"Retaliation risk: {what} had a victim from {_names(victims)} and a "
                    f"suspect from {target}, whose area includes {area} ({links}). "
                    f"Retaliation against {target} is most likely in {until}.",
                )
    elif victims:
        # Suspects not known: every active rival of the victims' groups is a possible target.
        for v in victims:
            for c in active:
                if not c.involves(v):
                    continue
                rival = c.other(v)
                if rival in victims:
                    continue
                for area in group_areas.get(rival, ()):
                    add(
                        area,
                        rival,
                        "medium",
                        f"Retaliation risk: {what} had a victim from {v}, in conflict with "
                        f"{rival} since {_day(c.start)}; the suspects' group is not known, "
                        f"and {rival}'s area includes {area}. Retaliation is most likely in "
                        f"{until}.",
                    )
    if near_repeat:
        add(
            shooting_area,
            None,
            "low",
            f"Near-repeat risk: shootings cluster within a few hundred metres and days of "
            f"one another, and {shooting_area} had one on {_day(shooting_date)}. The risk "
            f"is highest in the first week of {until}.",
        )
    return sorted(found.values(), key=lambda a: (LEVELS.index(a.level), a.area, a.group or ""))


# --- Measuring alerts against what happened --------------------------------------------------


@dataclass(frozen=True)
class AlertCapture:
    """How many shootings fell inside an open alert's area and window, against how much of
    the map and calendar was under alert."""

    shootings: int  # shootings in the period and areas measured
    captured: int  # of them, inside an open alert's area on their day
    area_days: int  # areas x days in the period
    area_days_alerted: int  # (area, day) cells under at least one alert
    start: dt.date
    end: dt.date

    @property
    def capture_share(self) -> float:
        return self.captured / self.shootings if self.shootings else float("nan")

    @property
    def alerted_share(self) -> float:
        return self.area_days_alerted / self.area_days if self.area_days else float("nan")

    @property
    def capture_per_alerted_share(self) -> float:
        """Capture share over alerted share: 1 is what alerting at random would do."""
        if not self.area_days_alerted:
            return float("nan")
        return self.capture_share / self.alerted_share


def alert_capture(
    alerts: Sequence[AlertArea],
    shootings: pd.DataFrame,
    *,
    areas: Sequence[str],
    start: dt.date,
    end: dt.date,
) -> AlertCapture:
    """The share of ``shootings`` inside an open alert, and the share of area-days alerted.

    Parameters
    ----------
    alerts : sequence of AlertArea
        Every alert issued (any group; an area under two alerts on one day counts once).
    shootings : DataFrame
        Columns ``date`` and ``area``: the shootings the alerts were meant to anticipate.
    areas : sequence of str
        Every area of the place measured: the denominator of the area-days.
    start, end : date
        The period measured (inclusive); alerts and shootings outside it are cut off.

    Examples
    --------
    >>> a = [AlertArea("A", None, "low", dt.date(2025, 1, 2), dt.date(2025, 1, 3), "")]
    >>> s = pd.DataFrame({"date": ["2025-01-03", "2025-01-05"], "area": ["A", "A"]})
    >>> m = alert_capture(a, s, areas=["A", "B"], start=dt.date(2025, 1, 1),
    ...                   end=dt.date(2025, 1, 10))
    >>> m.captured, m.shootings, m.area_days_alerted, m.area_days
    (1, 2, 2, 20)
    """
    if end < start:
        raise ValueError(f"the period ends ({end}) before it starts ({start})")
    missing = {"date", "area"} - set(shootings.columns)
    if missing:
        raise ValueError(f"shootings need the columns date and area; missing {sorted(missing)}")
    known = list(dict.fromkeys(areas))
    index = {a: i for i, a in enumerate(known)}
    days = (end - start).days + 1
    alerted = set()
    for alert in alerts:
        if alert.area not in index:
            raise ValueError(f"alert for area {alert.area!r}, which is not among the areas")
        first = max(alert.starts, start)
        last = min(alert.ends, end)
        for k in range((first - start).days, (last - start).days + 1):
            alerted.add((index[alert.area], k))
    dates = pd.to_datetime(shootings["date"], format="ISO8601").dt.date
    inside = (dates >= start) & (dates <= end) & shootings["area"].isin(index)
    cells = zip(
        shootings.loc[inside, "area"].map(index),
        [(d - start).days for d in dates[inside]],
        strict=True,
    )
    captured = sum(cell in alerted for cell in cells)
    return AlertCapture(
        shootings=int(inside.sum()),
        captured=int(captured),
        area_days=len(known) * days,
        area_days_alerted=len(alerted),
        start=start,
        end=end,
    )
