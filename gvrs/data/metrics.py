"""Metrics are definitions, not code: a named filter over incidents and what it counts.

"Shootings" means people shot in one city and incidents with a victim hit in another, so every
published figure names its metric, and a jurisdiction can define its own in TOML.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from gvrs.data.schema import VICTIM_FIELD_PREFIX, Circumstance, GroupInvolvement, Kind, Weapon
from gvrs.data.tomlfiles import read_toml

COUNTS = ("incidents", "victims", "killed", "injured", "people")
_FILTERS = {
    "kinds": {k.value for k in Kind},
    "weapons": {w.value for w in Weapon},
    "group_involvement": {g.value for g in GroupInvolvement},
    "circumstances": {c.value for c in Circumstance},
}


class MetricError(ValueError):
    """An unknown metric or a bad definition; the message lists the valid choices."""


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    count: str = "incidents"
    kinds: tuple[str, ...] = ()
    weapons: tuple[str, ...] = ()
    group_involvement: tuple[str, ...] = ()
    circumstances: tuple[str, ...] = ()
    # A series only published by others (e.g. robberies in the CA DOJ counts): never counted
    # from incidents, whose kinds do not describe it.
    published_only: bool = False
    # A proportion of two metrics (numerator, denominator), e.g. homicides cleared / homicides.
    ratio: tuple[str, ...] = ()
    caveat: str = ""
    # Only victims whose fields have these values: (("victim_sex", ("female",)), ...); a
    # metric of incidents then counts those with at least one such victim.
    victims: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def unit(self) -> str:
        return "incidents" if self.count == "incidents" else "people"

    @property
    def counted_from(self) -> str:
        if self.ratio:
            return f"ratio of {self.ratio[0]} to {self.ratio[1]}"
        return "published counts" if self.published_only else "incidents or published counts"


def _parse(name: str, spec: dict, where: str) -> Metric:
    unknown = set(spec) - {
        "label",
        "description",
        "count",
        "published_only",
        "ratio",
        "caveat",
        "victims",
        *_FILTERS,
    }
    if unknown:
        raise MetricError(f"{where}: metric {name!r} has unknown keys {sorted(unknown)}")
    count = spec.get("count", "incidents")
    if count not in COUNTS:
        raise MetricError(f"{where}: metric {name!r}: count must be one of {', '.join(COUNTS)}")
    filters = {}
    for key, valid in _FILTERS.items():
        values = tuple(spec.get(key, ()))
        bad = set(values) - valid
        if bad:
            raise MetricError(
                f"{where}: metric {name!r}: {key} {sorted(bad)} unknown; valid: {sorted(valid)}"
            )
        filters[key] = values
    ratio = tuple(spec.get("ratio", ()))
    if ratio and len(ratio) != 2:
        raise MetricError(
            f"{where}: metric {name!r}: ratio names two metrics, [numerator, denominator]"
        )
    victims = spec.get("victims", {})
    if not isinstance(victims, dict) or not all(
        isinstance(k, str)
        and k.startswith(VICTIM_FIELD_PREFIX)
        and isinstance(v, list)
        and v
        and all(isinstance(x, str) for x in v)
        for k, v in victims.items()
    ):
        raise MetricError(
            f"{where}: metric {name!r}: victims maps person fields to lists of values, e.g. "
            'victims = { victim_sex = ["female"], victim_age_group = ["under 18"] }'
        )
    return Metric(
        name=name,
        victims=tuple((k, tuple(v)) for k, v in victims.items()),
        label=spec.get("label", name.replace("_", " ").capitalize()),
        description=spec.get("description", ""),
        count=count,
        published_only=bool(spec.get("published_only", False)) or bool(ratio),
        ratio=ratio,
        caveat=spec.get("caveat", ""),
        **filters,
    )


def load_metrics(extra: str | Path | None = None) -> dict[str, Metric]:
    """The shipped metrics, plus (overriding by name) those in ``extra``, a TOML file."""
    text = (resources.files("gvrs.data") / "metrics.toml").read_text(encoding="utf-8")
    metrics = {n: _parse(n, s, "metrics.toml") for n, s in tomllib.loads(text).items()}
    if extra is not None:
        path = Path(extra)
        document = read_toml(path, MetricError, "metrics")
        metrics.update({n: _parse(n, s, str(path)) for n, s in document.items()})
    return metrics


def get_metric(name: str, metrics: dict[str, Metric] | None = None) -> Metric:
    metrics = metrics or load_metrics()
    if name not in metrics:
        close = difflib.get_close_matches(name, list(metrics), n=1, cutoff=0.6)
        hint = f" did you mean {close[0]!r}?" if close else ""
        raise MetricError(
            f"unknown metric {name!r};{hint} valid metrics: {', '.join(sorted(metrics))}"
        )
    return metrics[name]
