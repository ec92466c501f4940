"""A self-exciting space-time point process (Hawkes) for shootings, fitted by EM.

    lambda(t, x, y) = nu * h(t) * f(x, y)
                      + sum over earlier events i of  theta * omega * exp(-omega (t - t_i))
                                                      * N2((x, y) - (x_i, y_i); sigma)

The background is a spatial density f (weighted kernel density, leave-one-out) times a
temporal profile h (weighted monthly histogram: trend and season), scaled by nu, the expected
number of background events; triggering is exponential in time and Gaussian in space.
``theta`` is the branching ratio: the share of shootings triggered by earlier ones. EM
alternates the probability that each event was triggered by each candidate parent or arose in
the background (stochastic declustering) with parameter updates that maximise the expected
complete-data likelihood of the truncated model (Mohler et al. 2011, JASA; Veen & Schoenberg
2008).

Triggering is truncated at ``max_distance_m`` and ``max_lag_days``. Candidate parents are
found by a sweep over events binned in space (cells of ``max_distance_m``) and sorted by time
within each cell: a pair more than ``max_lag_days`` apart is never looked at, and only the
kept pairs are stored (8 bytes each, grouped by child), so memory grows with the pairs the
model uses and one EM iteration is one compiled pass over them.

The model is written as a background plus a triggering kernel. The kernel owns its candidate
pairs and parameters and gives, per event, its intensity and the sums that EM and the
observed information need (`SpaceTimeTrigger`); the EM loop and the information matrix use
nothing else, so a second kind of triggering is a second kernel whose intensity adds to the
total and whose parameters add a block to the information.

Intervals are 90% Wald intervals on the log scale from the observed information (the negative
Hessian of the log-likelihood in the log background mass of every time bin, log theta, log
omega and log sigma, with the background's spatial shape held at its fit): the point estimate
always lies inside them. A parameter held on a bound of the fit is fixed there and gets no
interval, with a note.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.ndimage import correlate1d
from scipy.optimize import brentq

from gvrs.analysis.hotspots import Grid, grid_counts, kernel_density

if TYPE_CHECKING:
    from gvrs.analysis.retaliation import RetaliationFit, TurfLinks

Z90 = 1.6448536269514722  # standard normal 95th percentile: two-sided 90% interval


class ContagionError(ValueError):
    """Too few events or settings that make no sense."""


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class ContagionFit:
    branching_ratio: float  # theta
    decay_days: float  # 1 / omega: mean delay from a shooting to one it triggers
    spatial_scale_m: float  # sigma of the Gaussian triggering kernel
    background_events: float  # expected number of untriggered events
    triggered_probability: np.ndarray  # per event, P(triggered by an earlier one)
    iterations: int
    converged: bool  # the parameters moved less than the tolerance in the last iteration
    log_likelihood: float
    kernel_mass_captured: float  # share of the triggering kernel inside the truncation
    n_events: int
    n_candidate_pairs: int
    max_distance_m: float
    max_lag_days: float
    # 90% observed-information intervals (log scale) for branching_ratio, decay_days,
    # spatial_scale_m; a parameter is missing when its interval cannot be computed (see notes).
    intervals: dict[str, Interval] = field(default_factory=dict)
    interval_notes: tuple[str, ...] = ()
    # Kept for the risk surface.
    background_bandwidth_m: float = 300.0
    _x: np.ndarray = field(default=None, repr=False)
    _y: np.ndarray = field(default=None, repr=False)
    _t: np.ndarray = field(default=None, repr=False)
    _background_weight: np.ndarray = field(default=None, repr=False)
    _profile: tuple = field(default=None, repr=False)
    # The second kernel, retaliation on the rival's turf, when the fit was given turf links
    # (`gvrs.analysis.retaliation`); the fields above are then the space-time kernel's, and
    # ``triggered_probability`` is the chance of having been triggered by either.
    retaliation: RetaliationFit | None = None

    @property
    def triggered_share(self) -> float:
        """The estimated share of events triggered by earlier ones (all kernels)."""
        return float(self.triggered_probability.mean())

    @property
    def space_time_share(self) -> float:
        """The estimated share of events triggered through the space-time kernel (near
        repeats): what ``branching_ratio`` is the mean offspring of."""
        other = self.retaliation.triggered_probability if self.retaliation else 0.0
        return float((self.triggered_probability - other).mean())


# --- Candidate pairs ------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidatePairs:
    """Every (parent, child) with 0 < child time - parent time <= max lag and distance <= max
    distance, grouped by child: the pairs of event i are ``offsets[i]:offsets[i + 1]``."""

    offsets: np.ndarray  # int64, n + 1
    lag_days: np.ndarray  # float32, one per pair
    distance2_m2: np.ndarray  # float32, squared distance, one per pair
    parent: np.ndarray | None = None  # int32 parent index, only when asked for

    def __len__(self) -> int:
        return len(self.lag_days)

    def child(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.offsets) - 1), np.diff(self.offsets))


@njit(cache=True)
def _first_at_least(a, lo, hi, value):
    """The first index in a[lo:hi] (sorted) whose value is >= ``value``; hi if none."""
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < value:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def _sweep(x, y, t, cx, cy, ncx, keys, starts, ends, sx, sy, st, si, d2max, lag_max, out):
    """Count the candidate parents of every child (``out`` holds empty arrays) or write them
    into ``out`` = (offsets, lags, squared distances, parents or an empty array).

    Events are binned in square cells as wide as the maximum distance, so every candidate
    parent of event i lies in the 3 x 3 cells around i's; within a cell events are sorted by
    time, so the parents in the time window are one contiguous run found by binary search.
    """
    n = len(x)
    counts = np.zeros(n, dtype=np.int64)
    offsets, lag_out, d2_out, parent_out = out
    fill = len(offsets) > 0
    keep_parent = len(parent_out) > 0
    for i in range(n):
        pos = offsets[i] if fill else 0
        count = 0
        for dy in range(-1, 2):
            for dx in range(-1, 2):
                key = (cy[i] + dy) * ncx + cx[i] + dx
                u = _first_at_least(keys, 0, len(keys), key)
                if u == len(keys) or keys[u] != key:
                    continue
                s, e = starts[u], ends[u]
                lo = _first_at_least(st, s, e, t[i] - lag_max)
                hi = _first_at_least(st, lo, e, t[i])  # strictly earlier
                for j in range(lo, hi):
                    ddx = sx[j] - x[i]
                    ddy = sy[j] - y[i]
                    d2 = ddx * ddx + ddy * ddy
                    if d2 <= d2max:
                        if fill:
                            lag_out[pos] = t[i] - st[j]
                            d2_out[pos] = d2
                            if keep_parent:
                                parent_out[pos] = si[j]
                            pos += 1
                        count += 1
        counts[i] = count
    return counts


def candidate_pairs(
    x_m: np.ndarray,
    y_m: np.ndarray,
    t_days: np.ndarray,
    max_distance_m: float,
    max_lag_days: float,
    *,
    with_parent: bool = False,
) -> CandidatePairs:
    """Candidate (parent, child) pairs within ``max_distance_m`` and ``max_lag_days``.

    Two passes of the same compiled sweep: the first counts each child's parents, the second
    writes them into arrays of exactly that size, so no pair outside the window is ever held.

    Examples
    --------
    >>> p = candidate_pairs(np.array([0.0, 50.0, 5000.0]), np.zeros(3),
    ...                     np.array([0.0, 3.0, 4.0]), 1000.0, 60.0)
    >>> p.offsets.tolist(), p.lag_days.tolist(), p.distance2_m2.tolist()
    ([0, 0, 1, 1], [3.0], [2500.0])
    """
    x, y, t = (np.ascontiguousarray(a, dtype=np.float64) for a in (x_m, y_m, t_days))
    n = len(t)
    # Cells shifted by one so that the neighbours of every cell have non-negative keys.
    cx = np.floor((x - x.min()) / max_distance_m).astype(np.int64) + 1
    cy = np.floor((y - y.min()) / max_distance_m).astype(np.int64) + 1
    ncx = int(cx.max()) + 2
    key = cy * ncx + cx
    order = np.lexsort((t, key))  # by cell, then time
    skey = key[order]
    keys, starts = np.unique(skey, return_index=True)
    ends = np.r_[starts[1:], n]
    args = (x, y, t, cx, cy, ncx, keys, starts, ends, x[order], y[order], t[order], order)
    limits = (float(max_distance_m) ** 2, float(max_lag_days))
    empty_i, empty_f = np.zeros(0, np.int64), np.zeros(0, np.float32)
    counts = _sweep(*args, *limits, (empty_i, empty_f, empty_f, np.zeros(0, np.int32)))
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    total = int(offsets[-1])
    lag = np.empty(total, dtype=np.float32)
    d2 = np.empty(total, dtype=np.float32)
    parent = np.empty(total if with_parent else 0, dtype=np.int32)
    _sweep(*args, *limits, (offsets, lag, d2, parent))
    return CandidatePairs(offsets, lag, d2, parent if with_parent else None)


# --- The space-time triggering kernel -------------------------------------------------------


def exponential_time_mass(
    window_days: np.ndarray, max_lag_days: float, omega: float
) -> tuple[float, float, float]:
    """A(omega) = sum_i (1 - exp(-omega c_i)), the expected triggered events per unit of
    branching ratio of parents that can trigger for ``c_i = window_days[i]`` days, and its
    first and second derivatives in log omega (every exponential-in-time kernel's
    compensator has this time part).

    Every event more than the maximum lag before the end has the full window: those are
    counted once, the few near the end summed one by one.
    """
    c = window_days
    tail = c[c < max_lag_days]
    full = len(c) - len(tail)
    lmax = max_lag_days
    e_full = math.exp(-omega * lmax)
    e = np.exp(-omega * tail)
    wce = omega * tail * e
    w_full = omega * lmax * e_full
    return (
        full * (1 - e_full) + float((1 - e).sum()),
        full * w_full + float(wce.sum()),
        full * (w_full - omega * lmax * w_full) + float((wce - omega * tail * wce).sum()),
    )


def solve_omega(mean_lag: float, time_mass, max_lag_days: float) -> float:
    """The decay rate maximising the expected complete-data likelihood of an exponential
    kernel in time, given its children's mean lag; held at 2 / max lag (a mean delay of half
    the truncation) when the optimum lies beyond it."""

    def d_omega(w: float) -> float:  # omega x d/d omega of the profile, over P
        a, a_w, _ = time_mass(w)
        return 1 - w * mean_lag - a_w / a

    lo, hi = 2 / max_lag_days, max(100.0 / max(mean_lag, 1e-9), 1e3 / max_lag_days)
    return lo if d_omega(lo) <= 0 else brentq(d_omega, lo, hi, xtol=1e-12, rtol=1e-10)


@njit(cache=True)
def _child_moments(offsets, lag, d2, omega, inv_2s2, order):
    """Per child i, sums over its candidate parents j of e_ij = exp(-omega lag - d2 / 2s^2)
    times 1, lag, d2 (order 1) and also lag^2, d2^2, lag d2 (order 2): shape (3 or 6, n)."""
    n = len(offsets) - 1
    out = np.zeros((3 if order == 1 else 6, n))
    for i in range(n):
        m00 = m10 = m01 = m20 = m02 = m11 = 0.0
        for k in range(offsets[i], offsets[i + 1]):
            tau = np.float64(lag[k])
            dd = np.float64(d2[k])
            e = math.exp(-omega * tau - dd * inv_2s2)
            m00 += e
            m10 += e * tau
            m01 += e * dd
            if order == 2:
                m20 += e * tau * tau
                m02 += e * dd * dd
                m11 += e * tau * dd
        out[0, i] = m00
        out[1, i] = m10
        out[2, i] = m01
        if order == 2:
            out[3, i] = m20
            out[4, i] = m02
            out[5, i] = m11
    return out


@dataclass(frozen=True)
class SpaceTimeTrigger:
    """g(lag, d) = theta omega exp(-omega lag) exp(-d^2 / 2 sigma^2) / (2 pi sigma^2),
    truncated at ``max_distance_m`` and ``max_lag_days``. Parameters (theta, omega, sigma).

    ``window_days[i]`` is how long event i could trigger inside the data: min(end - t_i,
    max lag), so the compensator (expected number of triggered events) is
    theta x sum_i (1 - exp(-omega window_i)) x (1 - exp(-max_distance^2 / 2 sigma^2)).
    """

    pairs: CandidatePairs
    window_days: np.ndarray
    max_distance_m: float
    max_lag_days: float
    min_spatial_scale_m: float = 0.0
    names = ("branching_ratio", "decay_days", "spatial_scale_m")

    def _scale(self, params) -> float:
        theta, omega, sigma = params
        return theta * omega / (2 * math.pi * sigma**2)

    def sums(self, params) -> np.ndarray:
        """(3, n): per child, the triggered intensity sum_j g_ij, sum_j g_ij lag_ij and
        sum_j g_ij d2_ij; EM divides them by the total intensity to get expected counts."""
        _, omega, sigma = params
        m = _child_moments(
            self.pairs.offsets,
            self.pairs.lag_days,
            self.pairs.distance2_m2,
            omega,
            1 / (2 * sigma**2),
            1,
        )
        m *= self._scale(params)
        return m

    # The compensator's time part A(omega) = sum_i (1 - exp(-omega c_i)) and its derivatives
    # in log omega, and its space part B(sigma) with derivatives in log sigma.
    def _time_mass(self, omega: float) -> tuple[float, float, float]:
        return exponential_time_mass(self.window_days, self.max_lag_days, omega)

    def _space_mass(self, sigma: float) -> tuple[float, float, float]:
        u = self.max_distance_m**2 / (2 * sigma**2)
        e = math.exp(-u)
        return 1 - e, -2 * u * e, 4 * u * e - 4 * u * u * e

    def compensator(self, params) -> float:
        theta, omega, sigma = params
        return theta * self._time_mass(omega)[0] * self._space_mass(sigma)[0]

    def mass_captured(self, params) -> float:
        _, omega, sigma = params
        return (1 - math.exp(-omega * self.max_lag_days)) * self._space_mass(sigma)[0]

    def m_step(self, expected: np.ndarray, params):
        """Exact maximiser of the expected complete-data log-likelihood of the truncated
        kernel, within bounds.

        ``expected`` = (P, P_lag, P_d2): expected triggered events and their summed lags and
        squared distances. theta profiles out (theta = P / (A B)), leaving one equation in
        omega and one in sigma, each solved by Brent's method. A kernel nearly as flat as the
        truncation window can stand in for a noisy background (a process without contagion
        would get a branching ratio well above 0), so the mean delay is held to at most half
        the maximum lag and the spatial scale to at most half the maximum distance (the
        window then holds at least 86% of the kernel in each); a parameter on a bound gets no
        interval, and the remedy is a wider truncation.
        """
        total, lag_sum, d2_sum = (float(v) for v in expected)
        theta, omega, sigma = params
        if total <= 1e-12:
            return 0.0, omega, sigma
        mean_lag, mean_d2 = lag_sum / total, d2_sum / total
        lmax, dmax2 = self.max_lag_days, self.max_distance_m**2

        omega = solve_omega(mean_lag, self._time_mass, lmax)

        def d_sigma2(v: float) -> float:  # sigma^3 / P x d/d sigma of the profile
            u = dmax2 / (2 * v)
            return -2 * v + mean_d2 + dmax2 / math.expm1(u) if u < 700 else mean_d2 - 2 * v

        lo, hi = 1e-8 * dmax2, dmax2 / 4
        sigma = math.sqrt(hi) if d_sigma2(hi) >= 0 else math.sqrt(brentq(d_sigma2, lo, hi))
        sigma = max(sigma, self.min_spatial_scale_m)
        theta = total / max(self._time_mass(omega)[0] * self._space_mass(sigma)[0], 1e-300)
        return theta, omega, sigma

    def derivatives(self, params):
        """Derivatives in (log theta, log omega, log sigma) of each child's triggered
        intensity S_i (gradient (3, n), Hessian (3, 3, n)) and of the compensator."""
        theta, omega, sigma = params
        m00, m10, m01, m20, m02, m11 = _child_moments(
            self.pairs.offsets,
            self.pairs.lag_days,
            self.pairs.distance2_m2,
            omega,
            1 / (2 * sigma**2),
            2,
        ) * self._scale(params)
        s2, s4 = sigma**2, sigma**4
        # log g = log theta + log omega - omega lag - d2 / 2 sigma^2 - log(2 pi sigma^2), so
        # d log g = (1, 1 - omega lag, d2 / sigma^2 - 2) and its second derivatives are
        # -omega lag (omega, omega) and -2 d2 / sigma^2 (sigma, sigma).
        g_w = m00 - omega * m10
        g_s = m01 / s2 - 2 * m00
        grad = np.stack([m00, g_w, g_s])
        h_ww = m00 - 3 * omega * m10 + omega**2 * m20
        h_ss = m02 / s4 - 6 * m01 / s2 + 4 * m00
        h_ws = m01 / s2 - 2 * m00 - omega * m11 / s2 + 2 * omega * m10
        hess = np.stack(
            [np.stack([m00, g_w, g_s]), np.stack([g_w, h_ww, h_ws]), np.stack([g_s, h_ws, h_ss])]
        )
        a, a_w, a_ww = self._time_mass(omega)
        b, b_s, b_ss = self._space_mass(sigma)
        c_grad = theta * np.array([a * b, a_w * b, a * b_s])
        c_hess = theta * np.array(
            [
                [a * b, a_w * b, a * b_s],
                [a_w * b, a_ww * b, a_w * b_s],
                [a * b_s, a_w * b_s, a * b_ss],
            ]
        )
        return grad, hess, c_grad, c_hess

    def on_bounds(self, params) -> dict[str, str]:
        """Parameters held at a bound of the fit (see `m_step`), with why."""
        _, omega, sigma = params
        out = {}
        if omega <= 2 * (1 + 1e-9) / self.max_lag_days:
            out["decay_days"] = (
                f"mean delay at its bound, half the maximum lag of {self.max_lag_days:g} days"
            )
        if sigma <= self.min_spatial_scale_m * (1 + 1e-9):
            out["spatial_scale_m"] = f"spatial scale at its floor of {self.min_spatial_scale_m:g} m"
        elif sigma >= self.max_distance_m / 2 * (1 - 1e-9):
            out["spatial_scale_m"] = (
                f"spatial scale at its bound, half the maximum distance of "
                f"{self.max_distance_m:g} m"
            )
        return out

    @staticmethod
    def named(params, log_cov: np.ndarray) -> dict[str, tuple[float, float]]:
        """Point estimates and log-scale standard errors by public name."""
        theta, omega, sigma = params
        se = np.sqrt(np.diag(log_cov))
        return {
            "branching_ratio": (theta, se[0]),
            "decay_days": (1 / omega, se[1]),  # log(1 / omega) = -log omega: same error
            "spatial_scale_m": (sigma, se[2]),
        }


# --- Background -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Background:
    """nu h(t) f(x, y) at the events: a piecewise-constant rate in time (one expected count
    ``mass[k]`` per bin of ``width_days[k]``) times a spatial density (per m^2) that the fit
    holds fixed while it measures the curvature of the likelihood."""

    spatial: np.ndarray  # f at each event, per m^2 (leave-one-out kernel density)
    bin_of_event: np.ndarray  # time bin of each event
    width_days: np.ndarray  # per bin
    mass: np.ndarray  # expected background events per bin; sums to nu

    def intensity(self) -> np.ndarray:
        return (self.mass / self.width_days)[self.bin_of_event] * self.spatial


def _time_bins(t, t_end, bin_days):
    """Bins of ``bin_days`` from the first event; the last one ends with the data (it may be
    shorter: a bin reaching past the data would halve its rate)."""
    edges = np.r_[np.arange(0.0, t_end, bin_days), t_end]
    return edges, np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(edges) - 2)


def _spatial_density(grid, x, y, weights, bandwidth_m, cell):
    """Background spatial density (per m^2) at each event, leaving the event's own kernel
    out. The binned Gaussian kernel is separable, so it is applied as two 1-D passes (the
    same sums as `hotspots.kernel_density`'s 2-D FFT, several times faster on large grids)."""
    reach = max(1, math.ceil(4 * bandwidth_m / grid.cell_m))
    g = np.exp(-0.5 * (np.arange(-reach, reach + 1) * grid.cell_m / bandwidth_m) ** 2)
    g /= g.sum()
    counts = grid_counts(grid, x, y, weights)
    dens = correlate1d(correlate1d(counts, g, axis=0, mode="constant"), g, axis=1, mode="constant")
    at = dens[cell] / grid.cell_m**2
    centre = g[reach] ** 2 / grid.cell_m**2  # the event's own kernel at its own cell
    loo = np.maximum(at - weights * centre, 1e-15)
    return loo / max(weights.sum(), 1e-12)


def _area_density(turf, weights, fallback):
    """Background spatial density as a step function over the areas: each area's weighted
    share of background events (leaving the event's own weight out) over its size; events
    with no area keep the kernel density ``fallback``."""
    area = turf.area
    known = area >= 0
    per_area = np.bincount(area[known], weights=weights[known], minlength=len(turf.area_m2))
    total = per_area.sum()
    a = np.maximum(area, 0)
    own = np.where(known, weights, 0.0)
    loo = np.maximum(per_area[a] - own, 1e-9) / np.maximum(total - own, 1e-12)
    return np.where(known, loo / turf.area_m2[a], fallback)


# --- The fit --------------------------------------------------------------------------------


def fit_contagion(
    x_m: np.ndarray,
    y_m: np.ndarray,
    t_days: np.ndarray,
    *,
    max_distance_m: float = 1_000.0,
    max_lag_days: float = 60.0,
    background_bandwidth_m: float | None = None,
    time_bin_days: float = 30.0,
    max_iterations: int = 500,
    tolerance: float = 1e-5,
    init=(0.2, 0.1, 200.0),
    min_spatial_scale_m: float = 25.0,
    turf: TurfLinks | None = None,
    turf_init=(0.2, 0.1),
    background_spatial: str | None = None,
) -> ContagionFit:
    """Fit the self-exciting model by EM, with 90% observed-information intervals.

    Parameters
    ----------
    x_m, y_m : array of float
        Projected coordinates in metres.
    t_days : array of float
        Event times in days (any origin).
    max_distance_m, max_lag_days : float
        Truncation of the triggering kernel (see the module docstring).
    background_bandwidth_m : float, optional
        Bandwidth of the background's kernel density. Default: the bandwidth that maximises
        the likelihood (see `_bandwidth_by_likelihood`). A fixed bandwidth biases the
        estimates by an amount that depends on how dense the events are: on simulations with
        a true branching ratio of 0.3, 300 m gave 0.29 with 2,000 events over 225 km^2 (the
        background's density at each event then holds some of the clustering) and 0.30 with
        20,000; 1,000 m gave 0.31 with 2,000.
    time_bin_days : float
        Width of the background's temporal bins (trend and season).
    max_iterations, tolerance : int, float
        EM stops when no parameter (nu, theta, omega, sigma) changes by more than
        ``tolerance`` relative to its value in one iteration. The rule does not depend on the
        number of events (a likelihood-relative rule loosens as n grows); ``converged`` says
        whether it was met within ``max_iterations``.
    init : (theta, omega per day, sigma m)
    min_spatial_scale_m : float
        Floor of sigma. Records geocoded to block centroids put unrelated shootings on one
        point; a triggering scale below the geocoding precision cannot be told from that.
    turf : TurfLinks, optional
        Each event's area and its rival's turf (`gvrs.analysis.retaliation`): adds the
        second kernel, retaliation on the rival's turf, whose estimate is ``retaliation``.
        Without it the space-time kernel alone takes whatever triggering it can see.
    turf_init : (theta, omega per day)
        Starting values of the second kernel.
    background_spatial : "kernel" or "areas", optional
        The background's spatial density: a kernel density (``background_bandwidth_m``), or
        a step function over the areas of ``turf`` (each area's share of background events
        over its size). Default: "areas" with turf links, "kernel" without. A kernel density
        smooths each area's level into its neighbours; the turf kernel, uniform over an
        area, would then stand in for the difference (on the simulator with no retaliation
        at all it reported a retaliation branching ratio of 0.16-0.33), so the two kernels
        are fitted over a background by areas.

    Returns
    -------
    ContagionFit

    Notes
    -----
    Mohler, Short, Brantingham, Schoenberg & Tita (2011), Self-exciting point process
    modeling of crime, JASA 106(493); the EM updates of Veen & Schoenberg (2008). Intervals
    are Wald intervals on the log scale from the observed information (Efron & Hinkley 1978),
    with the background's rate in every time bin a parameter of the information matrix and
    its spatial shape held at its fit.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> n = 400
    >>> fit = fit_contagion(rng.uniform(0, 5e3, n), rng.uniform(0, 5e3, n),
    ...                     np.sort(rng.uniform(0, 730, n)))
    >>> fit.branching_ratio < 0.1, fit.converged
    (True, True)
    """
    x, y, t = (np.asarray(a, dtype=float) for a in (x_m, y_m, t_days))
    n = len(t)
    if n < 20:
        raise ContagionError(f"the contagion model needs at least 20 events, got {n}")
    if max_distance_m <= 0 or max_lag_days <= 0:
        raise ContagionError("truncation distance and lag must be positive")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(t).all()):
        raise ContagionError("coordinates and times must be finite numbers")
    settings = dict(
        max_distance_m=max_distance_m,
        max_lag_days=max_lag_days,
        time_bin_days=time_bin_days,
        max_iterations=max_iterations,
        tolerance=tolerance,
        min_spatial_scale_m=min_spatial_scale_m,
        turf=turf,
        turf_init=turf_init,
        background_spatial=background_spatial,
    )
    by_areas = background_spatial == "areas" or (background_spatial is None and turf is not None)
    if by_areas and background_bandwidth_m is None:
        # The kernel density is then only the fallback for events outside every area.
        background_bandwidth_m = BANDWIDTH_START_M
    if background_bandwidth_m is not None:
        return _fit(x, y, t, background_bandwidth_m=background_bandwidth_m, init=init, **settings)
    return _bandwidth_by_likelihood(x, y, t, init, settings)


