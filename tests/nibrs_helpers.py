"""Counting NIBRS files independently of gvrs's reader: the raw tables in an in-memory SQLite
database and plain SQL (the CDE's own README queries them this way), and a flat file read
by a few lines of slicing. Tests compare these counts with what the import stored.

Counts are per (ORI, year of the incident date):

- ``murder_incidents``: incidents with a 09A offense;
- ``murder_victims``: people (victim type I or L) linked to a 09A offense;
- ``firearm_assaults``: 13A offenses with a firearm weapon code (11-15, with or without A);
- ``firearm_assault_victims``: people linked to such an offense and not to a 09A;
- ``firearm_assault_injured``: those of them with an injury other than N.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import sqlite3
from collections import Counter
from pathlib import Path

FIREARM = ("11", "12", "13", "14", "15")
PEOPLE = ("I", "L")


def _open_text(path: Path) -> io.TextIOBase:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return io.StringIO(raw.decode("utf-8-sig"))


def load_cde(folder: Path) -> sqlite3.Connection:
    """Every CSV table of a CDE folder (and its Codes/) as a table of that name in lower
    case, its columns in lower case (a repeated name gets a suffix)."""
    conn = sqlite3.connect(":memory:")
    for path in sorted(folder.rglob("*.csv*")):
        name = path.name.lower().removesuffix(".gz").removesuffix(".csv")
        reader = csv.reader(_open_text(path))
        header = next(reader)
        columns, seen = [], Counter()
        for column in header:
            column = column.strip().lower()
            seen[column] += 1
            columns.append(column if seen[column] == 1 else f"{column}_{seen[column]}")
        quoted = ", ".join(f'"{c}"' for c in columns)
        conn.execute(f'CREATE TABLE "{name}" ({quoted})')
        marks = ", ".join("?" for _ in columns)
        conn.executemany(f'INSERT INTO "{name}" VALUES ({marks})', (r for r in reader if r))
    conn.create_function("year_of", 1, _year_of)
    return conn


def _year_of(text: str) -> int | None:
    """The year of a CDE date: 2019-09-14 (newer) or 14-SEP-19 (older)."""
    text = (text or "").strip()
    for fmt, size in (("%Y-%m-%d", 10), ("%d-%b-%y", 9)):
        try:
            return dt.datetime.strptime(text[:size].title(), fmt).year
        except ValueError:
            continue
    return None


def cde_counts(conn: sqlite3.Connection) -> dict[str, Counter]:
    """The counts above, from the raw tables of one CDE year."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(nibrs_offense)")}
    if "offense_code" in columns:
        code = "o.offense_code"
        join_type = ""
    else:
        code = "ot.offense_code"
        join_type = "JOIN nibrs_offense_type ot ON ot.offense_type_id = o.offense_type_id"
    base = f"""
        SELECT o.offense_id, {code} AS code, i.incident_id, a.ori,
               year_of(i.incident_date) AS year
        FROM nibrs_offense o {join_type}
        JOIN nibrs_incident i ON i.incident_id = o.incident_id
        JOIN agencies a ON a.agency_id = i.agency_id
    """
    conn.execute(f"CREATE TEMP TABLE off AS {base}")
    conn.execute("""
        CREATE TEMP TABLE fire AS
        SELECT DISTINCT w.offense_id FROM nibrs_weapon w
        JOIN nibrs_weapon_type wt ON wt.weapon_id = w.weapon_id
        WHERE substr(wt.weapon_code, 1, 2) IN ('11', '12', '13', '14', '15')
    """)
    conn.execute("""
        CREATE TEMP TABLE person AS
        SELECT v.victim_id FROM nibrs_victim v
        JOIN nibrs_victim_type vt ON vt.victim_type_id = v.victim_type_id
        WHERE vt.victim_type_code IN ('I', 'L')
    """)
    out: dict[str, Counter] = {}

    def count(name: str, sql: str) -> None:
        out[name] = Counter({(ori, year): n for ori, year, n in conn.execute(sql)})

    count(
        "murder_incidents",
        "SELECT ori, year, COUNT(DISTINCT incident_id) FROM off WHERE code = '09A' "
        "GROUP BY ori, year",
    )
    count(
        "murder_victims",
        """SELECT off.ori, off.year, COUNT(DISTINCT vo.victim_id)
           FROM nibrs_victim_offense vo JOIN off ON off.offense_id = vo.offense_id
           WHERE off.code = '09A' AND vo.victim_id IN (SELECT victim_id FROM person)
           GROUP BY off.ori, off.year""",
    )
    count(
        "firearm_assaults",
        """SELECT ori, year, COUNT(DISTINCT offense_id) FROM off
           WHERE code = '13A' AND offense_id IN (SELECT offense_id FROM fire)
           GROUP BY ori, year""",
    )
    victims = """
        SELECT DISTINCT off.ori, off.year, vo.victim_id
        FROM nibrs_victim_offense vo JOIN off ON off.offense_id = vo.offense_id
        WHERE off.code = '13A' AND off.offense_id IN (SELECT offense_id FROM fire)
          AND vo.victim_id IN (SELECT victim_id FROM person)
          AND vo.victim_id NOT IN (
              SELECT vo2.victim_id FROM nibrs_victim_offense vo2
              JOIN off o2 ON o2.offense_id = vo2.offense_id WHERE o2.code = '09A')
    """
    count(
        "firearm_assault_victims",
        f"SELECT ori, year, COUNT(*) FROM ({victims}) GROUP BY ori, year",
    )
    count(
        "firearm_assault_injured",
        f"""SELECT ori, year, COUNT(*) FROM ({victims}) fv
            WHERE fv.victim_id IN (
                SELECT vi.victim_id FROM nibrs_victim_injury vi
                JOIN nibrs_injury it ON it.injury_id = vi.injury_id
                WHERE it.injury_code <> 'N')
            GROUP BY ori, year""",
    )
    return out


