"""The group conflict network: which conflicts are active, how many shootings each carries
over time, which are escalating, and a picture of the network.

A conflict (or an alliance) is a dated relation between two groups, as the weekly shooting
review records it; shootings carry the names of the groups on either side. Nothing here holds
or needs anything about a person: groups, dates and counts only.

Shootings are a DataFrame with a ``date`` column (dates or timestamps) and a ``groups``
column holding, per shooting, a tuple of the group names involved on either side (victims'
and suspects' groups). A shooting belongs to a conflict when both of its groups are among
its ``groups``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gvrs.analysis.inference import compare_counts
from gvrs.analysis.narrative import EVIDENCE_THRESHOLD, format_p

KINDS = ("conflict", "alliance")


@dataclass(frozen=True)
class Conflict:
    """A relation between groups ``a`` and ``b`` from ``start`` to ``end`` (inclusive; None
    while it lasts). ``kind`` is "conflict" or "alliance"."""

    a: str
    b: str
    start: dt.date
    end: dt.date | None
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"conflict kind {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.a == self.b:
            raise ValueError(f"a group cannot be in a {self.kind} with itself ({self.a!r})")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"{self.label} ends ({self.end}) before it starts ({self.start})")

    @property
    def label(self) -> str:
        return f"{self.a} – {self.b}"

    def active_on(self, on: dt.date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)

    def involves(self, group: str) -> bool:
        return group in (self.a, self.b)

    def other(self, group: str) -> str:
        """The group on the other side from ``group``."""
        if group == self.a:
            return self.b
        if group == self.b:
            return self.a
        raise ValueError(f"{group!r} is not part of {self.label}")


def active_conflicts(conflicts: Sequence[Conflict], on: dt.date) -> list[Conflict]:
    """The conflicts and alliances in force on ``on``, in their given order.

    Examples
    --------
    >>> c = [Conflict("A", "B", dt.date(2024, 1, 1), dt.date(2024, 6, 30), "conflict"),
    ...      Conflict("B", "C", dt.date(2024, 3, 1), None, "alliance")]
    >>> [x.label for x in active_conflicts(c, dt.date(2024, 7, 1))]
    ['B – C']
    """
    return [c for c in conflicts if c.active_on(on)]


def rivals_of(conflicts: Sequence[Conflict], group: str, on: dt.date) -> list[str]:
    """Groups in an active conflict (not an alliance) with ``group`` on ``on``."""
    return [
        c.other(group)
        for c in active_conflicts(conflicts, on)
        if c.kind == "conflict" and c.involves(group)
    ]


def _shooting_table(shootings: pd.DataFrame) -> pd.DataFrame:
    """Dates (normalised to days) and, per row, the groups as a tuple, on a 0..n-1 index."""
    missing = {"date", "groups"} - set(shootings.columns)
    if missing:
        raise ValueError(f"shootings need the columns date and groups; missing {sorted(missing)}")
    dates = pd.to_datetime(shootings["date"], format="ISO8601").dt.normalize()
    groups = shootings["groups"].map(lambda g: tuple(g) if g is not None else ())
    return pd.DataFrame({"date": dates.to_numpy(), "groups": groups.to_numpy()})


def _between(table: pd.DataFrame, conflict: Conflict) -> np.ndarray:
    """Rows whose groups hold both of the conflict's: one pass over the (row, group) pairs."""
    pairs = table["groups"].explode().dropna()
    rows = pairs.index.to_numpy()
    has = np.zeros((2, len(table)), dtype=bool)
    for k, group in enumerate((conflict.a, conflict.b)):
        has[k, rows[(pairs == group).to_numpy()]] = True
    return has[0] & has[1]