BANDWIDTH_START_M = 300.0
BANDWIDTH_STEP = 2**0.25  # 19% per step: finer than the likelihood can tell at 2,000 events
BANDWIDTH_RANGE_M = (50.0, 5_000.0)


def _bandwidth_by_likelihood(x, y, t, init, settings) -> ContagionFit:
    """The fit at the background bandwidth of largest likelihood, climbing a ladder of
    bandwidths ``BANDWIDTH_STEP`` apart from ``BANDWIDTH_START_M`` until the likelihood falls.

    Each event's background density leaves the event out, so this is likelihood
    cross-validation of the background's smoothing, done on the whole model's likelihood.
    It balances the two ways the background's kernel density biases the triggering: too
    narrow, it follows the clusters (its value at a triggered event holds the event's
    parent and siblings) and takes their events from the triggering; too wide for the
    events' density, its noise and smoothing leave events unexplained that the triggering
    then claims. On simulations of known parameters this removed the bias a fixed 300 m
    left at 2,000 events (bench/risk_bench.py --coverage). Each step starts EM at the best
    fit so far; the ladder takes four to six fits.
    """
    lo, hi = BANDWIDTH_RANGE_M
    fits: dict[int, ContagionFit] = {}

    def at(step: int) -> ContagionFit:
        if step not in fits:
            best = max(fits.values(), key=lambda f: f.log_likelihood, default=None)
            start = (
                init
                if best is None
                # (a branching ratio of zero would stay zero under EM)
                else (max(best.branching_ratio, 1e-3), 1 / best.decay_days, best.spatial_scale_m)
            )
            bandwidth = BANDWIDTH_START_M * BANDWIDTH_STEP**step
            fits[step] = _fit(x, y, t, background_bandwidth_m=bandwidth, init=start, **settings)
        return fits[step]

    def inside(step: int) -> bool:
        return lo <= BANDWIDTH_START_M * BANDWIDTH_STEP**step <= hi

    direction = 1 if at(1).log_likelihood > at(0).log_likelihood else -1
    step = 1 if direction == 1 else 0
    while (
        inside(step + direction) and at(step + direction).log_likelihood > at(step).log_likelihood
    ):
        step += direction
    return at(step)


