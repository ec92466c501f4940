"""The synthetic control's two optimisations: donor weights on the simplex for a given
importance of each predictor, and the importance of the predictors (V) chosen so that the
blend tracks the treated place's outcome before the start (Abadie, Diamond & Hainmueller
2010, section 2.3).

The inner problem is solved exactly, at any scale of the data, by non-negative least squares
(Lawson & Hanson's active-set method, compiled): minimising ||A u||^2 + (1'u - 1)^2 over u >= 0 and
dividing by the sum gives the point of the simplex closest to the target (proof in
``synth_weights``). A general-purpose solver with absolute tolerances stops early on
unscaled levels (Proposition 99's packs per person, squared, are in the tens of
thousands) and reports success with equal weights.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy import optimize


def synth_weights(
    target: np.ndarray, donors: np.ndarray, importance: np.ndarray | None = None
) -> np.ndarray:
    """Weights w >= 0 summing to 1 that minimise ||target - donors @ w|| (weighted by
    ``importance`` per row when given).

    Parameters
    ----------
    target : numpy.ndarray, shape (T,)
        What the blend should match: the treated place's pre-period outcomes or predictors.
    donors : numpy.ndarray, shape (T, J)
        The same for each donor, a column each, in the same units.
    importance : numpy.ndarray, shape (T,), optional
        Non-negative weight of each row (the diagonal of ADH's V); all 1 when omitted.

    Returns
    -------
    numpy.ndarray, shape (J,)
        The weights; the same whatever the unit of the data (levels or scaled).

    Notes
    -----
    The synthetic control weights of Abadie, Diamond & Hainmueller (2010). With A the matrix
    of differences target - donor (one column per donor), ||target - donors @ w||^2 =
    ||A w||^2 on the simplex. For u = s w (s > 0, w on the simplex), ||A u||^2 + (1'u - 1)^2
    = s^2 ||A w||^2 + (s - 1)^2, which is smallest at s = 1 / (1 + ||A w||^2) with value
    ||A w||^2 / (1 + ||A w||^2), increasing in ||A w||^2: so the non-negative least-squares
    solution u* of [A; 1'] u = [0; 1] gives the optimal w = u* / sum(u*) (Lawson & Hanson
    1974, chapter 23). A is divided by its largest entry first, so the problem is the same,
    and as well conditioned, whatever the unit of the data.

    Examples
    --------
    >>> donors = np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]])
    >>> np.round(synth_weights(donors @ [0.25, 0.75], donors), 3)
    array([0.25, 0.75])
    >>> np.round(synth_weights(1e6 * donors @ [0.25, 0.75], 1e6 * donors), 3)
    array([0.25, 0.75])
    """
    target = np.asarray(target, dtype=float)
    donors = np.asarray(donors, dtype=float)
    n = donors.shape[1]
    if n == 1:
        return np.ones(1)
    differences = target[:, None] - donors
    if importance is not None:
        differences = differences * np.sqrt(np.asarray(importance, dtype=float))[:, None]
    scale = float(np.max(np.abs(differences))) if differences.size else 0.0
    if not np.isfinite(scale):
        raise ValueError("synth_weights: the data hold a missing or infinite value")
    if scale == 0:
        return np.full(n, 1 / n)  # every donor matches exactly: any blend does
    differences = differences / scale
    # [A; 1'] u = [0; 1] in normal-equation form: G = A'A + 11', b = [A; 1']' [0; 1] = 1.
    u = _nnls_gram(differences.T @ differences + 1.0, np.ones(n), 50 * n)
    return u / u.sum()


@njit(cache=True)
def _cholesky_solve(gram, b, idx, p, out) -> bool:
    """Solve gram[idx, idx] out = b[idx] for the first p indices; False if not positive
    definite (a column that depends on the others)."""
    low = np.zeros((p, p))
    for i in range(p):
        for j in range(i + 1):
            s = gram[idx[i], idx[j]]
            for q in range(j):
                s -= low[i, q] * low[j, q]
            if i == j:
                if s <= 1e-14 * gram[idx[i], idx[i]]:
                    return False
                low[i, i] = np.sqrt(s)
            else:
                low[i, j] = s / low[j, j]
    y = np.zeros(p)
    for i in range(p):
        s = b[idx[i]]
        for q in range(i):
            s -= low[i, q] * y[q]
        y[i] = s / low[i, i]
    for i in range(p - 1, -1, -1):
        s = y[i]
        for q in range(i + 1, p):
            s -= low[q, i] * out[q]
        out[i] = s / low[i, i]
    return True


@njit(cache=True)
def _nnls_gram(gram, b, max_iter):
    """Lawson & Hanson's non-negative least squares (1974, algorithm NNLS) on the normal
    equations: argmin ||E u - f|| over u >= 0 given gram = E'E and b = E'f. The synthetic
    control runs it thousands of times per evaluation (placebos, conformal inversion, the
    predictor-importance search), on systems of a few dozen donors; compiled, with no
    allocation inside the loop. A column that depends on those already in the solution is
    left out (the solution is the same without it)."""
    n = len(b)
    x = np.zeros(n)
    passive = np.zeros(n, dtype=np.bool_)
    barred = np.zeros(n, dtype=np.bool_)
    idx = np.zeros(n, dtype=np.int64)
    z = np.zeros(n)
    largest = 0.0
    for i in range(n):
        largest = max(largest, abs(gram[i, i]))
    tol = 1e-12 * max(largest, 1e-300)
    iterations = 0
    while True:
        w = b - gram @ x
        j = -1
        best = tol
        for i in range(n):
            if not passive[i] and not barred[i] and w[i] > best:
                best = w[i]
                j = i
        if j < 0:
            return x
        passive[j] = True
        while True:
            p = 0
            for i in range(n):
                if passive[i]:
                    idx[p] = i
                    p += 1
            if not _cholesky_solve(gram, b, idx, p, z):
                passive[j] = False
                barred[j] = True
                break
            positive = True
            for a in range(p):
                if z[a] <= 0.0:
                    positive = False
            if positive:
                for a in range(p):
                    x[idx[a]] = z[a]
                break
            iterations += 1
            if iterations > max_iter:
                return x
            # Step towards z until the first passive variable reaches 0, and drop it.
            alpha = 1.0
            for a in range(p):
                if z[a] <= 0.0:
                    step = x[idx[a]] / (x[idx[a]] - z[a])
                    alpha = min(alpha, step)
            for a in range(p):
                x[idx[a]] += alpha * (z[a] - x[idx[a]])
                if x[idx[a]] <= 1e-15:
                    x[idx[a]] = 0.0
                    passive[idx[a]] = False


@dataclass(frozen=True)
class PredictorFit:
    """The nested fit: predictor importances ``v`` (summing to 1, one per predictor row) and
    the donor weights they give, with the pre-period mean squared error of the outcome that
    ``v`` was chosen to minimise (the outer loss) and how many starting points were tried."""

    v: np.ndarray
    weights: np.ndarray
    outcome_mse: float
    predictors_scaled: np.ndarray  # (K, 1 + J): treated first, each row divided by its SD
    starts: int


def scale_predictors(predictors: np.ndarray) -> np.ndarray:
    """Each predictor row divided by its standard deviation over all places (treated and
    donors), as Synth does, so that a predictor in dollars and one in shares start equal."""
    predictors = np.asarray(predictors, dtype=float)
    spread = predictors.std(axis=1, ddof=1)
    spread[~(spread > 0)] = 1.0
    return predictors / spread[:, None]


def predictor_weights(
    predictors: np.ndarray, outcomes: np.ndarray, *, seed: int = 0
) -> PredictorFit:
    """Donor weights from predictors, with the predictors' importance chosen by the data.

    Parameters
    ----------
    predictors : numpy.ndarray, shape (K, 1 + J)
        One row per predictor (e.g. mean log income 1980-88), one column per place, the
        treated place first. Rows are scaled by their standard deviation here.
    outcomes : numpy.ndarray, shape (T0, 1 + J)
        The pre-period outcome, same column order: V is chosen so that the weights W(V)
        reproduce the treated place's pre-period outcome best (mean squared error).
    seed : int
        For the few random starting points added to the fixed ones.

    Returns
    -------
    PredictorFit

    Notes
    -----
    The nested optimisation of Abadie, Diamond & Hainmueller (2010, eq. 2-3) and of Synth:
    W*(V) = argmin (X1 - X0 W)' V (X1 - X0 W) over the simplex, and V* = argmin over
    diagonal V >= 0 with trace 1 of the pre-period MSPE of Z1 - Z0 W*(V). The outer problem
    is not convex (W* jumps as donors enter and leave), so it is searched from equal
    importances, the regression-based start of Synth, each predictor alone and a few random
    points, by Powell's method then Nelder-Mead, and the best is kept (Becker & Klößner 2018,
    "Fast and reliable computation of generalized synthetic controls", on why one start is
    not enough). Each evaluation of W*(V) is exact (``synth_weights``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> donors = rng.normal(size=(3, 6))
    >>> treated = donors @ np.array([0.5, 0.5, 0, 0, 0, 0])
    >>> x = np.column_stack([treated, donors])
    >>> z = np.column_stack([treated, donors])  # outcomes that follow the predictors
    >>> fit = predictor_weights(x, z)
    >>> np.round(fit.weights[:2], 2)
    array([0.5, 0.5])
    """
    x = scale_predictors(predictors)
    z = np.asarray(outcomes, dtype=float)
    k = x.shape[0]
    x1, x0 = x[:, 0], x[:, 1:]
    z1, z0 = z[:, 0], z[:, 1:]

    def weights_for(v: np.ndarray) -> np.ndarray:
        return synth_weights(x1, x0, v)

    def loss(raw: np.ndarray) -> float:
        v = _importance(raw)
        gap = z1 - z0 @ weights_for(v)
        return float(gap @ gap / len(gap))

    if k == 1:
        v = np.ones(1)
        w = weights_for(v)
        return PredictorFit(v, w, loss(v), x, 1)
    rng = np.random.default_rng(seed)
    starts = [np.full(k, 1 / k), _regression_start(x, z)]
    starts += [0.1 / k + 0.9 * np.eye(k)[i] for i in range(k)]
    starts += list(rng.dirichlet(np.ones(k), size=2))
    best_raw, best = starts[0], loss(starts[0])
    for start in starts:
        found = optimize.minimize(
            loss, start, method="Powell", options={"xtol": 1e-4, "ftol": 1e-9, "maxfev": 600}
        )
        if found.fun < best - 1e-12:
            best_raw, best = found.x, float(found.fun)
    polished = optimize.minimize(
        loss,
        best_raw,
        method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-12, "maxfev": 2000},
    )
    if polished.fun < best:
        best_raw, best = polished.x, float(polished.fun)
    v = _importance(best_raw)
    return PredictorFit(v, weights_for(v), best, x, len(starts))


def _importance(raw: np.ndarray) -> np.ndarray:
    """Synth's parametrisation: |x| / sum |x| (a predictor can get no weight at all)."""
    v = np.abs(np.asarray(raw, dtype=float))
    total = v.sum()
    return v / total if total > 0 else np.full(len(v), 1 / len(v))


def _regression_start(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Synth's regression-based start: regress each period's outcome on the predictors
    across places; a predictor's importance is its squared coefficients summed over periods."""
    design = np.column_stack([np.ones(x.shape[1]), x.T])
    beta, *_ = np.linalg.lstsq(design, z.T, rcond=None)
    start = (beta[1:] ** 2).sum(axis=1)
    return start / start.sum() if start.sum() > 0 else np.full(x.shape[0], 1 / x.shape[0])
