"""Did the strategy work? Three designs that compare what happened with what would have
happened without it, each with its honesty checks built in.

- ``interrupted_time_series``: the place against its own pre-period trend and seasons.
- ``difference_in_differences``: the place against comparison places, with an event study.
- ``synthetic_control``: the place against a weighted blend of donor places.
- ``staggered_adoption``: many places whose strategies began at different times, each
  adoption cohort against the places not yet treated (Callaway & Sant'Anna 2021).

Every result is an ``Evaluation``: an effect ratio (actual / counterfactual) with its
interval and p-value, the pre-period fit, a pre-trend test, the estimate's rank among
placebos, what the design assumes, and one sentence that claims an effect only when the
interval excludes no effect and the placebos agree.
"""

from __future__ import annotations

from gvrs.analysis.evaluation._core import Evaluation, EvaluationError, PlaceboOutcome
from gvrs.analysis.evaluation.did import difference_in_differences
from gvrs.analysis.evaluation.its import interrupted_time_series
from gvrs.analysis.evaluation.staggered import staggered_adoption, two_way_fixed_effects
from gvrs.analysis.evaluation.synth import (
    DonorPool,
    select_donors,
    synth_weights,
    synthetic_control,
)

__all__ = [
    "DonorPool",
    "Evaluation",
    "EvaluationError",
    "PlaceboOutcome",
    "difference_in_differences",
    "interrupted_time_series",
    "select_donors",
    "staggered_adoption",
    "synth_weights",
    "synthetic_control",
    "two_way_fixed_effects",
]