def _fit(
    x: np.ndarray,
    y: np.ndarray,
    t: np.ndarray,
    *,
    max_distance_m: float,
    max_lag_days: float,
    background_bandwidth_m: float,
    time_bin_days: float,
    max_iterations: int,
    tolerance: float,
    init,
    min_spatial_scale_m: float,
    turf: TurfLinks | None,
    turf_init,
    background_spatial: str | None,
) -> ContagionFit:
    """`fit_contagion` at one background bandwidth."""
    n = len(t)
    t = t - t.min()
    t_end = float(t.max()) + 1e-9
    grid = Grid.around(
        x, y, cell_m=max(25.0, background_bandwidth_m / 4), pad_m=4 * background_bandwidth_m
    )
    row, col, _ = grid.cell_of(x, y)
    edges, bin_of_event = _time_bins(t, t_end, time_bin_days)
    widths = np.diff(edges)
    space_time = SpaceTimeTrigger(
        candidate_pairs(x, y, t, max_distance_m, max_lag_days),
        np.minimum(t_end - t, max_lag_days),
        max_distance_m,
        max_lag_days,
        min_spatial_scale_m,
    )
    kernel, init = space_time, tuple(init)
    if background_spatial is None:
        background_spatial = "kernel" if turf is None else "areas"
    if background_spatial not in ("kernel", "areas"):
        raise ContagionError(f"background_spatial {background_spatial!r}; valid: kernel, areas")
    if background_spatial == "areas" and turf is None:
        raise ContagionError("a background by areas needs each event's area (turf links)")
    if turf is not None and len(turf.area) != n:
        raise ContagionError(f"turf links for {len(turf.area)} events, not {n}")
    # Without a shooting that has a rival turf the second kernel has nothing to estimate.
    with_turf = turf is not None and any(len(ts) for ts in turf.targets)
    if with_turf:
        from gvrs.analysis.retaliation import Triggers, TurfTrigger

        second = TurfTrigger.build(t, t_end, turf, max_lag_days)
        kernel = Triggers((space_time, second), ("", "retaliation_"))
        init = (*init, *turf_init)

    def background(p_background: np.ndarray, nu: float) -> Background:
        # M-step of the background: its events' weighted histogram over time bins (the
        # exact maximiser for a piecewise-constant rate) and weighted kernel density in space.
        per_bin = np.bincount(bin_of_event, weights=p_background, minlength=len(widths))
        mass = per_bin + 1e-9 * widths
        mass *= nu / mass.sum()
        spatial = _spatial_density(grid, x, y, p_background, background_bandwidth_m, (row, col))
        if background_spatial == "areas":
            spatial = _area_density(turf, p_background, spatial)
        return Background(spatial, bin_of_event, widths, mass)

    params = tuple(float(v) for v in init)
    nu = float(n)
    p_background = np.ones(n)
    converged = False
    iteration = 0
    while iteration < max_iterations:
        iteration += 1
        mu = background(p_background, nu).intensity()
        sums = kernel.sums(params)
        total = mu + sums[0]
        p_background = mu / total
        new_nu = float(p_background.sum())
        new_params = kernel.m_step(sums @ (1 / total), params)
        change = max(
            abs(new - old) / max(abs(old), 1e-12)
            for new, old in zip((new_nu, *new_params), (nu, *params), strict=True)
        )
        nu, params = new_nu, new_params
        if change <= tolerance:
            converged = True
            break
    # The final E-step: the probabilities and the likelihood at the parameters reported.
    bg = background(p_background, nu)
    p_background = bg.intensity() / (bg.intensity() + kernel.sums(params)[0])
    loglik = log_likelihood(kernel, params, bg)
    intervals, notes = _observed_information_intervals(kernel, params, bg)
    retaliation = None
    if with_turf:
        from gvrs.analysis.retaliation import retaliation_fit

        retaliation, intervals, notes = retaliation_fit(kernel, params, bg, intervals, notes)
        params = kernel.split(params)[0]
    theta, omega, sigma = params
    return ContagionFit(
        branching_ratio=float(theta),
        decay_days=float(1 / omega),
        spatial_scale_m=float(sigma),
        background_events=nu,
        triggered_probability=1 - p_background,
        iterations=iteration,
        converged=converged,
        log_likelihood=loglik,
        kernel_mass_captured=float(space_time.mass_captured(params)),
        n_events=n,
        n_candidate_pairs=len(space_time.pairs),
        max_distance_m=max_distance_m,
        max_lag_days=max_lag_days,
        intervals=intervals,
        interval_notes=notes,
        background_bandwidth_m=background_bandwidth_m,
        _x=x,
        _y=y,
        _t=t,
        _background_weight=p_background,
        _profile=(edges, bg.mass / nu / widths, t_end),
        retaliation=retaliation,
    )