def flat_counts(path: Path) -> dict[str, Counter]:
    """The counts above from a flat-file submission, read segment by segment: the last
    level-1 action about an incident decides it (I states it, D deletes it)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    incidents: dict[str, dict] = {}
    current = None
    for line in raw.decode("latin-1").splitlines():
        line = line.rstrip("\r")
        if len(line) < 6 or line[4] not in "123456":
            continue
        level, action = line[4], line[5]
        key = line[16:25].strip() + ":" + line[25:37].strip()
        if level == "1":
            if action == "D":
                incidents.pop(key, None)
                current = None
                continue
            current = {"date": line[37:45], "offenses": {}, "victims": []}
            incidents[key] = current
        elif level == "2" and current is not None:
            weapons = [line[52 + 3 * i : 54 + 3 * i] for i in range(3)]
            current["offenses"][line[37:40].strip()] = any(w in FIREARM for w in weapons)
        elif level == "4" and current is not None:
            linked = {line[40 + 3 * i : 43 + 3 * i].strip() for i in range(10)} - {""}
            injuries = {line[84 + i] for i in range(5)} - {" "}
            current["victims"].append((line[70], linked, injuries))
    out = {
        name: Counter()
        for name in (
            "murder_incidents",
            "murder_victims",
            "firearm_assaults",
            "firearm_assault_victims",
            "firearm_assault_injured",
        )
    }
    for key, incident in incidents.items():
        where = (key.split(":")[0], int(incident["date"][:4]))
        offenses = incident["offenses"]
        assault = offenses.get("13A", False)
        if "09A" in offenses:
            out["murder_incidents"][where] += 1
        if assault:
            out["firearm_assaults"][where] += 1
        for kind, linked, injuries in incident["victims"]:
            if kind not in PEOPLE:
                continue
            if "09A" in linked:
                out["murder_victims"][where] += 1
            elif "13A" in linked and assault:
                out["firearm_assault_victims"][where] += 1
                if injuries - {"N"}:
                    out["firearm_assault_injured"][where] += 1
    return {name: +counter for name, counter in out.items()}


def registry_counts(source: str) -> dict[str, Counter]:
    """The same counts from what the import stored (gvrs's own models)."""
    from django.db.models import Count
    from django.db.models.functions import ExtractYear

    from gvrs.incidents.models import Incident, PersonInvolved

    def by(queryset, ori: str, day: str, distinct: str | None = None) -> Counter:
        rows = (
            queryset.annotate(year=ExtractYear(day))
            .values(ori, "year")
            .annotate(n=Count(distinct or "pk", distinct=bool(distinct)))
        )
        return Counter({(r[ori], r["year"]): r["n"] for r in rows})

    incidents = Incident.objects.filter(source=source)
    people = PersonInvolved.objects.filter(incident__source=source, role="victim")
    assaulted = people.filter(extra__offense="13A")
    return {
        "murder_incidents": by(
            incidents.filter(kind="homicide"), "jurisdiction__ori", "occurred_on"
        ),
        "murder_victims": by(
            people.filter(extra__offense="09A", killed=True),
            "incident__jurisdiction__ori",
            "incident__occurred_on",
        ),
        # A NIBRS incident's 13A part: its main part or one of its own (".../13A").
        "firearm_assaults": _nibrs_incidents(assaulted),
        "firearm_assault_victims": by(
            assaulted, "incident__jurisdiction__ori", "incident__occurred_on"
        ),
        "firearm_assault_injured": by(
            assaulted.filter(injured=True),
            "incident__jurisdiction__ori",
            "incident__occurred_on",
        ),
    }


def _nibrs_incidents(people) -> Counter:
    seen = set()
    out = Counter()
    for source_id, ori, day in people.values_list(
        "incident__source_id", "incident__jurisdiction__ori", "incident__occurred_on"
    ):
        key = source_id.split("/")[0]
        if key not in seen:
            seen.add(key)
            out[(ori, day.year)] += 1
    return out


# -- building flat-file submissions ----------------------------------------------------------

LENGTH = {"0": 43, "1": 88, "2": 63, "4": 129, "5": 46, "6": 110}


def segment(level: str, action: str, ori: str, number: str, fields=(), made: str = "042020"):
    """One segment of ``LENGTH[level]`` characters: the header, then ``fields`` as
    (first position, text) pairs, positions as the specification numbers them."""
    width = LENGTH[level]
    chars = [" "] * width
    header = f"{width:04d}{level}{action}{made}    {ori:<9}{number:<12}"
    for position, text in [(1, header), *fields]:
        chars[position - 1 : position - 1 + len(text)] = list(text)
    return "".join(chars[:width])


def incident(
    ori: str,
    number: str,
    date: str,
    offenses: list[tuple[str, str]],
    victims: list[dict],
    offenders: int = 1,
    made: str = "042020",
    hour: str = "21",
) -> list[str]:
    """The segments of one Group A incident: ``offenses`` as (code, weapon); each victim a
    dict with ``offenses`` (codes), and optional ``age``, ``sex``, ``race``, ``injury``,
    ``type``."""
    lines = [segment("1", "I", ori, number, [(38, date), (47, hour), (49, "N")], made)]
    for code, weapon in offenses:
        lines.append(
            segment("2", "I", ori, number, [(38, code), (41, "C"), (45, "13"), (53, weapon)], made)
        )
    for seq, victim in enumerate(victims, start=1):
        linked = "".join(f"{c:<3}" for c in victim["offenses"])
        fields = [
            (38, f"{seq:03d}"),
            (41, linked),
            (71, victim.get("type", "I")),
            (72, victim.get("age", "25")),
            (76, victim.get("sex", "M")),
            (77, victim.get("race", "B")),
            (78, "N"),
            (79, "R"),
            (80, victim.get("circumstance", "01")),
            (85, victim.get("injury", "N")),
            (90, "01"),
            (92, "ST"),
        ]
        lines.append(segment("4", "I", ori, number, fields, made))
    for seq in range(1, offenders + 1):
        lines.append(
            segment("5", "I", ori, number, [(38, f"{seq:02d}"), (40, "30"), (44, "M")], made)
        )
    return lines


def delete(ori: str, number: str, date: str, made: str = "042020") -> str:
    return segment("1", "D", ori, number, [(38, date), (49, "N")], made)


def zero_report(ori: str, month: str, year: str, made: str = "042020") -> str:
    return segment("0", "A", ori, "0" * 12, [(38, month), (40, year)], made)


def write_flat(path: Path, lines: list[str], ending: str = "\r\n") -> Path:
    path.write_bytes((ending.join(lines) + ending).encode("ascii"))
    return path
