"""The NIBRS submission in the IEPD 2019 XML: the same segments as the flat file, as elements.

A ``nibrs:Submission`` holds ``nibrs:Report`` elements, each with a header (its category:
GROUP A INCIDENT REPORT, GROUP B ARREST REPORT or ZERO REPORT; its action: I, D, A, or R,
a replacement read as I; its year and month; the agency's ORI) and, for an incident, the
incident (``nc:Incident``), its offenses (``j:Offense``), locations (``nc:Location``),
people (``nc:Person``), victims (``j:Victim``), offenders (``j:Subject``), arrestees, and
the associations that link them by ``s:id``/``s:ref``. Each element is mapped to the flat
file's data element (docs/nibrs.md) and read into the same ``Reading``; an error names the
line of the element it is about.

The document is parsed by expat, which refuses entity expansion bombs; a document with a
DOCTYPE (NIBRS XML has none) is refused before parsing.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

import pandas as pd

from gvrs.data.errors import FileError
from gvrs.data.limits import LimitError, Limits
from gvrs.data.nibrs import codes
from gvrs.data.nibrs.flat import age_value
from gvrs.data.nibrs.records import (
    INCIDENT_COLUMNS,
    OFFENSE_COLUMNS,
    VICTIM_COLUMNS,
    WHERE,
    Reading,
)

NS = {
    "nibrs": "http://fbi.gov/cjis/nibrs/2019",
    "cjis": "http://fbi.gov/cjis/2.0",
    "j": "http://release.niem.gov/niem/domains/jxdm/5.2/",
    "nc": "http://release.niem.gov/niem/niem-core/3.0/",
    "s": "http://release.niem.gov/niem/structures/3.0/",
}
_ID = f"{{{NS['s']}}}id"
_REF = f"{{{NS['s']}}}ref"
_LINE = "{gvrs}line"
# VictimToSubjectRelationshipCode (nibrs-codes.xsd) as the flat file's DE 35 codes.
RELATIONSHIPS = {
    "Acquaintance": "AQ",
    "Babysittee": "BE",
    "Boyfriend_Girlfriend": "BG",
    "Child of Boyfriend_Girlfriend": "CF",
    "Employee": "EE",
    "Employer": "ER",
    "Ex_Relationship": "XR",
    "Ex_Spouse": "XS",
    "Family Member": "OF",
    "Family Member_Child": "CH",
    "Family Member_Grandchild": "GC",
    "Family Member_Grandparent": "GP",
    "Family Member_In-Law": "IL",
    "Family Member_Parent": "PA",
    "Family Member_Sibling": "SB",
    "Family Member_Spouse": "SE",
    "Family Member_Spouse_Common Law": "CS",
    "Family Member_Stepchild": "SC",
    "Family Member_Stepparent": "SP",
    "Family Member_Stepsibling": "SS",
    "Friend": "FR",
    "Neighbor": "NE",
    "NonFamily_Otherwise Known": "OK",
    "Relationship Unknown": "RU",
    "Stranger": "ST",
    "Victim Was Offender": "VO",
}
_ACTIONS = {"I": "I", "R": "I", "D": "D", "A": "A"}


def _parse(path: Path, limits: Limits) -> ET.Element:
    """The document, each element carrying the line it starts on (attribute ``_LINE``)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.open(path, "rb") as fh:
                raw = fh.read(limits.decompressed_bytes + 1)
        except (OSError, EOFError) as exc:
            raise FileError(path.name, f"cannot decompress: {exc}") from None
    if len(raw) > limits.decompressed_bytes:
        raise LimitError(path.name, "decompressed_bytes", limits.decompressed_bytes)
    if b"<!DOCTYPE" in raw[:4096] or b"<!ENTITY" in raw:
        raise FileError(path.name, "an XML document with a DOCTYPE or entities is not read")
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")

    def name(tag: str) -> str:
        return "{" + tag if "}" in tag else tag

    def start(tag, attributes):
        attributes = {name(k): v for k, v in attributes.items()}
        attributes[_LINE] = str(parser.CurrentLineNumber)
        builder.start(name(tag), attributes)

    parser.StartElementHandler = start
    parser.EndElementHandler = lambda tag: builder.end(name(tag))
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise FileError(path.name, f"not well-formed XML: {exc}", line=exc.lineno) from None
    root = builder.close()
    if root.tag != f"{{{NS['nibrs']}}}Submission":
        raise FileError(path.name, f"not a NIBRS IEPD 2019 submission (its root is {root.tag})")
    return root


