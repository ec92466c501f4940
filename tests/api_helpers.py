"""A small city for the API tests, and tokens for the personas."""

from __future__ import annotations

import numpy as np
import pytest

from gvrs.accounts.tokens import create_token
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident
from tests.importing_helpers import row, write_csv

CELL_M = 500


@pytest.fixture
def city(tmp_path, settings) -> str:
    """Bakersfield, 2021-2022: 60 shootings (25 clustered within 60 m, 3 at a spot 5 km away,
    the rest scattered over three areas) and 12 homicides. Returns the place's slug."""
    settings.GVRS_MAP_CELL_M = CELL_M
    settings.GVRS_SUPPRESS_BELOW = 5
    rng = np.random.default_rng(11)
    spots = (
        [(35.37123, -119.01877, "Downtown")] * 25
        + [(35.41771, -119.06313, "Oildale")] * 3
        + [
            (35.30 + rng.uniform(0, 0.1), -119.10 + rng.uniform(0, 0.1), "East Bakersfield")
            for _ in range(32)
        ]
    )
    rows = []
    for i, (lat, lon, area) in enumerate(spots):
        rows.append(
            row(
                f"S-{i}",
                kind="nonfatal_shooting",
                killed="0",
                injured="1",
                area=area,
                occurred_at=f"{2021 + i % 2}-{1 + i % 12:02d}-{1 + i % 27:02d}",
                latitude=f"{lat + rng.uniform(-0.0005, 0.0005):.6f}",
                longitude=f"{lon + rng.uniform(-0.0005, 0.0005):.6f}",
            )
        )
    for i in range(12):
        rows.append(
            row(
                f"H-{i}",
                area="East Bakersfield",
                occurred_at=f"{2021 + i % 2}-{1 + i:02d}-15T22:10",
                latitude=f"{35.35 + i / 1000:.6f}",
                longitude=f"{-119.02 - i / 1000:.6f}",
            )
        )
    path = write_csv(tmp_path / "bakersfield.csv", rows)
    assert import_file(path, load_format("gvrs"), covers_through=None).ok
    return Incident.objects.first().jurisdiction.slug


def bearer(user, name: str = "test", days: int = 30) -> dict[str, str]:
    """Headers that send a new token of ``user``."""
    return {"Authorization": f"Bearer {create_token(user, name, days).secret}"}
