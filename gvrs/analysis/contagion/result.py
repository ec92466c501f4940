"""What a contagion fit returns: the estimates, their intervals, and what the risk surface
and the simulator need of the data."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

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
    # (`retaliation`, below); the fields above are then the space-time kernel's, and
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


@dataclass(frozen=True)
class RetaliationFit:
    """The second kernel's estimate. ``branching_ratio`` is the expected number of shootings
    on the rival's turf triggered by one shooting that has a rival turf (``eligible_events``
    of them); ``triggered_share`` is the share of all events the fit attributes to it."""

    branching_ratio: float
    decay_days: float
    eligible_events: int
    n_candidate_pairs: int
    triggered_probability: np.ndarray  # per event, P(triggered through this kernel)
    intervals: dict  # name -> contagion.Interval (90%, observed information)
    interval_notes: tuple[str, ...] = ()

    @property
    def triggered_share(self) -> float:
        return float(self.triggered_probability.mean())
