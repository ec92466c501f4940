"""Framework-free data layer: the canonical schema, readers, column mappings and validation.

Nothing here imports Django: a file can be read, mapped and validated from a notebook, and the
registry (``gvrs.incidents``) stores what comes out.
"""

from importlib import resources
from pathlib import Path

BUNDLED = {
    "ca-doj": "ca_doj_crimes_clearances_1985_2022.csv.gz",
    "philly-shootings": "philly_shooting_victims_2015_2025.csv.gz",
}
PHILADELPHIA_NEIGHBORHOODS = "philadelphia_neighborhoods.geojson.gz"


def bundled_path(format_name: str) -> Path:
    """The demo file shipped in the package for ``format_name`` (see bundled/ATTRIBUTION.md)."""
    return bundled_file(BUNDLED[format_name])


def bundled_file(name: str) -> Path:
    """A file shipped in ``gvrs/data/bundled`` (see its ATTRIBUTION.md)."""
    return Path(str(resources.files("gvrs.data") / "bundled" / name))
