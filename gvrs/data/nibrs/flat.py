"""The NIBRS monthly submission in the flat-file format: fixed-width segments, one a line.

Layout and codes: the FBI's *NIBRS Technical Specification* (2019.1), sections 2 and 4.
Positions 1-4 hold the segment's length (the Record Descriptor Word), 5 its level (0 zero
report, 1 administrative, 2 offense, 3 property, 4 victim, 5 offender, 6 arrestee, 7 Group B
arrest), 6 its action (I incident report, A add, D delete), 7-12 the month and year the
submission was made, 17-25 the ORI and 26-37 the incident number. An incident is its level-1
segment and the segments 2-6 that follow it, in level order.

Actions, in file order, the last one about an incident winning:

- ``I`` on a level-1 segment states the whole incident; gvrs replaces what it held of it;
- ``D`` on a level-1 segment deletes the incident it names (ORI and incident number);
- ``A`` on a level-0 segment is a zero report: the agency had nothing to report that month,
  a covered month with nothing in it; ``D`` on it withdraws the zero report;
- level 7 (Group B arrests) and level 3 (property) are read and left out; ``W`` (time-window)
  segments are set aside with a warning.

Lines end in CRLF or LF. Data records are initialised to blanks (4.2), so a line shorter
than its length has lost trailing blanks to a text tool and is padded back; a line longer
than its length, or a length not valid for its level, is refused.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import pandas as pd

from gvrs.data.errors import FileError
from gvrs.data.limits import LimitError, Limits
from gvrs.data.nibrs import codes
from gvrs.data.nibrs.records import (
    INCIDENT_COLUMNS,
    OFFENSE_COLUMNS,
    VICTIM_COLUMNS,
    WHERE,
    Reading,
    isin,
)

# Table 3-1: the lengths each level may have.
LENGTHS = {
    "0": (43,),
    "1": (87, 88),
    "2": (63, 71),
    "3": (307,),
    "4": (129, 141),
    "5": (45, 46),
    "6": (110,),
    "7": (66,),
}
SEGMENTS = {
    "0": "a zero report segment",
    "1": "an administrative segment",
    "2": "an offense segment",
    "3": "a property segment",
    "4": "a victim segment",
    "5": "an offender segment",
    "6": "an arrestee segment",
    "7": "a Group B arrest segment",
}
ACTIONS = {"0": "AD", "1": "IDW", "2": "IW", "3": "IW", "4": "IW", "5": "IW", "6": "IW", "7": "AD"}


def _in(values: pd.Series, members) -> pd.Series:
    """``values.isin(members)``, by pyarrow (``records.isin``), as a Series of the same index."""
    return pd.Series(isin(values, members), index=values.index)


def _field(frame: pd.DataFrame, start: int, end: int) -> pd.Series:
    """Positions ``start``..``end`` (1-based, inclusive, as the specification numbers them)."""
    return frame["text"].str.slice(start - 1, end)


def read_lines(path: Path, limits: Limits) -> list[str]:
    """The file's lines (gzip or plain), each without its CR or LF, as Latin-1 text: the
    specification's data are ASCII, and Latin-1 keeps every byte one character, so a stray
    byte never shifts the positions after it."""
    with open(path, "rb") as fh:
        compressed = fh.read(2) == b"\x1f\x8b"
    opener = gzip.open if compressed else open
    chunks, total = [], 0
    try:
        with opener(path, "rb") as fh:
            while block := fh.read(1 << 20):
                total += len(block)
                if total > limits.decompressed_bytes:
                    raise LimitError(path.name, "decompressed_bytes", limits.decompressed_bytes)
                chunks.append(block)
    except (OSError, EOFError, zlib.error) as exc:
        raise FileError(path.name, f"cannot read or decompress: {exc}") from None
    data = b"".join(chunks)
    if b"\x00" in data[:4096]:
        raise FileError(path.name, "this is a binary file, not a NIBRS flat-file submission")
    lines = data.decode("latin-1").split("\n")
    longest = max((len(line) for line in lines), default=0)
    if longest > limits.line_bytes:
        at = next(i for i, line in enumerate(lines) if len(line) == longest)
        raise LimitError(path.name, "line_bytes", limits.line_bytes, line=at + 1)
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_flat(path: str | Path, limits: Limits | None = None) -> Reading:
    """Read a flat-file submission: every segment checked, incidents in ``Reading`` shapes."""
    path = Path(path)
    limits = limits or Limits.from_env()
    lines = read_lines(path, limits)
    reading = Reading(form="nibrs-flat")
    numbers = np.arange(1, len(lines) + 1)
    frame = pd.DataFrame({"line": numbers, "raw": pd.Series(lines, dtype="str")})
    frame = frame[frame["raw"].str.strip() != ""].reset_index(drop=True)
    if frame.empty:
        raise FileError(path.name, "the file holds no segments")
    reading.rows_read = len(frame)
    frame = _segments(reading, frame, path.name)
    _zero_reports(reading, frame[frame["level"] == "0"])
    groups = _incident_groups(reading, frame[_in(frame["level"], list("123456"))])
    _administrative(reading, groups)
    _offenses(reading, groups)
    _victims(reading, groups)
    _offenders(reading, groups)
    _day_counts(reading)
    return reading


def _segments(reading: Reading, frame: pd.DataFrame, file_name: str) -> pd.DataFrame:
    """Header fields of every segment; lines whose length or level is wrong are errors."""
    raw = frame["raw"]
    frame["rdw"] = raw.str.slice(0, 4)
    frame["level"] = raw.str.slice(4, 5)
    frame["action"] = raw.str.slice(5, 6)
    rdw = pd.to_numeric(frame["rdw"], errors="coerce")
    level_ok = _in(frame["level"], list(LENGTHS))
    bad_level = ~level_ok
    if bad_level.all():
        raise FileError(
            file_name,
            "not a NIBRS flat-file submission: no line has a segment level 0-7 in position 5 "
            f"(line {int(frame['line'].iloc[0])} begins {raw.iloc[0][:20]!r})",
            line=int(frame["line"].iloc[0]),
        )
    for line, value in zip(frame["line"][bad_level], frame["level"][bad_level], strict=True):
        reading.error("", line, "Segment Level (position 5)", value, "not a level 0-7")
    valid = np.array(
        [lvl in LENGTHS and r in LENGTHS[lvl] for lvl, r in zip(frame["level"], rdw, strict=True)]
    )
    bad_length = level_ok & ~valid
    for line, level, value in zip(
        frame["line"][bad_length], frame["level"][bad_length], frame["rdw"][bad_length], strict=True
    ):
        allowed = " or ".join(f"{n:04d}" for n in LENGTHS[level])
        reading.error(
            "",
            line,
            f"Segment Length (positions 1-4) of {SEGMENTS[level]}",
            value,
            f"not a length of a level-{level} segment (Table 3-1: {allowed})",
        )
    length = raw.str.len().to_numpy()
    too_long = valid & (length > rdw.fillna(0).to_numpy())
    for line, value, n in zip(
        frame["line"][too_long], frame["rdw"][too_long], length[too_long], strict=True
    ):
        reading.error(
            "",
            line,
            "Segment Length (positions 1-4)",
            value,
            f"the segment is {n} characters, longer than its stated length",
        )
    bad_action = level_ok & ~np.array(
        [
            a != "" and a in ACTIONS.get(lvl, "")
            for lvl, a in zip(frame["level"], frame["action"], strict=True)
        ]
    )
    for line, level, value in zip(
        frame["line"][bad_action],
        frame["level"][bad_action],
        frame["action"][bad_action],
        strict=True,
    ):
        reading.error(
            "",
            line,
            f"Segment Action Type (position 6) of {SEGMENTS[level]}",
            value,
            f"not an action of a level-{level} segment (valid: {', '.join(ACTIONS[level])})",
        )
    keep = valid & ~too_long & ~bad_action
    if not keep.any():
        first = min(reading.errors, key=lambda e: e.line)
        raise FileError(
            file_name,
            "not a NIBRS flat-file submission: no line is a segment of a valid level, length "
            f"and action (line {first.line}: {first.column}={first.value!r}: {first.reason})",
            line=first.line,
        )
    frame = frame[keep].copy()
    width = frame["rdw"].astype(int)
    frame["text"] = [t.ljust(w) for t, w in zip(frame["raw"], width, strict=True)]
    frame["ori"] = _field(frame, 17, 25).str.strip()
    frame["number"] = _field(frame, 26, 37).str.strip()
    frame["key"] = frame["ori"] + ":" + frame["number"]
    made = _field(frame, 9, 12) + "-" + _field(frame, 7, 8) + "-01"
    made = made[made.str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])-01").fillna(False)]
    # Every segment of a submission carries the same month (error 058); the most common wins.
    reading.submitted = str(made.mode().iloc[0]) if len(made) else ""
    return frame


def _zero_reports(reading: Reading, zero: pd.DataFrame) -> None:
    """Level 0: a zero report (A) is a covered month with nothing in it; D withdraws one."""
    if zero.empty:
        return
    month = _field(zero, 38, 39)
    year = _field(zero, 40, 43)
    ok = _in(month, [f"{m:02d}" for m in range(1, 13)]) & year.str.fullmatch(r"\d{4}")
    for line, value in zip(zero["line"][~ok], (month + year)[~ok], strict=True):
        reading.error(
            "", line, "Zero Report Month and Year (positions 38-43)", value, "not a month MMYYYY"
        )
    bad_number = zero["number"].str.strip("0") != ""
    for line, value in zip(zero["line"][bad_number], zero["number"][bad_number], strict=True):
        reading.error(
            "",
            line,
            "Incident Number (positions 26-37) of a zero report segment",
            value,
            "must be all zeros in a zero report (section 2.4)",
        )
    good = ok & ~bad_number
    months = pd.DataFrame(
        {
            "ori": zero["ori"][good],
            "month": year[good] + "-" + month[good] + "-01",
            "status": np.where(zero["action"][good] == "A", "zero", "not_reported"),
            "line": zero["line"][good],
        }
    )
    # The last segment about an agency's month wins, as for incidents.
    months = months.sort_values("line").drop_duplicates(["ori", "month"], keep="last")
    reading.months = months[["ori", "month", "status"]].reset_index(drop=True)


def _incident_groups(reading: Reading, segments: pd.DataFrame) -> pd.DataFrame:
    """Each segment of levels 1-6 with its incident group (the level-1 segment it follows);
    only the last group of each incident, and only those its last level-1 action states."""
    segments = segments.sort_values("line").copy()
    starts = (segments["level"] == "1").to_numpy()
    group = np.cumsum(starts)
    orphan = group == 0
    for line, level in zip(segments["line"][orphan], segments["level"][orphan], strict=True):
        reading.error(
            "",
            line,
            f"Segment Level (position 5) of {SEGMENTS[level]}",
            level,
            "no administrative segment (level 1) comes before it: an incident starts with one "
            "(error 055)",
        )
    segments["group"] = group
    segments = segments[~orphan]
    heads = segments[segments["level"] == "1"].set_index("group")
    segments["head_key"] = heads["key"].reindex(segments["group"]).to_numpy()
    segments["head_action"] = heads["action"].reindex(segments["group"]).to_numpy()
    segments["head_line"] = heads["line"].reindex(segments["group"]).to_numpy()
    stray = segments["key"] != segments["head_key"]
    for line, level, key, head, head_line in zip(
        segments["line"][stray],
        segments["level"][stray],
        segments["key"][stray],
        segments["head_key"][stray],
        segments["head_line"][stray],
        strict=True,
    ):
        reading.error(
            "",
            line,
            f"ORI and Incident Number (positions 17-37) of {SEGMENTS[level]}",
            key,
            f"follows incident {head} (line {head_line}): an incident's segments follow its "
            "administrative segment, in level order (error 050)",
        )
        reading.bad_incidents.update((key, head))
    order = segments["level"].astype(int).to_numpy()
    within = segments["group"].to_numpy()
    out_of_order = np.r_[False, (within[1:] == within[:-1]) & (order[1:] < order[:-1])]
    for line, key in zip(
        segments["line"][out_of_order], segments["key"][out_of_order], strict=True
    ):
        reading.error(
            "",
            line,
            "Segment Level (position 5)",
            "",
            f"incident {key}'s segments are not in level order 1-6 (error 050)",
        )
        reading.bad_incidents.add(key)
    deletes = segments[(segments["level"] != "1") & (segments["head_action"] == "D")]
    for line, key, head_line in zip(
        deletes["line"], deletes["key"], deletes["head_line"], strict=True
    ):
        reading.error(
            "",
            line,
            "Segment Action Type (position 6)",
            "",
            f"incident {key} is deleted at line {head_line}: a delete is its administrative "
            "segment alone (section 4.6.3)",
        )
        reading.bad_incidents.add(key)
    window = segments["action"] == "W"
    if window.any():
        keys = sorted(set(segments["key"][window]))
        reading.warnings.append(
            f"{len(keys)} incidents with time-window (W) segments were left out (gvrs reads "
            f"actions I and D): {', '.join(keys[:10])}{' ...' if len(keys) > 10 else ''}"
        )
        segments = segments[~_in(segments["key"], keys)]
    # The last level-1 segment about an incident decides it: I states it, D deletes it.
    heads = segments[segments["level"] == "1"]
    last = heads.sort_values("line").drop_duplicates("key", keep="last")
    for key, line in zip(
        last["key"][last["action"] == "D"], last["line"][last["action"] == "D"], strict=True
    ):
        reading.deleted[key] = int(line)
    stated = last[last["action"] == "I"]
    reading.replaced = set(stated["key"])
    return segments[_in(segments["group"].astype(str), stated["group"].astype(str))]


def _bad(reading: Reading, rows: pd.DataFrame, mask, label: str, values, reason) -> None:
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    for line, key, value in zip(rows["line"][mask], rows["key"][mask], values[mask], strict=True):
        reading.error("", line, label, value, reason(value) if callable(reason) else reason)
        reading.bad_incidents.add(key)


def _code(reading, rows, values, valid, label, *, blank_ok=True) -> None:
    known = _in(values, list(valid)) | ((values.str.strip() == "") & blank_ok)
    listed = ", ".join(sorted(valid))
    _bad(
        reading,
        rows,
        ~known.to_numpy(),
        label,
        values,
        lambda v: (
            "required value is missing"
            if not v.strip()
            else f"unknown code; valid: {listed}"
            if len(listed) < 200
            else "unknown code (see the NIBRS Technical Specification)"
        ),
    )


def _administrative(reading: Reading, segments: pd.DataFrame) -> None:
    admin = segments[segments["level"] == "1"]
    date = _field(admin, 38, 45)
    parsed = pd.to_datetime(date, format="%Y%m%d", errors="coerce")
    _bad(
        reading,
        admin,
        parsed.isna().to_numpy(),
        "Incident Date (DE 3, positions 38-45) of an administrative segment",
        date,
        "not a date YYYYMMDD",
    )
    hour = _field(admin, 47, 48).str.strip()
    _code(
        reading,
        admin,
        hour,
        {f"{h:02d}" for h in range(24)},
        "Incident Hour (DE 3, positions 47-48)",
    )
    cleared = _field(admin, 49, 49).str.strip()
    _code(
        reading,
        admin,
        cleared,
        codes.CLEARED_EXCEPTIONALLY,
        "Cleared Exceptionally (DE 4, position 49)",
    )
    arrested = set(segments["key"][segments["level"] == "6"])
    reading.incidents = pd.DataFrame(
        {
            "incident": admin["key"],
            "ori": admin["ori"],
            "date": parsed.dt.strftime("%Y-%m-%d").fillna(""),
            "hour": hour,
            "report_date": _field(admin, 46, 46).str.strip(),
            "cleared": cleared,
            "arrest": np.where(_in(admin["key"], arrested), "1", ""),
            "table": "",
            "line": admin["line"],
        }
    )[list(INCIDENT_COLUMNS + WHERE)].reset_index(drop=True)


def _offenses(reading: Reading, segments: pd.DataFrame) -> None:
    offense = segments[segments["level"] == "2"]
    code = _field(offense, 38, 40).str.strip()
    _code(
        reading,
        offense,
        code,
        codes.GROUP_A_OFFENSES,
        "UCR Offense Code (DE 6, positions 38-40) of an offense segment",
        blank_ok=False,
    )
    location = _field(offense, 45, 46).str.strip()
    _code(reading, offense, location, codes.LOCATIONS, "Location Type (DE 9, positions 45-46)")
    activity = [_field(offense, 50 + i, 50 + i).str.strip() for i in range(3)]
    gang = np.zeros(len(offense), dtype=bool)
    for value in activity:
        gang |= _in(value, list(codes.GANG_ACTIVITY)).to_numpy()
    ids = offense["key"] + "|" + code
    # An incident's offenses are distinct offense types (section 2.2.2).
    twice = ids.duplicated(keep="first").to_numpy()
    _bad(
        reading,
        offense,
        twice,
        "UCR Offense Code (DE 6, positions 38-40)",
        code,
        "the incident has this offense twice (error 266: offense codes must be distinct)",
    )
    reading.offenses = pd.DataFrame(
        {
            "incident": offense["key"],
            "offense": ids,
            "code": code,
            "location": location,
            "gang": np.where(gang, "1", ""),
            "table": "",
            "line": offense["line"],
        }
    )[list(OFFENSE_COLUMNS + WHERE)][~twice].reset_index(drop=True)
    weapons = []
    valid_weapons = set(codes.WEAPONS) | {f"{c}A" for c in codes.FIREARMS}
    for i in range(3):
        start = 53 + 3 * i
        value = (
            _field(offense, start, start + 1) + _field(offense, start + 2, start + 2)
        ).str.strip()
        _code(
            reading,
            offense,
            value,
            valid_weapons,
            f"Type Weapon/Force Involved #{i + 1} (DE 13, positions {start}-{start + 2})",
        )
        weapons.append(pd.DataFrame({"offense": ids, "code": value})[value != ""])
    reading.weapons = pd.concat(weapons, ignore_index=True)


def _victims(reading: Reading, segments: pd.DataFrame) -> None:
    victim = segments[segments["level"] == "4"]
    seq = _field(victim, 38, 40)
    _bad(
        reading,
        victim,
        ~seq.str.fullmatch(r"\d{3}").to_numpy(dtype=bool),
        "Victim Sequence Number (DE 23, positions 38-40)",
        seq,
        "not a number 001-999",
    )
    ids = victim["key"] + "|V" + seq
    offenses = set(reading.offenses["offense"])
    links = []
    for i in range(10):
        start = 41 + 3 * i
        linked = _field(victim, start, start + 2).str.strip()
        target = victim["key"] + "|" + linked
        missing = (linked != "") & ~_in(target, offenses)
        _bad(
            reading,
            victim,
            missing.to_numpy(),
            f"Victim Connected to UCR Offense Code #{i + 1} (DE 24, positions {start}-{start + 2})",
            linked,
            lambda v: (
                f"the incident has no {v} offense segment for the victim to be linked to "
                "(error 466)"
            ),
        )
        links.append(pd.DataFrame({"victim": ids, "offense": target})[(linked != "") & ~missing])
    none_linked = _field(victim, 41, 70).str.strip() == ""
    _bad(
        reading,
        victim,
        none_linked.to_numpy(),
        "Victim Connected to UCR Offense Code (DE 24, positions 41-70)",
        _field(victim, 41, 70),
        "required value is missing: a victim is linked to at least one offense",
    )
    reading.victim_offenses = pd.concat(links, ignore_index=True)
    kind = _field(victim, 71, 71).str.strip()
    _code(reading, victim, kind, codes.VICTIM_TYPES, "Type of Victim (DE 25, position 71)")
    age, age_group = _ages(reading, victim, _field(victim, 72, 75))
    sex = _field(victim, 76, 76).str.strip()
    _code(reading, victim, sex, ("M", "F", "U"), "Sex of Victim (DE 27, position 76)")
    race = _field(victim, 77, 77).str.strip()
    _code(reading, victim, race, ("W", "B", "I", "A", "P", "U"), "Race of Victim (DE 28)")
    ethnicity = _field(victim, 78, 78).str.strip()
    _code(reading, victim, ethnicity, ("H", "N", "U"), "Ethnicity of Victim (DE 29)")
    resident = _field(victim, 79, 79).str.strip()
    _code(reading, victim, resident, codes.RESIDENT_STATUS, "Resident Status of Victim (DE 30)")
    circumstances = []
    for i, start in enumerate((80, 82)):
        value = _field(victim, start, start + 1).str.strip()
        _code(
            reading,
            victim,
            value,
            codes.CIRCUMSTANCES,
            f"Aggravated Assault/Homicide Circumstances #{i + 1} (DE 31, positions "
            f"{start}-{start + 1})",
        )
        circumstances.append(value)
    injuries = []
    for i in range(5):
        value = _field(victim, 85 + i, 85 + i).str.strip()
        _code(reading, victim, value, codes.INJURIES, f"Type Injury #{i + 1} (DE 33, {85 + i})")
        injuries.append(pd.DataFrame({"victim": ids, "code": value})[value != ""])
    reading.injuries = pd.concat(injuries, ignore_index=True)
    relationship = _field(victim, 92, 93).str.strip()
    _code(
        reading,
        victim,
        relationship,
        codes.RELATIONSHIPS,
        "Relationship of Victim to Offender #1 (DE 35, positions 92-93)",
    )
    joined = (circumstances[0] + "," + circumstances[1]).str.strip(",")
    reading.victims = pd.DataFrame(
        {
            "incident": victim["key"],
            "victim": ids,
            "seq": seq,
            "type": kind,
            "age": age,
            "age_group": age_group,
            "sex": sex,
            "race": race,
            "ethnicity": ethnicity,
            "resident": resident,
            "circumstances": joined,
            "relationship": relationship,
            "table": "",
            "line": victim["line"],
        }
    )[list(VICTIM_COLUMNS + WHERE)].reset_index(drop=True)


def age_value(raw: str) -> tuple[str, str] | None:
    """Data Element 26 (and 37): (age, age group) as text, or None when not an age.

    "25" is 25; "2530" a range, 25 to 30 (a group, no age); NN, NB and BB are under a year
    (age 0); 00 is unknown; 99 is over 98; blank says nothing."""
    text = raw.strip()
    if not text or text == "00":
        return "", ""
    if text in codes.AGE_CODES:
        age = codes.AGE_CODES[text]
        return ("" if age is None else str(age)), codes.AGE_CODE_GROUPS.get(text, "")
    if len(text) == 2 and text.isdigit():
        return str(int(text)), ""
    if len(raw) == 4 and raw.isdigit() and raw[:2] < raw[2:]:
        return "", f"{int(raw[:2])}-{int(raw[2:])}"
    return None


def _ages(reading: Reading, rows: pd.DataFrame, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each row's age and age group (``age_value``), computed once per distinct value."""
    factor, uniques = pd.factorize(raw)
    values = [age_value(str(u)) for u in uniques]
    bad = np.array([v is None for v in values], dtype=bool)
    _bad(
        reading,
        rows,
        bad[factor] if len(factor) else np.zeros(0, dtype=bool),
        "Age of Victim (DE 26, positions 72-75)",
        raw,
        "not an age: two digits, a range of two ages (2530), or NN, NB, BB, 00, 99",
    )
    ages = np.array([(v or ("", ""))[0] for v in values] or [""], dtype=object)
    groups = np.array([(v or ("", ""))[1] for v in values] or [""], dtype=object)
    index = rows.index
    return (
        pd.Series(ages[factor] if len(factor) else [], index=index, dtype="str"),
        pd.Series(groups[factor] if len(factor) else [], index=index, dtype="str"),
    )


def _offenders(reading: Reading, segments: pd.DataFrame) -> None:
    offender = segments[segments["level"] == "5"]
    seq = _field(offender, 38, 39)
    _bad(
        reading,
        offender,
        ~seq.str.fullmatch(r"\d{2}").to_numpy(dtype=bool),
        "Offender Sequence Number (DE 36, positions 38-39)",
        seq,
        "not a number 00-99",
    )
    reading.offenders = pd.DataFrame({"incident": offender["key"], "seq": seq}).reset_index(
        drop=True
    )


def _day_counts(reading: Reading) -> None:
    """Every stated incident of an agency by date, any offense: the submission's own dates."""
    incidents = reading.incidents[reading.incidents["date"] != ""]
    counts = incidents.groupby(["ori", "date"]).size().rename("n").reset_index()
    reading.day_counts = counts
