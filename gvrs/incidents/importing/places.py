"""Find or create the places an import names: by their path inside their state, in bulk.

A file names places as text: "Bakersfield", "Kern County > Bakersfield", "California > Fresno",
"TX > Fresno". The first name may be a state (its USPS code or its name); otherwise the place is
in the import's state (the mapping's, ``--state``, or ``GVRS_DEFAULT_STATE``), and a file with
none is refused. Inside its state a path matches the place whose own path ends with it, so
"Bakersfield" finds "California > Kern County > Bakersfield"; a place in another state is never
a candidate (Fresno, Texas is not Fresno, California).

An import never moves or duplicates a place silently: a path that matches nothing but whose
last name already exists elsewhere in the state ("Fresno > Bakersfield", "Nowhere County >
Philadelphia") stops the import with the candidates listed, unless ``new_places`` is given, in
which case a separate place is created (an existing place is never moved). Several matches are
an error listing them.

Each state's places are read into memory once per import (a state has thousands, not
millions); what is missing is created with one bulk insert per level of the tree, and areas
with one per chunk. A chunk's rows are resolved by their factorized codes: each distinct path
and each distinct (path, area) pair is looked at once, never each row.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils.text import slugify

from gvrs.data.errors import FileError
from gvrs.data.states import state_code, state_name, state_zone
from gvrs.incidents.importing.staging import insert_rows
from gvrs.incidents.models import Area, Jurisdiction

PATH_SEPARATOR = ">"
# IN lists are sent in batches under SQLite's limit on parameters.
_BATCH = 900
_SHOWN = 20


class PlaceError(FileError):
    """Places an import would not resolve (no state, ambiguous, a move or a look-alike)."""


@dataclass(eq=False)
class _Place:
    name: str
    level: str
    parent: _Place | None
    pk: int | None = None
    existing: bool = False  # in the registry before this import
    slug: str = ""
    ori: str = ""
    geoid: str = ""

    @property
    def key(self) -> str:
        return self.name.casefold()

    def path(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " > ".join(reversed(names))

    def depth(self) -> int:
        n, node = 0, self.parent
        while node is not None:
            n, node = n + 1, node.parent
        return n


@dataclass
class _State:
    """The registry's places in one state, held in memory for the import."""

    code: str
    node: _Place | None = None
    by_name: dict[str, list[_Place]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def load(cls, code: str) -> _State:
        state = cls(code)
        rows = list(
            Jurisdiction.objects.filter(state=code).values_list(
                "pk", "name", "parent_id", "level", "ori", "geoid"
            )
        )
        places = {
            pk: _Place(name, level, None, pk=pk, existing=True, ori=ori, geoid=geoid)
            for pk, name, _, level, ori, geoid in rows
        }
        for pk, _, parent_id, level, _, _ in rows:
            place = places[pk]
            place.parent = places.get(parent_id)
            if level == Jurisdiction.Level.STATE:
                state.node = place
            else:
                state.by_name[place.key].append(place)
        return state

    def matches(self, parts: list[str]) -> list[_Place]:
        """Places (not the state itself) whose path ends with ``parts``; the one whose path
        below the state is exactly ``parts``, when there is one."""
        found, exact = [], []
        for place in self.by_name.get(parts[-1].casefold(), []):
            node, ok = place, True
            for name in reversed(parts[:-1]):
                node = node.parent
                if node is None or node is self.node or node.key != name.casefold():
                    ok = False
                    break
            if ok:
                found.append(place)
                if node.parent is self.node:
                    exact.append(place)
        return exact or found


def _below_state(place: _Place) -> list[str]:
    """The casefolded names of ``place``'s path below its state."""
    names, node = [], place
    while node is not None and node.level != Jurisdiction.Level.STATE:
        names.append(node.key)
        node = node.parent
    return names[::-1]


def _one_ends_the_other(a: list[str], b: list[str]) -> bool:
    shorter, longer = sorted((a, b), key=len)
    return longer[len(longer) - len(shorter) :] == shorter


class PlaceResolver:
    """Maps place paths (and area names) in a file to ids, creating what is missing inside
    the import's transaction, so a failed import leaves no new place behind.

    ``created`` lists every place created, by its full path.
    """

    def __init__(
        self,
        *,
        state: str | None = None,
        time_zone: str | None = None,
        level: str | None = None,
        new_places: bool = False,
        file_name: str = "",
        run_id: int | None = None,
    ) -> None:
        default = state or getattr(settings, "GVRS_DEFAULT_STATE", "") or ""
        self.state = state_code(default) if default else None
        self.time_zone = time_zone
        self.level = level or Jurisdiction.Level.CITY
        self.new_places = new_places
        self.file_name = file_name
        self.run_id = run_id
        self.created: list[str] = []
        self.areas_created = 0
        self._ids: dict[str, int] = {}
        # The code each path was first given in this file, and on which line: one place
        # given two codes (in one chunk or across chunks) is refused, never merged.
        self._given: dict[tuple[str, str], tuple[str, int | None]] = {}
        self._states: dict[str, _State] = {}
        self._slugs: set[str] | None = None
        self._areas: dict[tuple[int, str], int] = {}
        self._areas_loaded: set[int] = set()
        # Looked up once per state name and per (state, county), not once per new place.
        self._state_codes: dict[str, str | None] = {}
        self._zones: dict[tuple[str, str | None], str] = {}

    def fresh(self) -> PlaceResolver:
        """The same resolver with nothing remembered (after a rollback)."""
        return PlaceResolver(
            state=self.state,
            time_zone=self.time_zone,
            level=self.level,
            new_places=self.new_places,
            file_name=self.file_name,
            run_id=self.run_id,
        )

    # -- jurisdictions ---------------------------------------------------------------------

    def split(self, text: str) -> tuple[str | None, list[str]]:
        """(state code or None, the names below the state) of a path."""
        parts = [p.strip() for p in str(text).split(PATH_SEPARATOR) if p.strip()]
        code = state_code(parts[0]) if parts else None
        if code is not None:
            return code, parts[1:]
        return self.state, parts

    def _state(self, code: str) -> _State:
        if code not in self._states:
            self._states[code] = _State.load(code)
        return self._states[code]

    def jurisdiction_ids(
        self,
        paths: list[str],
        lines: list[int] | None = None,
        codes: dict[str, tuple[str, str]] | None = None,
        levels: dict[str, str] | None = None,
    ) -> dict[str, int]:
        """Ids for each distinct path, creating the places that are missing.

        ``levels`` gives a path's new place its level where the paths of one file name
        places of several levels (a NIBRS file's city police and other agencies); others
        take the resolver's.

        Raises PlaceError listing every path that cannot be resolved (with the line it first
        appears on, when ``lines`` is given) and creates nothing in that case. ``codes`` gives
        a path's place its (ORI, GEOID) where the source carries them: a new place gets them,
        an existing one without them gets them filled in; a different code already stored is
        a problem (the path and the code disagree).
        """
        first_line = dict(zip(paths, lines, strict=True)) if lines is not None else {}
        wanted = {p for p in paths if p not in self._ids}
        planned: list[_Place] = []
        resolved: dict[str, _Place] = {}
        problems: list[str] = []
        # The longest paths first: "Kern County > Delano" makes its Delano before a bare
        # "Delano" of the same file is looked up, which then finds it instead of making another.
        split = {text: self.split(text) for text in wanted}
        for text in sorted(wanted, key=lambda t: (-len(split[t][1]), t)):
            where = f"line {first_line[text]}: " if text in first_line else ""
            code, parts = split[text]
            if code is None:
                problems.append(
                    f"{where}{text!r} names no state, and the import has none: map a state "
                    'column into the path (e.g. jurisdiction = ["{state}", "{city}"]), set '
                    "the mapping's [place] state, pass --state, or set GVRS_DEFAULT_STATE"
                )
                continue
            if not parts and not text.strip():
                problems.append(f"{where}empty place name")
                continue
            place = self._resolve(
                self._state(code),
                parts,
                planned,
                problems,
                where,
                text,
                leaf_level=(levels or {}).get(text),
            )
            if place is not None:
                resolved[text] = place
        filled = self._codes(resolved, codes or {}, problems, first_line)
        if problems:
            shown = problems[:_SHOWN]
            more = f"\n  ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
            raise PlaceError(
                self.file_name,
                f"{len(problems)} place{'s' if len(problems) > 1 else ''} not resolved; "
                "nothing was imported:\n  " + "\n  ".join(shown) + more,
            )
        self._create(planned)
        if filled:
            Jurisdiction.objects.bulk_update(
                [Jurisdiction(pk=p.pk, ori=p.ori, geoid=p.geoid) for p in filled],
                ["ori", "geoid"],
                batch_size=500,
            )
        for text, place in resolved.items():
            self._ids[text] = place.pk
        return {p: self._ids[p] for p in paths}

    @staticmethod
    def _codes(resolved, codes, problems, first_line) -> list[_Place]:
        """Give places their official codes; returns the existing places whose blank codes
        were filled in."""
        filled = []
        for text, (ori, geoid) in codes.items():
            place = resolved.get(text)
            if place is None:
                continue
            changed = False
            for attribute, code in (("ori", ori.strip()), ("geoid", geoid.strip())):
                stored = getattr(place, attribute)
                if not code or code == "nan" or stored == code:
                    continue
                if stored:
                    where = f"line {first_line[text]}: " if text in first_line else ""
                    problems.append(
                        f"{where}{text!r} has {attribute.upper()} {code!r}, but "
                        f"{place.path()} has {stored!r}"
                    )
                    continue
                setattr(place, attribute, code)
                changed = True
            if changed and place.existing:
                filled.append(place)
        return filled

    def _node(self, state: _State, planned: list[_Place]) -> _Place:
        if state.node is None:
            state.node = _Place(state_name(state.code), Jurisdiction.Level.STATE, None)
            planned.append(state.node)
        return state.node

    def _resolve(self, state, parts, planned, problems, where, text, leaf=True, leaf_level=None):
        if not parts:
            return self._node(state, planned)
        found = state.matches(parts)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            problems.append(
                f"{where}{text!r} is ambiguous in {state.code}: "
                + "; ".join(p.path() for p in found[:5])
                + " (name the parent too)"
            )
            return None
        parent = self._resolve(state, parts[:-1], planned, problems, where, text, leaf=False)
        if parent is None:
            return None
        name = parts[-1]
        # Places of that name already in the registry; or made earlier by this import where
        # one path could have meant the other (a bare "Delano" in one chunk, "Kern County >
        # Delano" in a later one). Two full paths of one file naming different counties
        # ("Riverside County > Chino Hills DPR", "San Bernardino County > Chino Hills DPR",
        # both in the California DOJ file) are two places, said so by the file itself.
        wanted = [p.casefold() for p in parts]
        alike = [
            p
            for p in state.by_name.get(name.casefold(), [])
            if p.existing or _one_ends_the_other(_below_state(p), wanted)
        ]
        if alike and not self.new_places:
            problems.append(
                f"{where}{text!r} is not a place in {state.code}, and creating it would make a "
                f"second {name!r} (already: {'; '.join(p.path() for p in alike[:5])}); gvrs "
                "never moves or duplicates a place silently: name the existing place's path, "
                "or pass --new-places to create a separate place"
            )
            return None
        if leaf:
            level = leaf_level or self.level
        elif parent is state.node:
            level = Jurisdiction.Level.COUNTY
        else:
            level = Jurisdiction.Level.CITY
        place = _Place(name, level, parent)
        state.by_name[place.key].append(place)
        planned.append(place)
        return place

    def _create(self, planned: list[_Place]) -> None:
        if not planned:
            return
        if self._slugs is None:
            self._slugs = set(Jurisdiction.objects.values_list("slug", flat=True))
        by_depth: dict[int, list[_Place]] = defaultdict(list)
        for place in planned:
            by_depth[place.depth()].append(place)
        for depth in sorted(by_depth):
            places = by_depth[depth]
            rows = [self._model(place) for place in places]
            columns = {key: [r[key] for r in rows] for key in rows[0]}
            ids = _insert(Jurisdiction, columns, unique=("slug",))
            for place, pk in zip(places, ids, strict=True):
                place.pk = pk
                self.created.append(place.path())
                # A place made now has no areas yet: none to look up.
                self._areas_loaded.add(place.pk)

    def _model(self, place: _Place) -> dict:
        root, county = place, None
        while root.parent is not None:
            county, root = root, root.parent
        code = None
        if root.level == Jurisdiction.Level.STATE:
            if root.name not in self._state_codes:
                self._state_codes[root.name] = state_code(root.name)
            code = self._state_codes[root.name]
        code = code or self.state or ""
        place.slug = self._slug(place, code)
        zone = self.time_zone if place is not root else None
        if not zone:
            where = (code, county.name if county else None)
            if where not in self._zones:
                self._zones[where] = state_zone(*where)
            zone = self._zones[where]
        return {
            "name": place.name,
            "slug": place.slug,
            "level": place.level,
            "parent_id": place.parent.pk if place.parent else None,
            "state": code,
            "time_zone": zone,
            "import_run_id": self.run_id,
            "ori": place.ori,
            "geoid": place.geoid,
        }

    def _slug(self, place: _Place, code: str) -> str:
        base = _slugify(place.name) or "place"
        candidates = [base, f"{base}-{code.lower()}"]
        if place.parent is not None and place.parent.slug:
            candidates.append(f"{place.parent.slug}-{base}")
        slug = next((c for c in candidates if c not in self._slugs), None)
        n = 2
        while slug is None:
            candidate = f"{base}-{code.lower()}-{n}"
            slug = None if candidate in self._slugs else candidate
            n += 1
        self._slugs.add(slug)
        return slug

    # -- areas -----------------------------------------------------------------------------

    def area_ids(self, js: np.ndarray, names: list[str]) -> np.ndarray:
        """Ids of the areas named ``names[i]`` in jurisdictions ``js[i]``, matched by their
        casefolded name (so "north" finds "North"), creating the missing ones with one
        insert. A pair may repeat (two paths of one place): it is created once."""
        js = np.asarray(js, dtype=np.int64).tolist()
        names = [str(name).strip() for name in names]
        keys = list(zip(js, [name.casefold() for name in names], strict=True))
        self._load_areas(js)
        areas = self._areas
        missing: dict[tuple[int, str], int] = {}  # key -> its first position
        for i, key in enumerate(keys):
            if key not in areas and key not in missing:
                missing[key] = i
        if missing:
            first = list(missing.values())
            ids = _insert(
                Area,
                {"jurisdiction_id": [js[i] for i in first], "name": [names[i] for i in first]},
                unique=("jurisdiction_id", "name"),
            )
            self.areas_created += len(missing)
            areas.update(zip(missing, ids, strict=True))
        return np.array([areas[key] for key in keys], dtype=float)

    def _load_areas(self, js: list[int]) -> None:
        """Remember the existing areas of the jurisdictions ``js`` not looked at yet."""
        unloaded = sorted(set(js) - self._areas_loaded)
        for start in range(0, len(unloaded), _BATCH):
            batch = unloaded[start : start + _BATCH]
            for pk, j, name in Area.objects.filter(jurisdiction_id__in=batch).values_list(
                "pk", "jurisdiction_id", "name"
            ):
                self._areas.setdefault((j, name.casefold()), pk)
        self._areas_loaded.update(unloaded)

    def resolve(
        self,
        names: pd.Series,
        areas: pd.Series,
        lines: np.ndarray | None = None,
        codes: pd.DataFrame | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Jurisdiction ids and area ids (NaN where no area) for a chunk's rows; ``codes``
        (columns ori, geoid, aligned with ``names``) are each place's official codes.

        Paths and area names are factorized once (integer codes per row); each distinct path
        and each distinct (path, area) pair is looked up once, and the rows take their ids
        by indexing with their codes: no per-row Python, no join of the chunk's rows."""
        factor, uniques = pd.factorize(names)
        distinct = [str(u) for u in uniques]
        if codes is not None:
            self._refuse_two_codes(factor, distinct, codes, lines)
        positions = np.unique(factor, return_index=True)[1]
        first = None if lines is None else [int(lines[p]) for p in positions]
        place_codes = None
        if codes is not None:
            picked = codes.iloc[positions]
            place_codes = {
                d: (str(o), str(g))
                for d, o, g in zip(distinct, picked["ori"], picked["geoid"], strict=True)
            }
        ids = self.jurisdiction_ids(distinct, first, place_codes)
        place_ids = np.array([ids[d] for d in distinct], dtype=np.int64)
        jurisdiction_ids = place_ids[factor]
        area_ids = np.full(len(factor), np.nan)
        area_codes, area_names = pd.factorize(areas)
        named = area_codes >= 0  # a row without an area has code -1
        if named.any():
            # A (path, area name) pair as one integer: path code * distinct names + name code.
            pair_codes, pairs = pd.factorize(
                factor[named].astype(np.int64) * len(area_names) + area_codes[named]
            )
            pair_ids = self.area_ids(
                place_ids[pairs // len(area_names)],
                np.asarray(area_names, dtype=object)[pairs % len(area_names)].tolist(),
            )
            area_ids[named] = pair_ids[pair_codes]
        return jurisdiction_ids, area_ids

    def _refuse_two_codes(self, factor, distinct, codes: pd.DataFrame, lines) -> None:
        """Raise PlaceError when one place (path) of the file is given two different codes
        (an FBI file giving Broomfield, CO both CO00702 and CO06401): which one is the
        place's cannot be told, so nothing is imported (docs/mappings.md, "Codes")."""
        problems = []
        for attribute in ("ori", "geoid"):
            given = codes[attribute].astype(str).str.strip().to_numpy()
            keep = (given != "") & (given != "nan") & (given != "None")
            if not keep.any():
                continue
            frame = pd.DataFrame(
                {
                    "path": factor[keep],
                    "code": given[keep],
                    "line": lines[keep] if lines is not None else np.zeros(keep.sum(), int),
                }
            ).drop_duplicates(["path", "code"])
            for path_code, group in frame.groupby("path", sort=True):
                text = distinct[path_code]
                seen = self._given.get((text, attribute))
                found = list(zip(group["code"], group["line"], strict=True))
                if seen is not None:
                    found = [seen, *[(c, line) for c, line in found if c != seen[0]]]
                if len({c for c, _ in found}) > 1:
                    (a, line_a), (b, line_b) = found[0], found[1]
                    where = f"lines {line_a} and {line_b}: " if lines is not None else ""
                    problems.append(
                        f"{where}{text!r} is given two {attribute.upper()}s, {a!r} and {b!r}: "
                        "one place has one code (map the two apart, e.g. by the agency's "
                        "name, or correct the file)"
                    )
                else:
                    self._given.setdefault((text, attribute), found[0])
        if problems:
            shown = problems[:_SHOWN]
            more = f"\n  ... and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
            raise PlaceError(
                self.file_name,
                f"{len(problems)} place{'s' if len(problems) > 1 else ''} given two codes; "
                "nothing was imported:\n  " + "\n  ".join(shown) + more,
            )


_NOT_SLUG = re.compile(r"[^\w\s-]")
_DASHES = re.compile(r"[-\s]+")


def _slugify(name: str) -> str:
    """Django's ``slugify``, with its regular expressions compiled once for ASCII names
    (about half its cost when an import creates thousands of places)."""
    if not name.isascii():
        return slugify(name)
    return _DASHES.sub("-", _NOT_SLUG.sub("", name.lower())).strip("-_")


def _insert(model, columns: dict[str, list], unique: tuple[str, ...]) -> list[int]:
    """Insert rows given column by column; returns their ids, in the rows' order.

    Django's bulk_create builds a model object and compiles every value (seconds for 100,000
    areas). Here rows go in batches of one multi-row INSERT each (in SQLite a third cheaper
    than an executemany of one row per statement). Fields the rows do not give take their
    model default, prepared once, so a field added to the model later is still filled; a
    NULL, a number or a plain word is written into the statement itself rather than bound
    again on every row.

    The new rows are the ones above the highest id before them (imports hold the registry
    lock, so ids only grow meanwhile), and their ids follow the order they were given in.
    Should rows of someone else lie above it too, the new rows are found by the ``unique``
    columns instead."""
    before = model.objects.aggregate(top=Max("pk"))["top"] or 0
    n = len(next(iter(columns.values()), []))
    if not n:
        return []
    names, marks, values = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(connection.ops.quote_name(f.column))
        if f.attname in columns:
            marks.append(None)
            values.append(columns[f.attname])
            continue
        default = f.get_db_prep_save(f.get_default(), connection)
        literal = _literal(default)
        marks.append(literal)
        if literal is None:
            values.append(itertools.repeat(default, n))
    table = connection.ops.quote_name(model._meta.db_table)
    insert_rows(table, names, marks, values, n)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE id > %s ORDER BY id", [before])
        ids = [pk for (pk,) in cursor.fetchall()]
        if len(ids) == n:
            return ids
        keys = ", ".join(connection.ops.quote_name(model._meta.get_field(c).column) for c in unique)
        cursor.execute(f"SELECT id, {keys} FROM {table} WHERE id > %s", [before])
        found = {tuple(key): pk for pk, *key in cursor.fetchall()}
    return [found[key] for key in zip(*(columns[c] for c in unique), strict=True)]


_PLAIN = re.compile(r"[\w .:/+-]*", re.ASCII)


def _literal(value) -> str | None:
    """``value`` as SQL text when it is NULL, an integer or a plain word (no quote, no
    percent sign); None when it must be bound as a parameter."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return f"'{value}'"
    return None


def find_or_create_jurisdiction(
    path: str,
    level: str | None = None,
    *,
    state: str | None = None,
    new_places: bool = False,
) -> tuple[Jurisdiction, bool]:
    """The jurisdiction a path denotes, and whether it was created (one place: the commands
    that load populations and boundaries). Raises PlaceError as an import would."""
    resolver = PlaceResolver(state=state, level=level, new_places=new_places, file_name=path)
    pk = resolver.jurisdiction_ids([path])[path]
    return Jurisdiction.objects.get(pk=pk), bool(resolver.created)
