"""A town of random incidents, written straight to the registry, with the true counts kept
beside it so a test can check the public page against them; and a reader for the page's CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from django.utils import timezone
from django.utils.text import slugify

from gvrs.incidents.models import (
    Area,
    ImportRun,
    Incident,
    Jurisdiction,
    PersonInvolved,
    Population,
)
from gvrs.public.models import PublicDashboard

RACES = ["B", "W", "H", "A", ""]
SEXES = ["male", "female", "unknown", ""]


@dataclass
class Truth:
    """True counts of people shot: by (year, month), by area, age group, sex and race of a
    year, and the records a scan must never find."""

    months: Counter = field(default_factory=Counter)
    areas: dict[int, Counter] = field(default_factory=dict)
    ages: dict[int, Counter] = field(default_factory=dict)
    sexes: dict[int, Counter] = field(default_factory=dict)
    races: dict[int, Counter] = field(default_factory=dict)
    source_ids: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    coordinates: list[tuple[float, float]] = field(default_factory=list)


def _age_group(age: int | None) -> str:
    if age is None:
        return "not recorded"
    for low, high, label in (
        (0, 17, "under 18"),
        (18, 24, "18–24"),
        (25, 34, "25–34"),
        (35, 44, "35–44"),
        (45, 54, "45–54"),
    ):
        if low <= age <= high:
            return label
    return "55 and over"


def make_random_town(
    seed: int,
    *,
    name: str = "Randomville",
    first: dt.date = dt.date(2021, 1, 1),
    through: dt.date = dt.date(2023, 8, 20),
    enabled: bool = True,
    threshold: int = 10,
    counts: dict[tuple[int, int], int] | None = None,
) -> tuple[Jurisdiction, Truth]:
    """Shootings on random days, with rates per month drawn so that many counts are small;
    the coverage ends mid-month (``through``), so the last month is not published.
    ``counts`` gives each (year, month) its number of shootings instead (on the 15th)."""
    rng = np.random.default_rng(seed)
    town = Jurisdiction.objects.create(name=name, slug=slugify(name), state="CA")
    areas = [
        Area.objects.create(jurisdiction=town, name=f"Ward {k}", population=5000 + k)
        for k in range(1, 6)
    ]
    now = timezone.now()
    run = ImportRun.objects.create(
        started_at=now,
        finished_at=now,
        initiated_by="test",
        file_name=f"{name}.csv",
        file_sha256="0" * 64,
        format="gvrs",
        status=ImportRun.Status.SUCCEEDED,
        source=f"{slugify(name)}-police",
        covers_from=first,
        covers_through=through,
        coverage_basis="given",
        covers_kinds=["homicide", "nonfatal_shooting"],
    )
    for year in range(first.year, through.year + 1):
        Population.objects.create(jurisdiction=town, year=year, population=120_000 + year)
    truth = Truth()
    incidents, people = [], []
    day, k = first, 0
    last_day = through
    rate = rng.uniform(0.05, 0.6, size=(through.year - first.year + 1, 12))
    while day <= last_day:
        if counts is not None:
            todays = counts.get((day.year, day.month), 0) if day.day == 15 else 0
        else:
            todays = rng.poisson(rate[day.year - first.year, day.month - 1])
        for _ in range(todays):
            k += 1
            fatal = rng.random() < 0.2
            area = areas[rng.integers(len(areas))] if rng.random() < 0.95 else None
            lat, lon = 35.1 + rng.random() / 10, -119.1 + rng.random() / 10
            sid = f"RV{seed}-{k:05d}X"
            address = f"{100 * rng.integers(1, 99)} BLOCK OF ELM{k} ST"
            incidents.append(
                Incident(
                    source=run.source,
                    source_id=sid,
                    kind="homicide" if fatal else "nonfatal_shooting",
                    weapon="firearm",
                    occurred_on=day,
                    jurisdiction=town,
                    area=area,
                    latitude=lat,
                    longitude=lon,
                    block_address=address,
                    killed=int(fatal),
                    injured=int(not fatal),
                    import_run=run,
                )
            )
            truth.source_ids.append(sid)
            truth.addresses.append(address)
            truth.coordinates.append((lat, lon))
            age = None if rng.random() < 0.1 else int(rng.integers(12, 70))
            sex = SEXES[rng.integers(len(SEXES))]
            race = RACES[rng.integers(len(RACES))]
            people.append((sid, age, sex, race, fatal))
            truth.months[(day.year, day.month)] += 1
            truth.areas.setdefault(day.year, Counter())[
                area.name if area else "area not recorded"
            ] += 1
            truth.ages.setdefault(day.year, Counter())[_age_group(age)] += 1
            truth.sexes.setdefault(day.year, Counter())[
                "not recorded" if sex in ("", "unknown") else sex
            ] += 1
            # This source ships no labels for its codes: the page shows them as stored.
            truth.races.setdefault(day.year, Counter())[race or "not recorded"] += 1
        day += dt.timedelta(days=1)
    Incident.objects.bulk_create(incidents)
    ids = dict(Incident.objects.filter(source=run.source).values_list("source_id", "pk"))
    PersonInvolved.objects.bulk_create(
        PersonInvolved(
            incident_id=ids[sid],
            role="victim",
            age=age,
            sex=sex,
            race_ethnicity=race,
            killed=fatal,
            injured=not fatal,
        )
        for sid, age, sex, race, fatal in people
    )
    PublicDashboard.objects.create(jurisdiction=town, enabled=enabled, threshold=threshold)
    return town, truth


def read_csv(body: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body.decode())))


def table_of(rows: list[dict[str, str]], key: str) -> dict[tuple[str, str], str]:
    return {(r["row"], r["column"]): r["value"] for r in rows if r["table"] == key}
