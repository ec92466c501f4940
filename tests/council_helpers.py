"""A town counted from incidents, for the council report's tests: shootings 2019 to mid-2023
with areas (one of them quiet) and recorded group involvement, imported through the importer."""

from __future__ import annotations

import datetime as dt

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Area, Jurisdiction
from tests.importing_helpers import row, write_csv

# Shooting incidents a year in the test file; the file covers 2019-01-01 to 2023-06-30.
PER_YEAR = {2019: 120, 2020: 130, 2021: 150, 2022: 140, 2023: 50}
QUIET_AREA_2022 = 4  # Oleander's shootings in 2022: a small count, to be suppressed


def town_rows() -> list[dict[str, str]]:
    rows = []
    for year, n in PER_YEAR.items():
        days = 181 if year == 2023 else 365
        for i in range(n):
            day = dt.date(year, 1, 1) + dt.timedelta(days=i * days // n)
            quiet = year == 2022 and i < QUIET_AREA_2022
            rows.append(
                row(
                    f"S{year}-{i:03d}",
                    kind="homicide" if i % 5 == 0 else "nonfatal_shooting",
                    killed="1" if i % 5 == 0 else "0",
                    injured="0" if i % 5 == 0 else "1",
                    occurred_at=day.isoformat(),
                    area="Oleander" if quiet else "East Bakersfield",
                    # Reviewed incidents say yes or no; a third are not reviewed yet.
                    group_involvement=("yes", "no", "unknown")[i % 3],
                )
            )
    return rows


def square(x: float, y: float) -> dict:
    ring = [[x, y], [x + 0.05, y], [x + 0.05, y + 0.05], [x, y + 0.05], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def make_town(tmp_path) -> Jurisdiction:
    """Bakersfield with the file above imported and its two areas drawn as squares."""
    report = import_file(
        write_csv(tmp_path / "town.csv", town_rows()),
        load_format("gvrs"),
        covers_from=dt.date(2019, 1, 1),
        covers_through=dt.date(2023, 6, 30),
    )
    assert report.ok, report.errors
    place = Jurisdiction.objects.get(name="Bakersfield")
    for x, name in enumerate(("East Bakersfield", "Oleander")):
        Area.objects.filter(jurisdiction=place, name=name).update(
            boundary=square(-119.05 + 0.05 * x, 35.35)
        )
    return place
