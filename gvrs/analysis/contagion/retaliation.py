"""The contagion model's second triggering kernel: retaliation on the rival's turf.

A shooting between groups raises the rate of shootings not only around it (the space-time
kernel's near repeats) but in the areas of the group on the other side, wherever they lie:
the victim's group strikes back where its rival is, within days (Brantingham, Tita, Short &
Reid 2012, The ecology of gang territorial boundaries; Papachristos 2009). The kernel is

    g(i | j) = theta omega exp(-omega (t_i - t_j)) 1[area_i in T_j] / |T_j|

where ``T_j`` is the union of the target areas of shooting j (the turf of the group on the
other side, from the review and the group audit) and ``|T_j|`` its size in m^2: the
retaliation lands uniformly anywhere on that turf. Only shootings with a target raise it, so
``theta`` is the expected number of retaliatory shootings per shooting with a known rival
turf. It is truncated at ``max_lag_days`` in time and not at all in space.

The kernel has the interface of `gvrs.analysis.contagion.SpaceTimeTrigger` (candidate pairs,
per-event sums, an exact M-step, derivatives for the observed information), and `Triggers`
adds kernels into one: the EM loop and the information matrix of ``fit_contagion`` use it as
they use one kernel, the cross terms between kernels coming from their shared total intensity.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from gvrs.analysis.contagion.result import ContagionError, RetaliationFit
from gvrs.analysis.contagion.trigger import exponential_time_mass, solve_omega


@dataclass(frozen=True)
class TurfLinks:
    """Per event: the area it lies in (index, -1 where unknown) and the areas whose rate it
    raises (its rival's turf; empty where none is known), with every area's size."""

    area: np.ndarray  # int64, one per event
    targets: tuple[np.ndarray, ...]  # int64 area indices, one array per event
    area_m2: np.ndarray  # size of each area

    @classmethod
    def from_names(
        cls,
        event_areas: Sequence[str | None],
        event_targets: Sequence[Sequence[str]],
        area_m2: Mapping[str, float],
    ) -> TurfLinks:
        """Build from area names; an event's area or target not in ``area_m2`` is an error
        naming the event, except a missing area (None), which makes it no one's child."""
        names = list(area_m2)
        index = {name: k for k, name in enumerate(names)}
        if len(event_areas) != len(event_targets):
            raise ContagionError(
                f"{len(event_areas)} event areas but {len(event_targets)} target lists"
            )
        area = np.full(len(event_areas), -1, dtype=np.int64)
        targets = []
        for i, (a, ts) in enumerate(zip(event_areas, event_targets, strict=True)):
            if a is not None:
                if a not in index:
                    raise ContagionError(f"event {i}: area {a!r} has no size")
                area[i] = index[a]
            unknown = [t for t in ts if t not in index]
            if unknown:
                raise ContagionError(f"event {i}: target area {unknown[0]!r} has no size")
            targets.append(np.array(sorted({index[t] for t in ts}), dtype=np.int64))
        sizes = np.array([float(area_m2[n]) for n in names])
        if not (np.isfinite(sizes).all() and (sizes > 0).all()):
            raise ContagionError("every area needs a positive size in m^2")
        return cls(area, tuple(targets), sizes)


@dataclass(frozen=True)
class TurfPairs:
    """Every (parent, child) with the child in one of the parent's target areas, at most
    ``max_lag_days`` later, grouped by child (``offsets``, as `CandidatePairs`)."""

    offsets: np.ndarray
    lag_days: np.ndarray
    density_per_m2: np.ndarray  # 1 / |T_parent|
    parent: np.ndarray

    def __len__(self) -> int:
        return len(self.lag_days)

    def child(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))


def turf_pairs(t_days: np.ndarray, links: TurfLinks, max_lag_days: float) -> TurfPairs:
    """Candidate pairs by one sort: every (target area, parent time) row, sorted; each child
    finds its parents as one run of its own area's rows by binary search."""
    t = np.asarray(t_days, dtype=float)
    n = len(t)
    counts = np.array([len(ts) for ts in links.targets], dtype=np.int64)
    parent = np.repeat(np.arange(n), counts)
    target = np.concatenate([*links.targets, np.zeros(0, np.int64)])
    size = np.array([links.area_m2[ts].sum() if len(ts) else np.inf for ts in links.targets])
    # One number per row that sorts by area, then time: areas a span apart.
    span = float(t.max() - t.min()) + 2 * max_lag_days + 1 if n else 1.0
    key = target * span + (t[parent] - t.min())
    order = np.argsort(key, kind="stable")
    key, parent = key[order], parent[order]
    child_key = np.where(links.area >= 0, links.area * span + (t - t.min()), -np.inf)
    lo = np.searchsorted(key, child_key - max_lag_days, side="left")
    hi = np.searchsorted(key, child_key, side="left")  # strictly earlier
    hi = np.where(links.area >= 0, hi, lo)
    per_child = hi - lo
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_child, out=offsets[1:])
    rows = np.repeat(lo - offsets[:-1], per_child) + np.arange(offsets[-1])
    p = parent[rows]
    child = np.repeat(np.arange(n), per_child)
    return TurfPairs(offsets, t[child] - t[p], 1 / size[p], p)


