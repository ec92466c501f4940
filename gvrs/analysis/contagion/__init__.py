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

The modules: `result` (what a fit returns), `pairs` (the candidate sweep), `trigger` (the
space-time kernel), `retaliation` (the second kernel: retaliation on the rival's turf),
`background`, `information` (likelihood, derivatives, intervals), `fit` (EM and the background
bandwidth) and `surface` (simulation and the risk surface). Everything but the second kernel
is imported from here.
"""

from gvrs.analysis.contagion.background import Background, _time_bins
from gvrs.analysis.contagion.fit import fit_contagion
from gvrs.analysis.contagion.information import log_likelihood, log_likelihood_derivatives
from gvrs.analysis.contagion.pairs import CandidatePairs, candidate_pairs
from gvrs.analysis.contagion.result import Z90, ContagionError, ContagionFit, Interval
from gvrs.analysis.contagion.surface import risk_surface, simulate_hawkes
from gvrs.analysis.contagion.trigger import SpaceTimeTrigger, exponential_time_mass, solve_omega

__all__ = [
    "Z90",
    "Background",
    "CandidatePairs",
    "ContagionError",
    "ContagionFit",
    "Interval",
    "SpaceTimeTrigger",
    "_time_bins",
    "candidate_pairs",
    "exponential_time_mass",
    "fit_contagion",
    "log_likelihood",
    "log_likelihood_derivatives",
    "risk_surface",
    "simulate_hawkes",
    "solve_omega",
]