def shootings_per_conflict(
    conflicts: Sequence[Conflict],
    shootings: pd.DataFrame,
    *,
    freq: str = "MS",
    kinds: Sequence[str] = ("conflict",),
) -> pd.DataFrame:
    """Shootings between the two groups of each conflict, per period.

    Parameters
    ----------
    conflicts : sequence of Conflict
    shootings : DataFrame
        Columns ``date`` and ``groups`` (a tuple of group names per shooting).
    freq : str
        A pandas period-start frequency: "MS" months, "W-MON" weeks, "QS" quarters, "YS".
    kinds : sequence of str
        Which relations to count; alliances are left out unless asked for.

    Returns
    -------
    DataFrame
        One row per period (period starts, every period from the first shooting to the
        last, zeros included) and one column per conflict, named by its label.

    Examples
    --------
    >>> c = [Conflict("A", "B", dt.date(2024, 1, 1), None, "conflict")]
    >>> s = pd.DataFrame({"date": ["2024-01-05", "2024-03-02", "2024-03-09"],
    ...                   "groups": [("A", "B"), ("B", "A"), ("C",)]})
    >>> shootings_per_conflict(c, s)["A – B"].tolist()
    [1, 0, 1]
    """
    table = _shooting_table(shootings)
    chosen = [c for c in conflicts if c.kind in kinds]
    if table.empty:
        return pd.DataFrame(columns=[c.label for c in chosen], dtype="int64")
    offset = pd.tseries.frequencies.to_offset(freq)
    # rollback of a start-anchored offset is the period's start (itself if on one).
    periods = pd.date_range(offset.rollback(table["date"].min()), table["date"].max(), freq=freq)
    # Each shooting's period: the last start at or before its day.
    period_of = np.searchsorted(periods.to_numpy(), table["date"].to_numpy(), side="right") - 1
    out = {
        c.label: np.bincount(period_of[_between(table, c)], minlength=len(periods)) for c in chosen
    }
    frame = pd.DataFrame(out, index=periods, columns=[c.label for c in chosen], dtype="int64")
    frame.index.name = "period_start"
    return frame


@dataclass(frozen=True)
class Escalation:
    """A conflict's shootings in the recent window against its own earlier rate."""

    conflict: Conflict
    recent: int  # shootings between the two groups in the window
    recent_days: int
    baseline: int  # shootings in the baseline period before the window
    baseline_days: int
    rate_ratio: float  # recent rate / baseline rate (inf when the baseline had none)
    p_value: float  # exact conditional test that both periods share one rate (two-sided)
    rising: bool  # a higher rate, with p below the evidence threshold
    sentence: str


def escalating(
    conflicts: Sequence[Conflict],
    shootings: pd.DataFrame,
    *,
    on: dt.date,
    window_days: int = 90,
    baseline_days: int = 365,
    threshold: float = EVIDENCE_THRESHOLD,
    only_rising: bool = True,
) -> list[Escalation]:
    """Active conflicts whose shootings rose in the last ``window_days`` against the
    ``baseline_days`` before, with an exact test.

    The window is the ``window_days`` days up to and including ``on``; the baseline is the
    ``baseline_days`` days before the window, cut at the conflict's start (a conflict that
    began recently has a short baseline, and so little evidence). A conflict whose window
    and baseline hold no shootings gives p = 1.

    Parameters
    ----------
    only_rising : bool
        Return only the conflicts rising with p below ``threshold`` (the default), or every
        active conflict, most significant first.

    Returns
    -------
    list of Escalation, rising first, then by p-value.

    Notes
    -----
    The conditional (binomial) test for two Poisson counts with unequal exposures
    (Przyborowski & Wilenski 1940), as in `gvrs.analysis.inference.compare_counts`.

    Examples
    --------
    >>> c = [Conflict("A", "B", dt.date(2020, 1, 1), None, "conflict")]
    >>> days = ["2023-06-01", *[f"2024-0{m}-1{d}" for m in (4, 5, 6) for d in range(3)]]
    >>> s = pd.DataFrame({"date": days, "groups": [("A", "B")] * len(days)})
    >>> e = escalating(c, s, on=dt.date(2024, 6, 30))[0]
    >>> e.recent, e.baseline, e.rising
    (9, 1, True)
    """
    if window_days < 1 or baseline_days < 1:
        raise ValueError("window_days and baseline_days must be at least 1")
    table = _shooting_table(shootings)
    end = pd.Timestamp(on)
    window_start = end - pd.Timedelta(days=window_days - 1)
    out = []
    for c in active_conflicts(conflicts, on):
        if c.kind != "conflict":
            continue
        baseline_start = max(window_start - pd.Timedelta(days=baseline_days), pd.Timestamp(c.start))
        days_before = (window_start - baseline_start).days
        dates = table.loc[_between(table, c), "date"]
        recent = int(((dates >= window_start) & (dates <= end)).sum())
        baseline = int(((dates >= baseline_start) & (dates < window_start)).sum())
        if days_before <= 0:
            # No history before the window: nothing to compare with.
            result = Escalation(
                c,
                recent,
                window_days,
                0,
                0,
                math.nan,
                1.0,
                False,
                f"{c.label}: {recent:,} shootings in the {window_days} days to {on:%-d %b %Y}; "
                "the conflict is too new to compare with an earlier period.",
            )
            out.append(result)
            continue
        test = compare_counts(baseline, recent, days_before, window_days)
        rising = test.rate_ratio > 1 and test.p_value < threshold
        out.append(
            Escalation(
                c,
                recent,
                window_days,
                baseline,
                days_before,
                test.rate_ratio,
                test.p_value,
                rising,
                _escalation_sentence(
                    c, recent, window_days, baseline, days_before, test, on, rising
                ),
            )
        )
    out.sort(key=lambda e: (not e.rising, e.p_value))
    return [e for e in out if e.rising] if only_rising else out


