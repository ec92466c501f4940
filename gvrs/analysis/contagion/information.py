"""The log-likelihood, its derivatives, and the 90% intervals from the observed information."""

from __future__ import annotations

import math

import numpy as np

from gvrs.analysis.contagion.background import Background
from gvrs.analysis.contagion.result import Z90, Interval
from gvrs.analysis.contagion.trigger import SpaceTimeTrigger


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