@dataclass(frozen=True)
class TurfTrigger:
    """Retaliation on the rival's turf; parameters (theta, omega). See the module docstring."""

    pairs: TurfPairs
    window_days: np.ndarray  # per eligible parent (one with targets): how long it can trigger
    max_lag_days: float
    names = ("branching_ratio", "decay_days")

    @classmethod
    def build(cls, t_days, t_end: float, links: TurfLinks, max_lag_days: float) -> TurfTrigger:
        t = np.asarray(t_days, dtype=float)
        eligible = np.array([len(ts) > 0 for ts in links.targets], dtype=bool)
        return cls(
            turf_pairs(t, links, max_lag_days),
            np.minimum(t_end - t[eligible], max_lag_days),
            max_lag_days,
        )

    @property
    def eligible_events(self) -> int:
        return len(self.window_days)

    def _moments(self, omega: float, order: int) -> np.ndarray:
        n = len(self.pairs.offsets) - 1
        lag = self.pairs.lag_days
        e = np.exp(-omega * lag) * self.pairs.density_per_m2
        child = self.pairs.child()
        rows = [e, e * lag] + ([e * lag * lag] if order == 2 else [])
        return np.stack([np.bincount(child, weights=r, minlength=n) for r in rows])

    def sums(self, params) -> np.ndarray:
        """(2, n): per child, the triggered intensity and its lag-weighted sum."""
        theta, omega = params
        return self._moments(omega, 1) * (theta * omega)

    def _time_mass(self, omega: float):
        return exponential_time_mass(self.window_days, self.max_lag_days, omega)

    def compensator(self, params) -> float:
        theta, omega = params
        return theta * self._time_mass(omega)[0]

    def m_step(self, expected: np.ndarray, params):
        """theta = P / A(omega), omega from the children's mean lag (as the space-time
        kernel's time part, with the same bound: a mean delay of at most half the lag)."""
        total, lag_sum = (float(v) for v in expected)
        _, omega = params
        if total <= 1e-12 or not self.eligible_events:
            return 0.0, omega
        omega = solve_omega(lag_sum / total, self._time_mass, self.max_lag_days)
        return total / max(self._time_mass(omega)[0], 1e-300), omega

    def derivatives(self, params):
        """In (log theta, log omega): log g = log theta + log omega - omega lag + log w."""
        theta, omega = params
        m0, m1, m2 = self._moments(omega, 2) * (theta * omega)
        g_w = m0 - omega * m1
        grad = np.stack([m0, g_w])
        h_ww = m0 - 3 * omega * m1 + omega**2 * m2
        hess = np.stack([np.stack([m0, g_w]), np.stack([g_w, h_ww])])
        a, a_w, a_ww = self._time_mass(omega)
        c_grad = theta * np.array([a, a_w])
        c_hess = theta * np.array([[a, a_w], [a_w, a_ww]])
        return grad, hess, c_grad, c_hess

    def on_bounds(self, params) -> dict[str, str]:
        _, omega = params
        if omega <= 2 * (1 + 1e-9) / self.max_lag_days:
            return {
                "decay_days": f"retaliation's mean delay at its bound, half the maximum lag of "
                f"{self.max_lag_days:g} days"
            }
        return {}

    @staticmethod
    def named(params, log_cov: np.ndarray) -> dict[str, tuple[float, float]]:
        theta, omega = params
        se = np.sqrt(np.diag(log_cov))
        return {"branching_ratio": (theta, se[0]), "decay_days": (1 / omega, se[1])}