def log_likelihood(kernel: SpaceTimeTrigger, params, background: Background) -> float:
    """log L = sum_i log(mu_i + S_i) - sum of background masses - kernel compensator."""
    total = background.intensity() + kernel.sums(params)[0]
    return float(np.log(total).sum() - background.mass.sum() - kernel.compensator(params))


def log_likelihood_derivatives(kernel: SpaceTimeTrigger, params, background: Background):
    """Gradient and Hessian of `log_likelihood` in (log mass of every time bin, log theta,
    log omega, log sigma), the background's spatial shape held fixed.

    Every event lies in one time bin, so the bins' block is diagonal and the bins enter the
    kernel's block only through their cross terms; a second kernel would add its own block
    and its cross terms through the shared total intensity.
    """
    mu = background.intensity()
    total = mu + kernel.sums(params)[0]
    grad_s, hess_s, c_grad, c_hess = kernel.derivatives(params)
    inv = 1 / total
    k = len(background.mass)
    bins = background.bin_of_event
    mass = background.mass
    grad = np.concatenate(
        [np.bincount(bins, weights=mu * inv, minlength=k) - mass, grad_s @ inv - c_grad]
    )
    m = len(c_grad)
    hess = np.zeros((k + m, k + m))
    # d mu_i / d log mass_k = mu_i [i in bin k], and the same for the second derivative.
    hess[np.arange(k), np.arange(k)] = (
        np.bincount(bins, weights=mu * inv - (mu * inv) ** 2, minlength=k) - mass
    )
    cross = np.stack(
        [-np.bincount(bins, weights=mu * g * inv**2, minlength=k) for g in grad_s], axis=1
    )
    hess[:k, k:] = cross
    hess[k:, :k] = cross.T
    hess[k:, k:] = hess_s @ inv - np.einsum("an,bn->ab", grad_s * inv, grad_s * inv) - c_hess
    return grad, hess


