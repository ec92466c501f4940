"""The workload file: a jurisdiction's own officers and hours per shooting, and the cost table
it cites. TOML, passed as ``gvrs report --workload FILE`` or kept as ``$GVRS_HOME/workload.toml``::

    [workload]
    officers = [5, 12]          # officers sent to one shooting, low and high
    hours = [1, 3]              # hours each spends on it
    source = "Fresno's police chief, quoted in local news"

    [[cost]]                    # optional; gvrs ships no cost figure
    label = "police response"
    per_shooting = [2500, 4000]
    currency = "USD"
    price_year = 2023
    source = "City budget office, cost of a shooting response, 2023"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gvrs.analysis.workload import (
    CostPerShooting,
    WorkloadAssumptions,
    WorkloadError,
    cost_table_from_mapping,
)
from gvrs.data.tomlfiles import read_toml
from gvrs.env import gvrs_home


@dataclass(frozen=True)
class WorkloadConfig:
    assumptions: WorkloadAssumptions
    costs: tuple[CostPerShooting, ...]


def read_workload(path: str | Path | None) -> WorkloadConfig:
    """The file named, else ``$GVRS_HOME/workload.toml`` when it exists, else Fresno's chief's
    figures and no cost table. Errors name the file and the field."""
    if path is None:
        default = gvrs_home() / "workload.toml"
        if not default.exists():
            return WorkloadConfig(WorkloadAssumptions(), ())
        path = default
    document = read_toml(path, WorkloadError, "workload")
    unknown = set(document) - {"workload", "cost"}
    try:
        if unknown:
            raise WorkloadError(f"unknown tables {sorted(unknown)}; valid: [workload], [[cost]]")
        costs = document.get("cost", [])
        if not isinstance(costs, list):
            raise WorkloadError("cost: write each line of the cost table as [[cost]]")
        return WorkloadConfig(
            WorkloadAssumptions.from_mapping(document.get("workload", {})),
            cost_table_from_mapping(costs),
        )
    except WorkloadError as exc:
        raise WorkloadError(f"{path}: {exc}") from None
