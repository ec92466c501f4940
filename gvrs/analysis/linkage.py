"""Record linkage: which incidents of two sources are the same shooting.

Two sources over one city (the police records export and a national archive) list many of
the same events, with times a little apart, points a little moved and, now and then, a
victim counted differently. ``link_incidents`` pairs them one to one, so that a reader can
see how much each source holds that the other does not, and so that a combined series, if
one is ever wanted, counts each event once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EARTH_RADIUS_M = 6_371_008.8
WINDOW_MINUTES = 90
DATE_WINDOW_DAYS = 1
RADIUS_M = 400.0
PEOPLE_TOLERANCE = 1


@dataclass(frozen=True)
class Linkage:
    """Pairs of positions (into ``a`` and ``b``) judged the same event, and the positions of
    each source left unmatched."""

    pairs: np.ndarray  # shape (k, 2): position in a, position in b
    only_a: np.ndarray
    only_b: np.ndarray


def _distance_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    lat1, lon1, lat2, lon2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lat1, lon1, lat2, lon2)
    )
    h = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0, 1)))


def candidate_pairs(
    a: pd.DataFrame,
    b: pd.DataFrame,
    *,
    window_minutes: float = WINDOW_MINUTES,
    date_window_days: int = DATE_WINDOW_DAYS,
    radius_m: float = RADIUS_M,
    people_tolerance: int = PEOPLE_TOLERANCE,
) -> pd.DataFrame:
    """Every (a, b) pair that could be one event, with its cost (lower: more alike).

    ``a`` and ``b`` have columns ``day`` (int, days since 1970-01-01), ``minute`` (float,
    minutes since 1970-01-01; NaN when the time is not known), ``place`` (int), ``lat``,
    ``lon`` (NaN when not known), ``killed``, ``injured``. A pair must be in the same place,
    within ``date_window_days`` days, within ``window_minutes`` where both times are known,
    within ``radius_m`` where both points are known, and differ by at most
    ``people_tolerance`` in the people killed plus injured.
    """
    order = np.argsort(b["day"].to_numpy(), kind="stable")
    b_days = b["day"].to_numpy()[order]
    a_days = a["day"].to_numpy()
    lo = np.searchsorted(b_days, a_days - date_window_days, side="left")
    hi = np.searchsorted(b_days, a_days + date_window_days, side="right")
    counts = hi - lo
    total = int(counts.sum())
    empty = pd.DataFrame({"a": [], "b": [], "cost": []})
    if total == 0:
        return empty
    ai = np.repeat(np.arange(len(a)), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    bi = order[np.repeat(lo, counts) + offsets]
    same_place = a["place"].to_numpy()[ai] == b["place"].to_numpy()[bi]
    ai, bi = ai[same_place], bi[same_place]
    da = a["minute"].to_numpy(dtype=float)[ai]
    db = b["minute"].to_numpy(dtype=float)[bi]
    timed = ~np.isnan(da) & ~np.isnan(db)
    dt_min = np.abs(da - db)
    ok = ~timed | (dt_min <= window_minutes)
    distance = _distance_m(
        a["lat"].to_numpy()[ai],
        a["lon"].to_numpy()[ai],
        b["lat"].to_numpy()[bi],
        b["lon"].to_numpy()[bi],
    )
    located = ~np.isnan(distance)
    ok &= ~located | (distance <= radius_m)
    people = np.abs(a["killed"].to_numpy()[ai] - b["killed"].to_numpy()[bi]) + np.abs(
        a["injured"].to_numpy()[ai] - b["injured"].to_numpy()[bi]
    )
    ok &= people <= people_tolerance
    days_apart = np.abs(a_days[ai] - b["day"].to_numpy()[bi])
    # Each part in [0, 1]; an unknown time or point costs as much as a middling known one.
    cost = (
        np.where(timed, dt_min / window_minutes, 0.5 + 0.5 * np.minimum(days_apart, 1))
        + np.where(located, distance / radius_m, 0.5)
        + people
    )
    return pd.DataFrame({"a": ai[ok], "b": bi[ok], "cost": cost[ok]})


def link_incidents(a: pd.DataFrame, b: pd.DataFrame, **options) -> Linkage:
    """Match the incidents of two sources one to one (``candidate_pairs`` for the columns
    and ``options``).

    Pairs are accepted where each is the other's best remaining candidate (lowest cost),
    round after round on what is left, until no pair is added.

    Notes
    -----
    Deterministic one-to-one record linkage with blocking on place and date and a distance
    in time, space and people (Fellegi and Sunter 1969 frame the problem; mutual best match
    is the greedy one-to-one assignment of Christen 2012, *Data Matching*, ch. 6).

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"day": [0, 0], "minute": [600.0, 900.0], "place": [1, 1],
    ...                   "lat": [40.0, 40.01], "lon": [-75.0, -75.0], "killed": [0, 1],
    ...                   "injured": [1, 0]})
    >>> b = a.assign(minute=[610.0, float("nan")])
    >>> link_incidents(a, b).pairs.tolist()
    [[0, 0], [1, 1]]
    """
    candidates = candidate_pairs(a, b, **options)
    pairs: list[np.ndarray] = []
    while len(candidates):
        ranked = candidates.sort_values(["cost", "a", "b"], kind="stable")
        best_of_a = ranked.drop_duplicates("a")
        best_of_b = ranked.drop_duplicates("b")
        mutual = best_of_a.merge(best_of_b[["a", "b"]], on=["a", "b"])
        if mutual.empty:
            break
        pairs.append(mutual[["a", "b"]].to_numpy())
        candidates = candidates[
            ~candidates["a"].isin(mutual["a"]) & ~candidates["b"].isin(mutual["b"])
        ]
    found = np.concatenate(pairs) if pairs else np.empty((0, 2), dtype=np.int64)
    found = found[np.argsort(found[:, 0], kind="stable")] if len(found) else found
    only_a = np.setdiff1d(np.arange(len(a)), found[:, 0])
    only_b = np.setdiff1d(np.arange(len(b)), found[:, 1])
    return Linkage(found.astype(np.int64), only_a, only_b)


def precision_recall(
    found: set[tuple[str, str]], truth: set[tuple[str, str]]
) -> tuple[float, float]:
    """(precision, recall) of linked pairs against the true ones."""
    right = len(found & truth)
    return (right / len(found) if found else 1.0), (right / len(truth) if truth else 1.0)