def _observed_information_intervals(kernel, params, background):
    """Intervals from the kernel's block of the inverse information: the Schur complement of
    the (diagonal) bins' block, so the uncertainty of the background's rate is carried."""
    _, hess = log_likelihood_derivatives(kernel, params, background)
    k = len(background.mass)
    info = -hess
    d = np.diag(info)[:k]
    used = d > 1e-12  # a bin without events has no information and no cross terms
    cross = info[:k, k:][used]
    reduced = info[k:, k:] - cross.T @ (cross / d[used, None])
    # A parameter held on a bound is fixed there: the others' intervals come from their own
    # block (the likelihood is not flat in them at a bound, so the full block need not be
    # positive definite).
    bounds = kernel.on_bounds(params)
    free = [a for a, name in enumerate(kernel.names) if name not in bounds]
    notes = [f"{reason}: no interval" for reason in bounds.values()]
    block = reduced[np.ix_(free, free)]
    if not free:
        return {}, tuple(notes)
    if not np.all(np.isfinite(block)) or np.any(np.linalg.eigvalsh(block) <= 0):
        return {}, (*notes, "the likelihood is not curved at the estimate: no intervals")
    cov = np.full_like(reduced, np.nan)
    cov[np.ix_(free, free)] = np.linalg.inv(block)
    intervals = {}
    for name, (value, se) in kernel.named(params, cov).items():
        if name in bounds:
            continue
        if not Z90 * se < 20:  # a factor of e^20 either way: the estimate is at about zero
            notes.append(f"{name.replace('_', ' ')} too uncertain for an interval (near zero?)")
            continue
        intervals[name] = Interval(
            float(value * math.exp(-Z90 * se)), float(value * math.exp(Z90 * se))
        )
    return intervals, tuple(notes)