def _text(element: ET.Element | None, path: str) -> str:
    found = element.find(path, NS) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _texts(element: ET.Element, path: str) -> list[str]:
    return [(e.text or "").strip() for e in element.findall(path, NS)]


def _line(element: ET.Element) -> int:
    return int(element.get(_LINE, "0"))


def read_xml(path: str | Path, limits: Limits | None = None) -> Reading:
    path = Path(path)
    limits = limits or Limits.from_env()
    root = _parse(path, limits)
    reading = Reading(form="nibrs-xml")
    tables: dict[str, list[dict]] = {
        "incidents": [],
        "offenses": [],
        "weapons": [],
        "victims": [],
        "victim_offenses": [],
        "injuries": [],
        "offenders": [],
        "months": [],
    }
    actions: list[tuple[int, str, str]] = []  # (line, key, action) of Group A reports
    made = []
    for report in root.findall("nibrs:Report", NS):
        reading.rows_read += 1
        _report(reading, report, tables, actions, made)
    last: dict[str, tuple[int, str]] = {}
    for line, key, action in sorted(actions):
        last[key] = (line, action)
    reading.deleted = {k: line for k, (line, a) in last.items() if a == "D"}
    reading.replaced = {k for k, (_, a) in last.items() if a == "I"}
    stated_lines = {line for k, (line, a) in last.items() if a == "I"}

    def frame(name: str, columns) -> pd.DataFrame:
        rows = [
            r for r in tables[name] if r.pop("_report", None) in stated_lines or name == "months"
        ]
        return (
            pd.DataFrame(rows, columns=list(columns))
            .fillna("")
            .astype({c: str for c in columns if c != "line"})
        )

    reading.incidents = frame("incidents", INCIDENT_COLUMNS + WHERE)
    reading.offenses = frame("offenses", OFFENSE_COLUMNS + WHERE)
    reading.weapons = frame("weapons", ("offense", "code"))
    reading.victims = frame("victims", VICTIM_COLUMNS + WHERE)
    reading.victim_offenses = frame("victim_offenses", ("victim", "offense"))
    reading.injuries = frame("injuries", ("victim", "code"))
    reading.offenders = frame("offenders", ("incident", "seq"))
    months = frame("months", ("ori", "month", "status"))
    reading.months = months.drop_duplicates(["ori", "month"], keep="last").reset_index(drop=True)
    dated = reading.incidents[reading.incidents["date"] != ""]
    reading.day_counts = dated.groupby(["ori", "date"]).size().rename("n").reset_index()
    reading.submitted = max(made, key=made.count) if made else ""
    return reading


def _report(reading: Reading, report, tables, actions, made) -> None:
    line = _line(report)
    header = report.find("nibrs:ReportHeader", NS)
    category = _text(header, "nibrs:NIBRSReportCategoryCode")
    action = _text(header, "nibrs:ReportActionCategoryCode")
    month = _text(header, "nibrs:ReportDate/nc:YearMonthDate")
    ori = _text(
        header,
        "nibrs:ReportingAgency/j:OrganizationAugmentation/j:OrganizationORIIdentification"
        "/nc:IdentificationID",
    ).upper()
    where = "nibrs:ReportHeader"
    problems = []
    if len(month) == 7 and month[4] == "-":
        made.append(month + "-01")
    else:
        problems.append(("nc:YearMonthDate (Year/Month of Report)", month, "not a month YYYY-MM"))
    if action not in _ACTIONS:
        problems.append(("nibrs:ReportActionCategoryCode", action, "not an action: I, R, D or A"))
    if len(ori) != 9:
        problems.append(
            ("j:OrganizationORIIdentification (DE 1, ORI)", ori, "not a 9-character ORI")
        )
    for column, value, reason in problems:
        reading.error("", line, f"{where} {column}", value, reason)
    if problems or category == "GROUP B ARREST REPORT":
        return
    if category == "ZERO REPORT":
        status = "zero" if _ACTIONS[action] == "A" else "not_reported"
        tables["months"].append({"ori": ori, "month": month + "-01", "status": status})
        return
    if category != "GROUP A INCIDENT REPORT":
        reading.error(
            "",
            line,
            f"{where} nibrs:NIBRSReportCategoryCode",
            category,
            "not a report category of the IEPD",
        )
        return
    incident = report.find("nc:Incident", NS)
    number = _text(incident, "nc:ActivityIdentification/nc:IdentificationID")
    key = f"{ori}:{number}"
    actions.append((line, key, _ACTIONS[action]))
    if _ACTIONS[action] == "D":
        return
    _incident(reading, report, incident, key, ori, line, tables)


