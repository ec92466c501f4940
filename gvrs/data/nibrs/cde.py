"""A Crime Data Explorer state-year: the FBI's NIBRS tables for one state and year, as one import.

The CDE publishes each state-year as a folder (or a zip) of CSV tables, one per NIBRS segment
and lookup: ``NIBRS_incident.csv``, ``NIBRS_OFFENSE.csv``, ``NIBRS_VICTIM.csv``,
``NIBRS_VICTIM_OFFENSE.csv``, ``NIBRS_WEAPON.csv``, ``NIBRS_VICTIM_INJURY.csv``,
``NIBRS_OFFENDER.csv``, ``NIBRS_month.csv``, ``agencies.csv`` and lookups such as
``NIBRS_OFFENSE_TYPE.csv`` or ``REF_RACE.csv`` (in a ``Codes/`` folder from data year 2021).
Two layouts exist:

- data years to 2020: upper-case quoted column names, an offense's code reached through
  ``OFFENSE_TYPE_ID`` and ``NIBRS_OFFENSE_TYPE.csv``, dates like ``14-SEP-19``;
- data years from 2021: lower-case names, ``offense_code`` in ``NIBRS_OFFENSE.csv`` itself,
  ISO dates.

Lookup ids change between years (weapon type id 2 is code 11 in 2018-20, id 1 in 2021-22), so
every id is joined to the lookup table of the same folder and never to a code list of gvrs's.
An id a lookup does not hold, or a row that names a victim, offense or incident the folder
does not have, is an error naming the table, line, column and reason. Tables may be plain or
gzip-compressed (``.csv.gz``).
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from gvrs.data.errors import FileError
from gvrs.data.limits import LimitError, Limits
from gvrs.data.nibrs import codes
from gvrs.data.nibrs.records import (
    INCIDENT_COLUMNS,
    OFFENSE_COLUMNS,
    VICTIM_COLUMNS,
    WHERE,
    Agency,
    Reading,
    isin,
)

REQUIRED = (
    "NIBRS_incident",
    "NIBRS_OFFENSE",
    "NIBRS_VICTIM",
    "NIBRS_VICTIM_OFFENSE",
    "NIBRS_WEAPON",
    "NIBRS_VICTIM_INJURY",
    "NIBRS_OFFENDER",
    "NIBRS_month",
    "agencies",
    "NIBRS_WEAPON_TYPE",
    "NIBRS_INJURY",
    "NIBRS_VICTIM_TYPE",
    "NIBRS_AGE",
    "REF_RACE",
    "NIBRS_ETHNICITY",
    "NIBRS_LOCATION_TYPE",
)
_MONTH_STATUS = {"I": "incidents", "Z": "zero", "U": "not_reported"}


class _Folder:
    """The tables of a state-year folder or zip, found by name in any case and any subfolder,
    plain or gzipped; everything read counts against the decompression limit."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits, self.read_bytes = path, limits, 0
        self.zip: zipfile.ZipFile | None = None
        # A table nearer the top wins over a copy of it deeper down: members are listed
        # deepest first, so a shallower one overwrites it.
        if path.is_dir():
            members = [p for p in path.rglob("*") if p.is_file()]
            members.sort(key=lambda p: -len(p.parts))
            self.members = {self._key(p.name): p for p in members}
        elif zipfile.is_zipfile(path):
            try:
                self.zip = zipfile.ZipFile(path)
                infos = [i for i in self.zip.infolist() if not i.is_dir()]
            except (zipfile.BadZipFile, OSError) as exc:
                raise FileError(path.name, f"not a readable zip ({exc})") from None
            unpacked = sum(i.file_size for i in infos)
            if unpacked > limits.decompressed_bytes:
                raise LimitError(
                    path.name,
                    "decompressed_bytes",
                    limits.decompressed_bytes,
                    found=f"{unpacked:,} bytes unpacked",
                )
            ordered = sorted(infos, key=lambda i: -len(PurePosixPath(i.filename).parts))
            self.members = {self._key(PurePosixPath(i.filename).name): i for i in ordered}
        else:
            raise FileError(
                path.name,
                "a CDE state-year is a folder (or a zip) of NIBRS tables such as "
                "NIBRS_incident.csv; this is neither",
            )

    @staticmethod
    def _key(name: str) -> str:
        name = name.casefold()
        for suffix in (".gz", ".csv"):
            name = name.removesuffix(suffix)
        return name

    def has(self, table: str) -> bool:
        return table.casefold() in self.members

    def _bytes(self, table: str, count: bool = True) -> bytes:
        member = self.members[table.casefold()]
        name = table + ".csv"
        try:
            raw = member.read_bytes() if isinstance(member, Path) else self.zip.read(member)
            if raw[:2] == b"\x1f\x8b":
                out = io.BytesIO()
                with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                    while block := fh.read(1 << 20):
                        out.write(block)
                        if self.read_bytes + out.tell() > self.limits.decompressed_bytes:
                            raise LimitError(
                                f"{self.path.name}: {name}",
                                "decompressed_bytes",
                                self.limits.decompressed_bytes,
                            )
                raw = out.getvalue()
        except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
            raise FileError(f"{self.path.name}: {name}", f"cannot read: {exc}") from None
        if not count:
            return raw
        self.read_bytes += len(raw)
        if self.read_bytes > self.limits.decompressed_bytes:
            raise LimitError(self.path.name, "decompressed_bytes", self.limits.decompressed_bytes)
        return raw

    def read(self, table: str, wanted: dict[str, tuple[str, ...]]) -> pd.DataFrame:
        """The columns of ``table`` as text, named by ``wanted``'s keys: each key lists the
        column's names in either layout (the first one the header has is read, in any case;
        a header may repeat a name, as NIBRS_month's DATA_YEAR, and the first is used).
        ``line`` is each row's line (the header is line 1)."""
        name = f"{table}.csv"
        raw = self._bytes(table)
        text_start = raw[:65536].decode("utf-8-sig", errors="replace")
        first = text_start.splitlines()[0] if text_start else ""
        header = [h.strip().casefold() for h in next(csv.reader([first]), [])]
        positions = {}
        for key, names in wanted.items():
            found = next(
                (header.index(n.casefold()) for n in names if n.casefold() in header), None
            )
            if found is None:
                if names and names[-1] == "?":
                    continue  # optional
                raise FileError(
                    f"{self.path.name}: {name}",
                    f"missing column {names[0]} (the table has: {', '.join(header)[:300]})",
                    line=1,
                )
            positions[key] = found
        columns = [f"c{i}" for i in range(len(header))]
        try:
            arrow = pa_csv.read_csv(
                io.BytesIO(raw),
                read_options=pa_csv.ReadOptions(skip_rows=1, column_names=columns),
                parse_options=pa_csv.ParseOptions(newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(
                    include_columns=[columns[p] for p in positions.values()],
                    column_types=dict.fromkeys(columns, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except pa.ArrowInvalid as exc:
            raise FileError(
                f"{self.path.name}: {name}", f"not a well-formed table: {exc}"
            ) from None
        frame = pd.DataFrame(
            {
                key: arrow.column(columns[p]).to_pandas().astype(str).str.strip()
                for key, p in positions.items()
            }
        )
        for key in wanted:
            if key not in frame:
                frame[key] = ""
        longest = max((frame[c].str.len().max() or 0 for c in frame), default=0)
        if longest > self.limits.cell_chars:
            raise LimitError(f"{self.path.name}: {name}", "cell_chars", self.limits.cell_chars)
        frame["line"] = np.arange(2, len(frame) + 2)
        frame["table"] = name
        return frame


def _lookup(folder: _Folder, table: str, id_column: tuple[str, ...], code_column: tuple[str, ...]):
    frame = folder.read(table, {"id": id_column, "code": code_column})
    return dict(zip(frame["id"], frame["code"].str.strip(), strict=True))


def _coded(
    reading: Reading,
    rows: pd.DataFrame,
    column: str,
    label: str,
    lookup: dict[str, str],
    lookup_table: str,
    incident: pd.Series | None = None,
    *,
    blank_ok: bool = True,
) -> pd.Series:
    """``rows[column]`` (lookup ids) as codes; an id the year's lookup lacks is an error."""
    values = rows[column]
    mapped = values.map(lookup)
    unknown = mapped.isna() & ((values != "") | (not blank_ok))
    for line, value, key in zip(
        rows["line"][unknown],
        values[unknown],
        (incident if incident is not None else rows.get("incident", values))[unknown],
        strict=True,
    ):
        reading.error(
            rows["table"].iloc[0],
            line,
            label,
            value,
            "required value is missing" if not value else f"no such id in {lookup_table}.csv",
        )
        if incident is not None or "incident" in rows:
            reading.bad_incidents.add(key)
    return mapped.fillna("").astype(str)


def _linked(
    reading: Reading,
    rows: pd.DataFrame,
    column: str,
    targets: pd.Index,
    target_table: str,
    incident: pd.Series | None,
) -> np.ndarray:
    """Rows whose ``column`` names a row of ``target_table`` (others are errors)."""
    ok = isin(rows[column], targets)
    for line, value, key in zip(
        rows["line"][~ok],
        rows[column][~ok],
        incident[~ok] if incident is not None else rows[column][~ok],
        strict=True,
    ):
        reading.error(
            rows["table"].iloc[0],
            line,
            column.upper(),
            value,
            f"no such {column.removesuffix('_id')} in {target_table}",
        )
        if incident is not None and isinstance(key, str) and key:
            reading.bad_incidents.add(key)
    return ok


def _dates(values: pd.Series) -> pd.Series:
    """CDE dates as YYYY-MM-DD: ISO (2022-01-15, with or without a time) or 14-SEP-19."""
    iso = pd.to_datetime(values.str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    old = pd.to_datetime(values.str.title(), format="%d-%b-%y", errors="coerce")
    return iso.fillna(old).dt.strftime("%Y-%m-%d").fillna("")


def read_cde(path: str | Path, limits: Limits | None = None) -> Reading:
    """Read a CDE state-year folder or zip, both layouts, into ``Reading`` shapes."""
    path = Path(path)
    folder = _Folder(path, limits or Limits.from_env())
    missing = [t + ".csv" for t in REQUIRED if not folder.has(t)]
    layout_old = folder.has("NIBRS_OFFENSE_TYPE") and "offense_type_id" in _header(
        folder, "NIBRS_OFFENSE"
    )
    if not layout_old and "offense_code" not in _header(folder, "NIBRS_OFFENSE"):
        missing.append("NIBRS_OFFENSE.csv with OFFENSE_TYPE_ID or offense_code")
    if missing:
        raise FileError(
            path.name,
            "not a complete CDE state-year: missing "
            + ", ".join(missing)
            + " (a state-year folder holds NIBRS_incident.csv, NIBRS_OFFENSE.csv, "
            "NIBRS_VICTIM.csv ... and its lookup tables)",
        )
    reading = Reading(form="nibrs-cde")
    agencies = _agencies(reading, folder)
    incidents = _incidents(reading, folder, agencies)
    _months(reading, folder, agencies)
    _offenses(reading, folder, incidents, layout_old)
    _victims(reading, folder, incidents)
    _offenders(reading, folder, incidents)
    return reading


def _header(folder: _Folder, table: str) -> list[str]:
    if not folder.has(table):
        return []
    raw = folder._bytes(table, count=False)[:65536].decode("utf-8-sig", errors="replace")
    first = raw.splitlines()[0] if raw else ""
    return [h.strip().casefold() for h in next(csv.reader([first]), [])]


def _agencies(reading: Reading, folder: _Folder) -> dict[str, str]:
    """agency_id -> ORI, and each agency's name, kind and county from agencies.csv."""
    frame = folder.read(
        "agencies",
        {
            "agency_id": ("agency_id",),
            "ori": ("ori",),
            "name": ("pub_agency_name", "ncic_agency_name", "?"),
            "kind": ("agency_type_name", "?"),
            "county": ("county_name", "?"),
            "state": ("state_abbr", "?"),
        },
    )
    frame = frame.drop_duplicates("agency_id")
    out = {}
    for row in frame.itertuples(index=False):
        ori = row.ori.strip().upper()
        if not ori:
            reading.error(row.table, row.line, "ORI", "", "required value is missing")
            continue
        county = row.county.strip()
        if county.casefold() in ("not specified", "none"):
            county = ""
        reading.agencies[ori] = Agency(
            ori=ori,
            state=codes.ori_state(ori),
            name=row.name.strip(),
            kind=row.kind.strip(),
            county=county,
        )
        out[row.agency_id] = ori
    return out


def _incidents(reading: Reading, folder: _Folder, agencies: dict[str, str]) -> pd.DataFrame:
    frame = folder.read(
        "NIBRS_incident",
        {
            "data_year": ("data_year",),
            "agency_id": ("agency_id",),
            "incident_id": ("incident_id",),
            "date": ("incident_date",),
            "report_date": ("report_date_flag", "?"),
            "hour": ("incident_hour", "?"),
            "cleared_id": ("cleared_except_id", "?"),
        },
    )
    reading.rows_read += len(frame)
    ori = frame["agency_id"].map(agencies)
    unknown = ori.isna().to_numpy()
    for line, value in zip(frame["line"][unknown], frame["agency_id"][unknown], strict=True):
        reading.error(
            frame["table"].iloc[0], line, "AGENCY_ID", value, "no such agency in agencies.csv"
        )
    frame = frame[~unknown].copy()
    frame["ori"] = ori[~unknown]
    frame["incident"] = frame["ori"] + ":" + frame["data_year"] + ":" + frame["incident_id"]
    frame["date_iso"] = _dates(frame["date"])
    bad_date = (frame["date_iso"] == "").to_numpy()
    for line, value, key in zip(
        frame["line"][bad_date], frame["date"][bad_date], frame["incident"][bad_date], strict=True
    ):
        reading.error(
            frame["table"].iloc[0],
            line,
            "INCIDENT_DATE",
            value,
            "not a date (14-SEP-19 or 2019-09-14)",
        )
        reading.bad_incidents.add(key)
    hour = pd.to_numeric(frame["hour"], errors="coerce")
    bad_hour = ((frame["hour"] != "") & ~hour.between(0, 23)).to_numpy()
    for line, value, key in zip(
        frame["line"][bad_hour], frame["hour"][bad_hour], frame["incident"][bad_hour], strict=True
    ):
        reading.error(frame["table"].iloc[0], line, "INCIDENT_HOUR", value, "not an hour 0-23")
        reading.bad_incidents.add(key)
    cleared = frame["cleared_id"]
    if folder.has("NIBRS_CLEARED_EXCEPT"):
        lookup = _lookup(
            folder, "NIBRS_CLEARED_EXCEPT", ("cleared_except_id",), ("cleared_except_code",)
        )
        cleared = _coded(
            reading,
            frame,
            "cleared_id",
            "CLEARED_EXCEPT_ID",
            lookup,
            "NIBRS_CLEARED_EXCEPT",
            frame["incident"],
        )
    else:
        cleared = pd.Series("", index=frame.index)
    arrested: set[str] = set()
    if folder.has("NIBRS_ARRESTEE"):
        arrestees = folder.read("NIBRS_ARRESTEE", {"incident_id": ("incident_id",)})
        arrested = set(arrestees["incident_id"])
    frame["by_id"] = frame["incident_id"]
    reading.incidents = pd.DataFrame(
        {
            "incident": frame["incident"],
            "ori": frame["ori"],
            "date": frame["date_iso"],
            "hour": hour.map(lambda h: "" if pd.isna(h) or not 0 <= h <= 23 else f"{int(h):02d}"),
            "report_date": frame["report_date"].where(frame["report_date"] == "R", ""),
            "cleared": cleared,
            "arrest": np.where(isin(frame["incident_id"], arrested), "1", ""),
            "table": frame["table"],
            "line": frame["line"],
        }
    )[list(INCIDENT_COLUMNS + WHERE)].reset_index(drop=True)
    years = sorted(set(frame["data_year"]))
    reading.replaces_scope = [
        (ori_, f"{ori_}:{year}:") for ori_ in sorted(set(frame["ori"])) for year in years
    ]
    dated = reading.incidents[reading.incidents["date"] != ""]
    reading.day_counts = dated.groupby(["ori", "date"]).size().rename("n").reset_index()
    # incident_id -> key, for the tables that name an incident by its id.
    return frame.set_index("incident_id")["incident"]


def _months(reading: Reading, folder: _Folder, agencies: dict[str, str]) -> None:
    frame = folder.read(
        "NIBRS_month",
        {
            "agency_id": ("agency_id",),
            "year": ("data_year",),
            "month": ("month_num",),
            "status": ("reported_status",),
        },
    )
    ori = frame["agency_id"].map(agencies)
    month = pd.to_numeric(frame["month"], errors="coerce")
    status = frame["status"].str.upper().map(_MONTH_STATUS)
    table = "NIBRS_month.csv"
    for mask, column, value, reason in (
        (ori.isna(), "AGENCY_ID", frame["agency_id"], "no such agency in agencies.csv"),
        (~month.between(1, 12), "MONTH_NUM", frame["month"], "not a month 1-12"),
        (
            status.isna(),
            "REPORTED_STATUS",
            frame["status"],
            "not a reported status: I (incidents), Z (zero report) or U (not reported)",
        ),
        (
            ~frame["year"].str.fullmatch(r"\d{4}").fillna(False),
            "DATA_YEAR",
            frame["year"],
            "not a year",
        ),
    ):
        mask = mask.to_numpy(dtype=bool)
        for line, v in zip(frame["line"][mask], value[mask], strict=True):
            reading.error(table, line, column, v, reason)
    ok = (
        ori.notna()
        & month.between(1, 12)
        & status.notna()
        & frame["year"].str.fullmatch(r"\d{4}").fillna(False)
    )
    months = pd.DataFrame(
        {
            "ori": ori[ok],
            "month": frame["year"][ok] + "-" + month[ok].astype(int).map("{:02d}".format) + "-01",
            "status": status[ok],
        }
    )
    # An agency-month listed twice keeps its best status (reported over not reported).
    rank = months["status"].map({"incidents": 0, "zero": 1, "not_reported": 2})
    months = months.assign(rank=rank).sort_values("rank").drop_duplicates(["ori", "month"])
    reading.months = months[["ori", "month", "status"]].reset_index(drop=True)


def _offenses(reading: Reading, folder: _Folder, incidents: pd.Series, layout_old: bool) -> None:
    wanted = {
        "offense_id": ("offense_id",),
        "incident_id": ("incident_id",),
        "location_id": ("location_id",),
    }
    wanted["code"] = ("offense_type_id",) if layout_old else ("offense_code",)
    frame = folder.read("NIBRS_OFFENSE", wanted)
    reading.rows_read += len(frame)
    table = frame["table"].iloc[0] if len(frame) else "NIBRS_OFFENSE.csv"
    known = _linked(reading, frame, "incident_id", incidents.index, "NIBRS_incident.csv", None)
    frame = frame[known].copy()
    frame["incident"] = frame["incident_id"].map(incidents)
    if layout_old:
        lookup = _lookup(folder, "NIBRS_OFFENSE_TYPE", ("offense_type_id",), ("offense_code",))
        frame["code"] = _coded(
            reading,
            frame,
            "code",
            "OFFENSE_TYPE_ID",
            lookup,
            "NIBRS_OFFENSE_TYPE",
            frame["incident"],
            blank_ok=False,
        )
    unknown = ~frame["code"].isin(list(codes.GROUP_A_OFFENSES)) & (frame["code"] != "")
    for line, value, key in zip(
        frame["line"][unknown], frame["code"][unknown], frame["incident"][unknown], strict=True
    ):
        reading.error(
            table,
            line,
            "OFFENSE_CODE",
            value,
            "not a Group A offense code of the NIBRS specification",
        )
        reading.bad_incidents.add(key)
    location = _coded(
        reading,
        frame,
        "location_id",
        "LOCATION_ID",
        _lookup(folder, "NIBRS_LOCATION_TYPE", ("location_id",), ("location_code",)),
        "NIBRS_LOCATION_TYPE",
        frame["incident"],
    )
    gang = pd.Series(False, index=frame.index)
    if folder.has("NIBRS_CRIMINAL_ACT") and folder.has("NIBRS_CRIMINAL_ACT_TYPE"):
        acts = folder.read(
            "NIBRS_CRIMINAL_ACT",
            {"act_id": ("criminal_act_id",), "offense_id": ("offense_id",)},
        )
        act_codes = _lookup(
            folder, "NIBRS_CRIMINAL_ACT_TYPE", ("criminal_act_id",), ("criminal_act_code",)
        )
        acts["code"] = _coded(
            reading, acts, "act_id", "CRIMINAL_ACT_ID", act_codes, "NIBRS_CRIMINAL_ACT_TYPE"
        )
        gangs = set(acts["offense_id"][acts["code"].isin(list(codes.GANG_ACTIVITY))])
        gang = pd.Series(isin(frame["offense_id"], gangs), index=frame.index)
    reading.offenses = pd.DataFrame(
        {
            "incident": frame["incident"],
            "offense": frame["offense_id"],
            "code": frame["code"],
            "location": location,
            "gang": np.where(gang, "1", ""),
            "table": frame["table"],
            "line": frame["line"],
        }
    )[list(OFFENSE_COLUMNS + WHERE)].reset_index(drop=True)
    weapons = folder.read(
        "NIBRS_WEAPON", {"weapon_id": ("weapon_id",), "offense_id": ("offense_id",)}
    )
    offense_index = pd.Index(frame["offense_id"])
    known = _linked(reading, weapons, "offense_id", offense_index, "NIBRS_OFFENSE.csv", None)
    weapons = weapons[known]
    by_offense = frame.set_index("offense_id")["incident"]
    weapons_incident = weapons["offense_id"].map(by_offense)
    weapon_codes = _coded(
        reading,
        weapons,
        "weapon_id",
        "WEAPON_ID",
        _lookup(folder, "NIBRS_WEAPON_TYPE", ("weapon_id",), ("weapon_code",)),
        "NIBRS_WEAPON_TYPE",
        weapons_incident,
        blank_ok=False,
    )
    reading.weapons = pd.DataFrame({"offense": weapons["offense_id"], "code": weapon_codes})


def _victims(reading: Reading, folder: _Folder, incidents: pd.Series) -> None:
    frame = folder.read(
        "NIBRS_VICTIM",
        {
            "victim_id": ("victim_id",),
            "incident_id": ("incident_id",),
            "seq": ("victim_seq_num",),
            "type_id": ("victim_type_id",),
            "age_id": ("age_id",),
            "age_num": ("age_num",),
            "low": ("age_range_low_num", "?"),
            "high": ("age_range_high_num", "age_code_range_high", "?"),
            "sex": ("sex_code",),
            "race_id": ("race_id",),
            "ethnicity_id": ("ethnicity_id", "?"),
            "resident": ("resident_status_code", "?"),
        },
    )
    reading.rows_read += len(frame)
    known = _linked(reading, frame, "incident_id", incidents.index, "NIBRS_incident.csv", None)
    frame = frame[known].copy()
    frame["incident"] = frame["incident_id"].map(incidents)
    table = "NIBRS_VICTIM"

    def code(column: str, label: str, lookup_table: str, ids: tuple[str, ...], code_col):
        lookup = _lookup(folder, lookup_table, ids, code_col)
        return _coded(reading, frame, column, label, lookup, lookup_table, frame["incident"])

    kind = code(
        "type_id", "VICTIM_TYPE_ID", "NIBRS_VICTIM_TYPE", ("victim_type_id",), ("victim_type_code",)
    )
    age_code = code("age_id", "AGE_ID", "NIBRS_AGE", ("age_id",), ("age_code",))
    race = code("race_id", "RACE_ID", "REF_RACE", ("race_id",), ("race_code",))
    ethnicity = code(
        "ethnicity_id", "ETHNICITY_ID", "NIBRS_ETHNICITY", ("ethnicity_id",), ("ethnicity_code",)
    )
    bad_sex = ~frame["sex"].isin(["M", "F", "U", "X", ""])
    for line, value, key in zip(
        frame["line"][bad_sex], frame["sex"][bad_sex], frame["incident"][bad_sex], strict=True
    ):
        reading.error(table + ".csv", line, "SEX_CODE", value, "not a sex code: M, F, U or X")
        reading.bad_incidents.add(key)
    age, group = _cde_ages(age_code, frame["age_num"], frame["low"], frame["high"])
    links = folder.read(
        "NIBRS_VICTIM_OFFENSE", {"victim_id": ("victim_id",), "offense_id": ("offense_id",)}
    )
    victim_index = pd.Index(frame["victim_id"])
    by_victim = frame.set_index("victim_id")["incident"]
    ok = _linked(reading, links, "victim_id", victim_index, "NIBRS_VICTIM.csv", None)
    links = links[ok]
    offense_incident = reading.offenses.set_index("offense")["incident"]
    ok = _linked(
        reading,
        links,
        "offense_id",
        pd.Index(reading.offenses["offense"]),
        "NIBRS_OFFENSE.csv",
        links["victim_id"].map(by_victim),
    )
    links = links[ok]
    # A victim is linked only to offenses of its own incident.
    other = links["offense_id"].map(offense_incident) != links["victim_id"].map(by_victim)
    for line, value, key in zip(
        links["line"][other],
        links["offense_id"][other],
        links["victim_id"][other].map(by_victim),
        strict=True,
    ):
        reading.error(
            links["table"].iloc[0],
            line,
            "OFFENSE_ID",
            value,
            "an offense of another incident than the victim's",
        )
        reading.bad_incidents.add(key)
    links = links[~other]
    reading.victim_offenses = pd.DataFrame(
        {"victim": links["victim_id"], "offense": links["offense_id"]}
    )
    injuries = folder.read(
        "NIBRS_VICTIM_INJURY", {"victim_id": ("victim_id",), "injury_id": ("injury_id",)}
    )
    ok = _linked(reading, injuries, "victim_id", victim_index, "NIBRS_VICTIM.csv", None)
    injuries = injuries[ok]
    injury_codes = _coded(
        reading,
        injuries,
        "injury_id",
        "INJURY_ID",
        _lookup(folder, "NIBRS_INJURY", ("injury_id",), ("injury_code",)),
        "NIBRS_INJURY",
        injuries["victim_id"].map(by_victim),
        blank_ok=False,
    )
    reading.injuries = pd.DataFrame({"victim": injuries["victim_id"], "code": injury_codes})
    circumstances = pd.Series("", index=frame["victim_id"])
    if folder.has("NIBRS_VICTIM_CIRCUMSTANCES") and folder.has("NIBRS_CIRCUMSTANCES"):
        rows = folder.read(
            "NIBRS_VICTIM_CIRCUMSTANCES",
            {"victim_id": ("victim_id",), "circumstances_id": ("circumstances_id",)},
        )
        rows = rows[isin(rows["victim_id"], victim_index)]
        lookup = _lookup(
            folder,
            "NIBRS_CIRCUMSTANCES",
            ("circumstances_id",),
            ("circumstances_code", "circumstance_code"),
        )
        rows["code"] = _coded(
            reading,
            rows,
            "circumstances_id",
            "CIRCUMSTANCES_ID",
            lookup,
            "NIBRS_CIRCUMSTANCES",
            rows["victim_id"].map(by_victim),
        ).str.zfill(2)
        joined = rows[rows["code"] != "00"].groupby("victim_id")["code"].agg(",".join)
        circumstances = joined.reindex(frame["victim_id"]).fillna("")
    relationship = pd.Series("", index=frame["victim_id"])
    if folder.has("NIBRS_VICTIM_OFFENDER_REL") and folder.has("NIBRS_RELATIONSHIP"):
        rows = folder.read(
            "NIBRS_VICTIM_OFFENDER_REL",
            {
                "victim_id": ("victim_id",),
                "offender_id": ("offender_id",),
                "relationship_id": ("relationship_id",),
            },
        )
        rows = rows[isin(rows["victim_id"], victim_index)]
        lookup = _lookup(folder, "NIBRS_RELATIONSHIP", ("relationship_id",), ("relationship_code",))
        rows["code"] = _coded(
            reading,
            rows,
            "relationship_id",
            "RELATIONSHIP_ID",
            lookup,
            "NIBRS_RELATIONSHIP",
            rows["victim_id"].map(by_victim),
        )
        # The relationship to the offender listed first (the lowest offender id).
        first = rows.sort_values(["victim_id", "offender_id"]).drop_duplicates("victim_id")
        relationship = first.set_index("victim_id")["code"].reindex(frame["victim_id"]).fillna("")
    reading.victims = pd.DataFrame(
        {
            "incident": frame["incident"],
            "victim": frame["victim_id"],
            "seq": frame["seq"],
            "type": kind,
            "age": age,
            "age_group": group,
            "sex": frame["sex"],
            "race": race,
            "ethnicity": ethnicity,
            "resident": frame["resident"],
            "circumstances": circumstances.to_numpy(),
            "relationship": relationship.to_numpy(),
            "table": frame["table"],
            "line": frame["line"],
        }
    )[list(VICTIM_COLUMNS + WHERE)].reset_index(drop=True)


def _cde_ages(code: pd.Series, number: pd.Series, low: pd.Series, high: pd.Series):
    """The age (text, "" when unknown) and an age group for ranges and infants.

    The older layout codes AG ("age in years", the number in AGE_NUM); the newer codes each
    year of age itself ("01".."98"). NN, NB and BB are infants (age 0), 00 and NS unknown,
    99 over 98. A range (low and high differing) is a group, not an age.
    """
    years = pd.to_numeric(number, errors="coerce")
    numeric_code = pd.to_numeric(
        code.where(code.str.fullmatch(r"\d{2}").fillna(False)), errors="coerce"
    )
    age = pd.Series(np.nan, index=code.index)
    age = age.where(code != "AG", years)
    age = age.where(~numeric_code.between(1, 98), numeric_code)
    age = age.where(~code.isin(["NN", "NB", "BB"]), 0)
    age = age.where(code != "99", 99)
    hi = pd.to_numeric(high, errors="coerce")
    lo = pd.to_numeric(low, errors="coerce")
    ranged = (hi > 0) & (lo >= 0) & (hi > lo)
    group = pd.Series("", index=code.index)
    group = group.where(
        ~ranged, lo.astype("Int64").astype(str) + "-" + hi.astype("Int64").astype(str)
    )
    group = group.where(~code.isin(list(codes.AGE_CODE_GROUPS)), code.map(codes.AGE_CODE_GROUPS))
    age = age.where(~ranged)
    text = age.map(lambda v: "" if pd.isna(v) else str(int(v)))
    return text.astype(str), group.fillna("").astype(str)


def _offenders(reading: Reading, folder: _Folder, incidents: pd.Series) -> None:
    frame = folder.read(
        "NIBRS_OFFENDER", {"incident_id": ("incident_id",), "seq": ("offender_seq_num",)}
    )
    known = _linked(reading, frame, "incident_id", incidents.index, "NIBRS_incident.csv", None)
    frame = frame[known]
    reading.offenders = pd.DataFrame(
        {"incident": frame["incident_id"].map(incidents), "seq": frame["seq"]}
    ).reset_index(drop=True)
