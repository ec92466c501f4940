"""``gvrs boundaries FILE.geojson``: load area boundaries (neighborhoods, beats) for maps.

Each feature becomes (or updates) the Area named by ``--name-field`` in the jurisdiction named
by ``--jurisdiction``, or by the feature's ``--jurisdiction-field`` under ``--parent``.
Idempotent; all-or-nothing; a feature without a polygon or a name is an error naming it.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gvrs.incidents.importing.places import PlaceError, PlaceResolver
from gvrs.incidents.models import Area


class Command(BaseCommand):
    help = "Load area boundaries from a GeoJSON FeatureCollection (WGS84)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--jurisdiction", help="jurisdiction of every area")
        parser.add_argument("--jurisdiction-field", help="feature property naming it instead")
        parser.add_argument("--parent", help="parent of the jurisdictions named by the field")
        parser.add_argument("--kind", default="neighborhood")
        parser.add_argument(
            "--state", help="state of places named without one (default: GVRS_DEFAULT_STATE)"
        )

    def handle(self, *args, **options) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"{path}: no such file", returncode=2)
        if not (options["jurisdiction"] or options["jurisdiction_field"]):
            raise CommandError("give --jurisdiction or --jurisdiction-field", returncode=2)
        try:
            raw = path.read_bytes()
            if raw[:2] == b"\x1f\x8b":  # gzip, as the bundled boundaries ship
                raw = gzip.decompress(raw)
            document = json.loads(raw.decode("utf-8"))
            features = document["features"]
        except (
            json.JSONDecodeError,
            KeyError,
            TypeError,
            UnicodeDecodeError,
            OSError,
            EOFError,
        ) as exc:
            raise CommandError(
                f"{path.name}: not a GeoJSON FeatureCollection ({exc})", returncode=1
            ) from None
        problems, rows = [], []
        for number, feature in enumerate(features, start=1):
            properties = feature.get("properties") or {}
            geometry = feature.get("geometry") or {}
            name = str(properties.get(options["name_field"], "")).strip()
            place = (
                options["jurisdiction"]
                or str(properties.get(options["jurisdiction_field"], "")).strip()
            )
            if geometry.get("type") not in ("Polygon", "MultiPolygon"):
                problems.append(f"feature {number}: geometry is not a Polygon or MultiPolygon")
            elif not name:
                problems.append(f"feature {number}: no {options['name_field']!r} property")
            elif not place:
                problems.append(f"feature {number}: no jurisdiction")
            else:
                rows.append((place, name, geometry))
        if problems:
            for problem in problems:
                self.stderr.write(f"{path.name}: {problem}")
            raise CommandError(
                f"{path.name}: {len(problems)} invalid features; nothing loaded", returncode=1
            )
        places = PlaceResolver(state=options["state"], file_name=path.name)
        paths = [f"{options['parent']} > {p}" if options["parent"] else p for p, _, _ in rows]
        try:
            with transaction.atomic():
                ids = places.jurisdiction_ids(list(dict.fromkeys(paths)))
                self._store(rows, paths, ids, options["kind"])
        except PlaceError as exc:
            raise CommandError(str(exc), returncode=1) from None
        self.stdout.write(f"Loaded {len(rows):,} boundaries from {path.name}")

    def _store(self, rows, paths, ids, kind) -> None:
        for (_, name, geometry), full in zip(rows, paths, strict=True):
            Area.objects.update_or_create(
                jurisdiction_id=ids[full],
                name=name,
                defaults={"boundary": geometry, "kind": kind},
            )