def _escalation_sentence(c, recent, window_days, baseline, baseline_days, test, on, rising):
    expected = baseline * window_days / baseline_days
    head = (
        f"{c.label}: {recent:,} shootings in the {window_days} days to {on:%-d %b %Y}, "
        f"against {baseline:,} in the {baseline_days} days before "
        f"(about {expected:.1f} expected at that rate)"
    )
    p = format_p(test.p_value)
    if rising:
        return f"{head}: escalating (exact test {p})."
    if test.rate_ratio > 1:
        return f"{head}; a rise this size is within ordinary variation ({p})."
    return f"{head}; not rising ({p})."


def force_layout(n: int, edges: Sequence[tuple[int, int]], iterations: int = 300) -> np.ndarray:
    """Positions in [-1, 1]² for ``n`` nodes joined by ``edges``: groups in conflict near each
    other, unrelated clusters apart, deterministic (no random start).

    Parameters
    ----------
    n : int
        Number of nodes.
    edges : sequence of (int, int)
        Node indices joined by a relation.
    iterations : int
        Steps of the cooling schedule.

    Returns
    -------
    numpy.ndarray
        ``(n, 2)`` positions, scaled to fill [-1, 1] on the longer axis.

    Notes
    -----
    Fruchterman & Reingold (1991), "Graph drawing by force-directed placement": every pair
    repels with k²/d, every edge attracts with d²/k, and the step shrinks linearly; a strong
    pull to the centre keeps separate components on the page and spreads the nodes evenly
    over it (labels need room more than distances need meaning). The start is a circle (a
    golden-angle spiral), so the same network is drawn the same way every time.

    Examples
    --------
    >>> xy = force_layout(3, [(0, 1)])
    >>> xy.shape, bool(abs(xy).max() <= 1.0)
    ((3, 2), True)
    """
    if n == 0:
        return np.zeros((0, 2))
    if n == 1:
        return np.zeros((1, 2))
    k = 3 * math.sqrt(4.0 / n)  # three times the spacing of n points filling the square
    turn = np.pi * (3 - math.sqrt(5)) * np.arange(n)
    radius = np.sqrt((np.arange(n) + 0.5) / n)
    pos = np.column_stack([radius * np.cos(turn), radius * np.sin(turn)])
    pairs = np.array(edges, dtype=int).reshape(-1, 2)
    step = 0.1
    for i in range(iterations):
        delta = pos[:, None, :] - pos[None, :, :]
        distance = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)
        force = (delta / distance[..., None] * (k * k / distance)[..., None]).sum(axis=1)
        if len(pairs):
            d = pos[pairs[:, 0]] - pos[pairs[:, 1]]
            length = np.maximum(np.linalg.norm(d, axis=1), 1e-3)
            pull = d * (length / k)[:, None]
            np.add.at(force, pairs[:, 0], -pull)
            np.add.at(force, pairs[:, 1], pull)
        force -= 0.5 * pos * n * k  # gravity: strong, so the page is filled evenly
        size = np.maximum(np.linalg.norm(force, axis=1), 1e-9)
        pos += force / size[:, None] * np.minimum(size, step * (1 - i / iterations))[:, None]
    pos -= (pos.max(axis=0) + pos.min(axis=0)) / 2
    return pos / max(float(np.abs(pos).max()), 1e-9)