def simulate_hawkes(
    fit_or_params,
    rng: np.random.Generator,
    *,
    x_bg=None,
    y_bg=None,
    w_bg=None,
    profile=None,
    jitter_m: float = 300.0,
):
    """Simulate the model by its branching structure (used by tests and benchmarks).

    ``fit_or_params`` is a ContagionFit, whose background is resampled from its events
    weighted by their background probability (with Gaussian jitter), or a dict with
    theta, omega, sigma, mu, t_end and background arrays.
    """
    if isinstance(fit_or_params, ContagionFit):
        fit = fit_or_params
        theta, omega, sigma = fit.branching_ratio, 1 / fit.decay_days, fit.spatial_scale_m
        mu = fit.background_events
        x_bg, y_bg, w_bg = fit._x, fit._y, fit._background_weight
        edges, density, t_end = fit._profile
        jitter_m = fit.background_bandwidth_m
    else:
        p = fit_or_params
        theta, omega, sigma, mu = p["theta"], p["omega"], p["sigma"], p["mu"]
        edges, density, t_end = profile
    n0 = rng.poisson(mu)
    bins = rng.choice(len(density), size=n0, p=density * np.diff(edges))
    t = edges[bins] + rng.random(n0) * np.diff(edges)[bins]
    pick = rng.choice(len(x_bg), size=n0, p=w_bg / w_bg.sum())
    x = x_bg[pick] + rng.normal(0, jitter_m, n0)
    y = y_bg[pick] + rng.normal(0, jitter_m, n0)
    parent = np.full(n0, -1)
    xs, ys, ts, ps = [x], [y], [t], [parent]
    first = 0
    while len(t):
        k = rng.poisson(theta, size=len(t))
        src = np.repeat(np.arange(len(t)), k)
        t_new = t[src] + rng.exponential(1 / omega, size=len(src))
        keep = t_new < t_end
        x = x[src][keep] + rng.normal(0, sigma, keep.sum())
        y = y[src][keep] + rng.normal(0, sigma, keep.sum())
        parent = (first + src)[keep]
        first += len(t)
        t = t_new[keep]
        xs.append(x), ys.append(y), ts.append(t), ps.append(parent)
    return (np.concatenate(xs), np.concatenate(ys), np.concatenate(ts), np.concatenate(ps))


def risk_surface(fit: ContagionFit, grid: Grid, horizon_days: float) -> np.ndarray:
    """Expected shootings per cell over the next ``horizon_days`` after the last event:
    background (its recent level) plus what the recent events are still triggering."""
    x, y, t = fit._x, fit._y, fit._t
    _, density, t_end = fit._profile
    recent_rate = fit.background_events * density[-1]  # background events per day, now
    background = (
        kernel_density(grid, x, y, fit.background_bandwidth_m, fit._background_weight)
        * (grid.cell_m / 1000) ** 2
    )
    background *= recent_rate * horizon_days / max(fit._background_weight.sum(), 1e-12)
    omega = 1 / fit.decay_days
    age = t_end - t
    weight = fit.branching_ratio * (np.exp(-omega * age) - np.exp(-omega * (age + horizon_days)))
    active = weight > 1e-6
    triggered = (
        kernel_density(grid, x[active], y[active], fit.spatial_scale_m, weight[active])
        * (grid.cell_m / 1000) ** 2
    )
    return background + triggered
