"""Find or create the jurisdictions and areas an import names, caching ids for the run.

A file names places as text; the registry stores ids. Each distinct name is resolved once per
import (a chunk holds few distinct places however many rows it has). A name may carry its
parents: "Kern County > Bakersfield" creates the county, then the city inside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.text import slugify

from gvrs.incidents.models import Area, Jurisdiction

PATH_SEPARATOR = ">"


def _unique_slug(name: str, parent: Jurisdiction | None) -> str:
    base = slugify(name) or "jurisdiction"
    if not Jurisdiction.objects.filter(slug=base).exists():
        return base
    if parent is not None:
        candidate = f"{parent.slug}-{base}"
        if not Jurisdiction.objects.filter(slug=candidate).exists():
            return candidate
    n = 2
    while Jurisdiction.objects.filter(slug=f"{base}-{n}").exists():
        n += 1
    return f"{base}-{n}"


def find_or_create_jurisdiction(
    path: str, level: str | None = None, parent_level: str = "county"
) -> tuple[Jurisdiction, bool]:
    """The jurisdiction a (possibly ``>``-separated) name denotes, and whether it was created.

    A bare name matches an existing jurisdiction of that name anywhere in the hierarchy, so
    "Bakersfield" in an incident file finds the Bakersfield that the CA DOJ import filed under
    Kern County.
    """
    parts = [p.strip() for p in path.split(PATH_SEPARATOR) if p.strip()]
    parent: Jurisdiction | None = None
    created = False
    for depth, name in enumerate(parts):
        last = depth == len(parts) - 1
        if parent is None:
            matches = list(Jurisdiction.objects.filter(name__iexact=name)[:2])
            if len(parts) > 1 and not last:
                matches = [m for m in matches if m.parent_id is None] or matches
        else:
            matches = list(parent.children.filter(name__iexact=name)[:2])
        if len(matches) == 1:
            parent = matches[0]
            continue
        if not matches and parent is not None:
            # A place first imported without its parent ("Bakersfield") is the same place a
            # later file files under one ("Kern County > Bakersfield"): adopt it.
            orphans = list(
                Jurisdiction.objects.filter(name__iexact=name, parent__isnull=True).exclude(
                    pk=parent.pk
                )[:2]
            )
            if len(orphans) == 1:
                orphans[0].parent = parent
                orphans[0].save(update_fields=["parent"])
                parent = orphans[0]
                continue
        if len(matches) > 1:
            raise ValueError(
                f"jurisdiction {name!r} is ambiguous; name its parent too, e.g. "
                f"'{matches[0].parent} {PATH_SEPARATOR} {name}'"
            )
        parent = Jurisdiction.objects.create(
            name=name,
            slug=_unique_slug(name, parent),
            level=(level or "city") if last else parent_level,
            parent=parent,
        )
        created = True
    if parent is None:
        raise ValueError("empty jurisdiction name")
    return parent, created


class PlaceResolver:
    """Maps place names in a chunk to ids, creating what is missing (inside the import's
    transaction, so a failed import leaves no new place behind)."""

    def __init__(self, level: str | None = None) -> None:
        self.level = level
        self._jurisdictions: dict[str, int] = {}
        self._areas: dict[tuple[int, str], int] = {}
        self.created: list[str] = []

    def jurisdiction_id(self, name: str) -> int:
        key = name.strip().casefold()
        if key not in self._jurisdictions:
            jurisdiction, created = find_or_create_jurisdiction(name, self.level)
            if created:
                self.created.append(name.strip())
            self._jurisdictions[key] = jurisdiction.pk
        return self._jurisdictions[key]

    def area_id(self, jurisdiction_id: int, name: str) -> int:
        key = (jurisdiction_id, name.strip().casefold())
        if key not in self._areas:
            area = Area.objects.filter(jurisdiction_id=jurisdiction_id, name__iexact=name).first()
            if area is None:
                area = Area.objects.create(jurisdiction_id=jurisdiction_id, name=name.strip())
            self._areas[key] = area.pk
        return self._areas[key]

    def resolve(self, names: pd.Series, areas: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Jurisdiction ids and area ids (NaN where no area) for a chunk's rows."""
        jurisdiction_ids = names.map({n: self.jurisdiction_id(n) for n in names.unique()})
        rows = pd.DataFrame({"j": jurisdiction_ids.to_numpy(), "a": areas.to_numpy()})
        pairs = rows.dropna().drop_duplicates().copy()
        # One lookup per distinct (jurisdiction, area) pair, then a vectorised join back.
        pairs["id"] = [self.area_id(int(j), a) for j, a in pairs.itertuples(index=False)]
        area_ids = rows.merge(pairs, on=["j", "a"], how="left")["id"]
        return jurisdiction_ids.to_numpy(dtype=np.int64), area_ids.to_numpy(dtype=float)