def _bad(reading, line, key, column, value, reason) -> None:
    reading.error("", line, column, value, reason)
    reading.bad_incidents.add(key)


def _incident(reading, report, incident, key, ori, report_line, tables) -> None:
    line = _line(incident) if incident is not None else report_line
    stamp = _text(incident, "nc:ActivityDate/nc:DateTime")
    day = _text(incident, "nc:ActivityDate/nc:Date") or stamp[:10]
    date = pd.to_datetime(day, format="%Y-%m-%d", errors="coerce")
    if pd.isna(date):
        _bad(
            reading,
            line,
            key,
            "nc:ActivityDate (DE 3, Incident Date)",
            day,
            "not a date YYYY-MM-DD",
        )
    hour = stamp[11:13] if len(stamp) >= 13 else ""
    flagged = _text(incident, "cjis:IncidentAugmentation/cjis:IncidentReportDateIndicator")
    cleared = _text(incident, "j:IncidentAugmentation/j:IncidentExceptionalClearanceCode")
    if cleared and cleared not in codes.CLEARED_EXCEPTIONALLY:
        _bad(
            reading,
            line,
            key,
            "j:IncidentExceptionalClearanceCode (DE 4)",
            cleared,
            "unknown code; valid: " + ", ".join(codes.CLEARED_EXCEPTIONALLY),
        )
    tables["incidents"].append(
        {
            "incident": key,
            "ori": ori,
            "date": "" if pd.isna(date) else date.strftime("%Y-%m-%d"),
            "hour": hour,
            "report_date": "R" if flagged == "true" else "",
            "cleared": cleared,
            "arrest": "1" if report.find("j:Arrestee", NS) is not None else "",
            "table": "",
            "line": line,
            "_report": report_line,
        }
    )
    locations = {
        loc.get(_ID): _text(loc, "nibrs:LocationCategoryCode")
        for loc in report.findall("nc:Location", NS)
    }
    offense_location = {
        a.find("j:Offense", NS).get(_REF): a.find("nc:Location", NS).get(_REF)
        for a in report.findall("j:OffenseLocationAssociation", NS)
        if a.find("j:Offense", NS) is not None and a.find("nc:Location", NS) is not None
    }
    offenses = {}
    for offense in report.findall("j:Offense", NS):
        oline = _line(offense)
        code = _text(offense, "nibrs:OffenseUCRCode")
        if code not in codes.GROUP_A_OFFENSES:
            _bad(reading, oline, key, "nibrs:OffenseUCRCode (DE 6)", code, "unknown code")
        ref = offense.get(_ID, "")
        offenses[ref] = code
        location = locations.get(offense_location.get(ref), "")
        activity = _texts(offense, "nibrs:CriminalActivityCategoryCode")
        tables["offenses"].append(
            {
                "incident": key,
                "offense": f"{key}|{code}",
                "code": code,
                "location": location,
                "gang": "1" if set(activity) & set(codes.GANG_ACTIVITY) else "",
                "table": "",
                "line": oline,
                "_report": report_line,
            }
        )
        valid = set(codes.WEAPONS) | {f"{c}A" for c in codes.FIREARMS}
        for weapon in _texts(offense, "j:OffenseForce/j:ForceCategoryCode"):
            if weapon not in valid:
                _bad(reading, oline, key, "j:ForceCategoryCode (DE 13)", weapon, "unknown code")
            tables["weapons"].append(
                {"offense": f"{key}|{code}", "code": weapon, "_report": report_line}
            )
    people = {p.get(_ID): p for p in report.findall("nc:Person", NS)}
    victims = {}
    for victim in report.findall("j:Victim", NS):
        vline = _line(victim)
        ref = victim.get(_ID, "")
        seq = _text(victim, "j:VictimSequenceNumberText")
        role = victim.find("nc:RoleOfPerson", NS)
        person = people.get(role.get(_REF)) if role is not None else None
        raw_age = _text(person, "nc:PersonAgeMeasure/nc:MeasureIntegerValue") or _text(
            person, "nc:PersonAgeMeasure/nc:MeasureValueText"
        )
        low = _text(
            person, "nc:PersonAgeMeasure/nc:MeasureIntegerRange/nc:RangeMinimumIntegerValue"
        )
        high = _text(
            person, "nc:PersonAgeMeasure/nc:MeasureIntegerRange/nc:RangeMaximumIntegerValue"
        )
        if low and high:
            raw_age = f"{int(low):02d}{int(high):02d}" if low.isdigit() and high.isdigit() else low
        elif raw_age.isdigit() and len(raw_age) == 1:
            raw_age = "0" + raw_age
        value = age_value(raw_age) if len(raw_age) <= 4 else None
        if value is None:
            _bad(
                reading,
                vline,
                key,
                "nc:PersonAgeMeasure (DE 26, Age of Victim)",
                raw_age,
                "not an age: a number, a range, or NN, NB, BB, 00, 99",
            )
            value = ("", "")
        kind = _text(victim, "j:VictimCategoryCode")
        sex = _text(person, "j:PersonSexCode")
        race = _text(person, "j:PersonRaceNDExCode")
        ethnicity = _text(person, "j:PersonEthnicityCode")
        resident = _text(person, "j:PersonResidentCode")
        for column, found, valid in (
            ("j:VictimCategoryCode (DE 25)", kind, codes.VICTIM_TYPES),
            ("j:PersonSexCode (DE 27)", sex, ("M", "F", "U")),
            ("j:PersonRaceNDExCode (DE 28)", race, ("W", "B", "I", "A", "P", "U")),
            ("j:PersonEthnicityCode (DE 29)", ethnicity, ("H", "N", "U")),
            ("j:PersonResidentCode (DE 30)", resident, codes.RESIDENT_STATUS),
        ):
            if found and found not in valid:
                _bad(reading, vline, key, column, found, "unknown code; valid: " + ", ".join(valid))
        circumstances = _texts(victim, "j:VictimAggravatedAssaultHomicideFactorCode")
        for found in circumstances:
            if found not in codes.CIRCUMSTANCES:
                _bad(
                    reading,
                    vline,
                    key,
                    "j:VictimAggravatedAssaultHomicideFactorCode (DE 31)",
                    found,
                    "unknown code",
                )
        vid = f"{key}|V{seq}"
        victims[ref] = vid
        for injury in _texts(victim, "j:VictimInjury/j:InjuryCategoryCode"):
            if injury not in codes.INJURIES:
                _bad(reading, vline, key, "j:InjuryCategoryCode (DE 33)", injury, "unknown code")
            tables["injuries"].append({"victim": vid, "code": injury, "_report": report_line})
        tables["victims"].append(
            {
                "incident": key,
                "victim": vid,
                "seq": seq,
                "type": kind,
                "age": value[0],
                "age_group": value[1],
                "sex": sex,
                "race": race,
                "ethnicity": ethnicity,
                "resident": resident,
                "circumstances": ",".join(circumstances),
                "relationship": "",
                "table": "",
                "line": vline,
                "_report": report_line,
            }
        )
    for association in report.findall("j:OffenseVictimAssociation", NS):
        offense = association.find("j:Offense", NS)
        victim = association.find("j:Victim", NS)
        oref = offense.get(_REF) if offense is not None else None
        vref = victim.get(_REF) if victim is not None else None
        if oref not in offenses or vref not in victims:
            _bad(
                reading,
                _line(association),
                key,
                "j:OffenseVictimAssociation",
                f"{oref} {vref}",
                "names an offense or victim the report does not have (error 466)",
            )
            continue
        tables["victim_offenses"].append(
            {"victim": victims[vref], "offense": f"{key}|{offenses[oref]}", "_report": report_line}
        )
    subjects = report.findall("j:Subject", NS)
    for subject in subjects:
        seq = _text(subject, "j:SubjectSequenceNumberText")
        tables["offenders"].append({"incident": key, "seq": seq, "_report": report_line})
    first_subject = min(
        subjects, key=lambda s: int(_text(s, "j:SubjectSequenceNumberText") or 99), default=None
    )
    for association in report.findall("j:SubjectVictimAssociation", NS):
        subject = association.find("j:Subject", NS)
        victim = association.find("j:Victim", NS)
        if first_subject is None or subject is None or victim is None:
            continue
        if subject.get(_REF) != first_subject.get(_ID):
            continue
        text = _text(association, "nibrs:VictimToSubjectRelationshipCode")
        code = RELATIONSHIPS.get(text)
        if text and code is None:
            _bad(
                reading,
                _line(association),
                key,
                "nibrs:VictimToSubjectRelationshipCode (DE 35)",
                text,
                "unknown code",
            )
        for row in tables["victims"]:
            if row["victim"] == victims.get(victim.get(_REF)):
                row["relationship"] = code or ""
