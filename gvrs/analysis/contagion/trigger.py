"""The space-time triggering kernel: exponential in time, Gaussian in space, truncated; its
intensity, EM update and derivatives for the observed information."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, parallel_chunksize, prange
from scipy.optimize import brentq

from gvrs.analysis.contagion.pairs import CandidatePairs


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


# The parallel loops hand out children this many at a time (rather than one equal share per
# thread up front), so a thread slowed by another program on its core does fewer.
CHILDREN_PER_CHUNK = 1024


@njit(cache=True, parallel=True)
def _child_moments(offsets, lag, d2, omega, inv_2s2, order):
    """Per child i, sums over its candidate parents j of e_ij = exp(-omega lag - d2 / 2s^2)
    times 1, lag, d2 (order 1) and also lag^2, d2^2, lag d2 (order 2): shape (3 or 6, n).

    The E-step's work. Children are shared among threads; each child's sums are taken by one
    thread over its parents in order, so they are the same on any number of threads."""
    n = len(offsets) - 1
    out = np.zeros((3 if order == 1 else 6, n))
    for i in prange(n):
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
        with parallel_chunksize(CHILDREN_PER_CHUNK):
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
        with parallel_chunksize(CHILDREN_PER_CHUNK):
            moments = _child_moments(
                self.pairs.offsets,
                self.pairs.lag_days,
                self.pairs.distance2_m2,
                omega,
                1 / (2 * sigma**2),
                2,
            )
        m00, m10, m01, m20, m02, m11 = moments * self._scale(params)
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