@dataclass(frozen=True)
class Triggers:
    """Several triggering kernels as one: their intensities add; parameters are the kernels'
    in order, flat; a public name is ``prefix + name`` (the first kernel's prefix is empty, so
    the space-time kernel keeps its names)."""

    kernels: tuple
    prefixes: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(
            p + n for k, p in zip(self.kernels, self.prefixes, strict=True) for n in k.names
        )

    def split(self, params) -> list[tuple]:
        out, at = [], 0
        for k in self.kernels:
            out.append(tuple(params[at : at + len(k.names)]))
            at += len(k.names)
        return out

    def sums(self, params) -> np.ndarray:
        """Row 0 the total triggered intensity, then each kernel's own rows."""
        parts = [k.sums(p) for k, p in zip(self.kernels, self.split(params), strict=True)]
        return np.vstack([sum(part[0] for part in parts)[None, :], *parts])

    def kernel_intensities(self, params) -> list[np.ndarray]:
        return [k.sums(p)[0] for k, p in zip(self.kernels, self.split(params), strict=True)]

    def compensator(self, params) -> float:
        return sum(k.compensator(p) for k, p in zip(self.kernels, self.split(params), strict=True))

    def m_step(self, expected: np.ndarray, params):
        out, at = [], 1
        for k, p in zip(self.kernels, self.split(params), strict=True):
            rows = len(k.names)  # a kernel's sums have one row per parameter
            out.extend(k.m_step(expected[at : at + rows], p))
            at += rows
        return tuple(float(v) for v in out)

    def derivatives(self, params):
        parts = [k.derivatives(p) for k, p in zip(self.kernels, self.split(params), strict=True)]
        grad = np.vstack([g for g, _, _, _ in parts])
        m, n = grad.shape
        hess = np.zeros((m, m, n))
        c_hess = np.zeros((m, m))
        at = 0
        for _, h, _, ch in parts:
            size = h.shape[0]
            hess[at : at + size, at : at + size] = h
            c_hess[at : at + size, at : at + size] = ch
            at += size
        return grad, hess, np.concatenate([c for _, _, c, _ in parts]), c_hess

    def on_bounds(self, params) -> dict[str, str]:
        out = {}
        for k, p, prefix in zip(self.kernels, self.split(params), self.prefixes, strict=True):
            out.update({prefix + name: why for name, why in k.on_bounds(p).items()})
        return out

    def named(self, params, log_cov: np.ndarray) -> dict[str, tuple[float, float]]:
        out, at = {}, 0
        for k, p, prefix in zip(self.kernels, self.split(params), self.prefixes, strict=True):
            size = len(k.names)
            block = log_cov[at : at + size, at : at + size]
            out.update({prefix + n: v for n, v in k.named(p, block).items()})
            at += size
        return out


def retaliation_fit(kernel: Triggers, params, background, intervals, notes):
    """Split a two-kernel fit's intervals and notes between the kernels and compute the
    second kernel's per-event probabilities: (RetaliationFit, space-time intervals, notes)."""
    _, turf = kernel.kernels
    _, turf_params = kernel.split(params)
    total = background.intensity() + kernel.sums(params)[0]
    prefix = kernel.prefixes[1]
    own = {k[len(prefix) :]: v for k, v in intervals.items() if k.startswith(prefix)}
    rest = {k: v for k, v in intervals.items() if not k.startswith(prefix)}
    theta, omega = turf_params
    fit = RetaliationFit(
        branching_ratio=float(theta),
        decay_days=float(1 / omega),
        eligible_events=turf.eligible_events,
        n_candidate_pairs=len(turf.pairs),
        triggered_probability=turf.sums(turf_params)[0] / total,
        intervals=own,
        interval_notes=tuple(n for n in notes if "retaliation" in n or "not curved" in n),
    )
    return fit, rest, tuple(n for n in notes if "retaliation" not in n)


def expected_retaliation_by_area(
    fit, turf: TurfLinks, horizon_days: float, *, area_names: Sequence[str] | None = None
) -> dict:
    """Expected shootings in each area over the ``horizon_days`` after the data end that the
    turf kernel still owes to recent shootings: the conflict network's part of the risk, to
    add to the risk surface's (background and near repeats) for an area's alert level.

    ``fit`` is a two-kernel `ContagionFit` fitted with these ``turf`` links; the result is
    keyed by area index, or by name when ``area_names`` (in the links' order) is given.
    Areas owed nothing are left out.

    Examples
    --------
    A shooting 2 days before the end whose rival's turf is area 1: with theta = 0.3 and a
    mean delay of 10 days, 0.3 (e^-0.2 - e^-1.6) of a shooting is still to come there in
    the next 14 days.
    """
    r = fit.retaliation
    if r is None:
        raise ContagionError("this fit has no retaliation kernel (fit it with turf links)")
    _, _, t_end = fit._profile
    age = t_end - fit._t
    omega = 1 / r.decay_days
    owed = r.branching_ratio * (np.exp(-omega * age) - np.exp(-omega * (age + horizon_days)))
    out: dict = {}
    for j in np.flatnonzero(owed > 1e-9):
        targets = turf.targets[j]
        if not len(targets):
            continue
        share = turf.area_m2[targets] / turf.area_m2[targets].sum()
        for a, s in zip(targets.tolist(), share, strict=True):
            key = area_names[a] if area_names is not None else a
            out[key] = out.get(key, 0.0) + float(owed[j] * s)
    return out