def network_figure(
    conflicts: Sequence[Conflict],
    shootings: pd.DataFrame,
    on: dt.date,
    *,
    lookback_days: int = 365,
):
    """The network of groups in force on ``on``: groups as points on a circle, conflicts as
    red lines as thick as the shootings between the two groups in the ``lookback_days`` to
    ``on``, alliances as dashed grey lines.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    import plotly.graph_objects as go

    table = _shooting_table(shootings)
    active = active_conflicts(conflicts, on)
    end = pd.Timestamp(on)
    start = end - pd.Timedelta(days=lookback_days - 1)
    recent = table[(table["date"] >= start) & (table["date"] <= end)].reset_index(drop=True)
    groups = sorted({g for c in active for g in (c.a, c.b)})
    index = {g: i for i, g in enumerate(groups)}
    xy = force_layout(len(groups), [(index[c.a], index[c.b]) for c in active])
    where = {g: (float(xy[i, 0]), float(xy[i, 1])) for g, i in index.items()}
    involved = recent["groups"].explode().value_counts()
    per_group = {g: int(involved.get(g, 0)) for g in groups}
    # Labels are drawn in this order and the page hides one that would overlap one already
    # drawn (charts.js, data-declutter): the groups with the most shootings keep theirs.
    groups = sorted(groups, key=lambda g: (-per_group[g], g))
    fig = go.Figure()
    for c in active:
        n = int(_between(recent, c).sum())
        (x0, y0), (x1, y1) = where[c.a], where[c.b]
        is_conflict = c.kind == "conflict"
        since = f"since {c.start:%-d %b %Y}"
        fig.add_trace(
            go.Scatter(
                x=[x0, (x0 + x1) / 2, x1],
                y=[y0, (y0 + y1) / 2, y1],
                mode="lines",
                line={
                    "color": "#c0392b" if is_conflict else "#7f8c8d",
                    "width": 1.5 + 1.5 * math.sqrt(n) if is_conflict else 1.5,
                    "dash": "solid" if is_conflict else "dash",
                },
                hoverinfo="text",
                text=f"{c.label}: {c.kind} {since}; {n:,} shootings between them in the "
                f"{lookback_days} days to {on:%-d %b %Y}",
                showlegend=False,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[where[g][0] for g in groups],
            y=[where[g][1] for g in groups],
            mode="markers+text",
            text=groups,
            textposition="top center",
            # Not clipped at the axes: a name past the chart's edge is hidden whole by the
            # page (charts.js, data-declutter) rather than cut.
            cliponaxis=False,
            marker={
                "size": [10 + 4 * math.sqrt(per_group[g]) for g in groups],
                "color": "#2c3e50",
            },
            hovertext=[
                f"{g}: {per_group[g]:,} shootings in the {lookback_days} days to {on:%-d %b %Y}"
                for g in groups
            ],
            hoverinfo="text",
            showlegend=False,
        )
    )
    n_conflicts = sum(c.kind == "conflict" for c in active)
    n_alliances = len(active) - n_conflicts
    fig.update_layout(
        title={
            "text": f"Group conflicts and alliances in force on {on:%-d %b %Y}<br><sup>"
            f"{n_conflicts:,} conflicts (red, thicker with more shootings in the "
            f"{lookback_days} days to then), {n_alliances:,} alliances (dashed)</sup>"
        },
        xaxis={"visible": False, "range": [-1.15, 1.15]},
        yaxis={"visible": False, "range": [-1.1, 1.15], "scaleanchor": "x"},
        plot_bgcolor="white",
        margin={"l": 20, "r": 20, "t": 80, "b": 20},
    )
    return fig
