"""NIBRS incidents as gvrs's canonical rows: who was killed or shot, and what is kept of it.

The mapping, with the specification's codes (docs/nibrs.md explains each choice):

- **Which offenses.** 09A (murder and non-negligent manslaughter), 13A (aggravated assault)
  with a firearm weapon code (11-15, with or without the automatic "A"), 09C (justifiable
  homicide) and 09B (negligent manslaughter). Incidents with none of these are read (for
  coverage) and left out.
- **Who.** Victims of type I (individual) or L (law enforcement officer) linked to one of
  these offenses. A victim linked to several counts once, by the first of 09A, 13A with a
  firearm, 09C, 09B: a 09A victim is killed; a 13A victim with a firearm is injured when any
  Type Injury other than N (none) is recorded, and otherwise was assaulted with a firearm but
  not recorded hurt; 09C and 09B victims are killed.
- **Kinds, kept apart.** One NIBRS incident becomes one gvrs incident per part, so that no
  part's count mixes with another's: the main part (key ``ORI:INCIDENT``) holds 09A and 13A
  with a firearm and is a ``homicide`` when it has a 09A offense, else a
  ``nonfatal_shooting`` when a victim was injured, else a ``firearm_assault``; a 09C part
  (``.../09C``) is a ``justifiable_homicide`` and a 09B part (``.../09B``) a
  ``negligent_manslaughter``, never counted as homicides. Where a 09A offense was committed
  without a firearm, its incident's 13A-with-firearm victims form a part of their own
  (``.../13A``), so a knife homicide is never a firearm homicide nor a shooting hidden in one.
- **Incident fields.** The date and hour (Data Element 3; a report date stands in when the
  Report Date Indicator says so, and is then the reported date too), the weapon of the part's
  first offense (09A, else 13A; firearm, knife, other or unknown), its location type (DE 9),
  the offenders recorded (DE 36, sequence 00 meaning unknown offenders, counted 0), group
  involvement (yes when DE 12 says G or J, or DE 31 says 04 or 05; unknown otherwise), the
  circumstance (DE 31) and the case status (cleared by arrest, or cleared exceptionally, DE 4).
- **Person fields.** Age (DE 26; a range is an age group), sex, race and ethnicity as their
  labels, and the fields this mapping adds: ``offense``, ``injury``, ``type``,
  ``resident_status``, ``circumstance`` and ``relationship`` (to the first offender, DE 35).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from gvrs.data.nibrs import codes
from gvrs.data.nibrs.records import Reading, isin
from gvrs.data.schema import CANONICAL_COLUMNS

# The person fields the NIBRS formats add ([victim_fields] of gvrs/data/formats/nibrs-*.toml).
VICTIM_FIELDS = ("offense", "injury", "type", "resident_status", "circumstance", "relationship")
PART_SEPARATOR = "/"
# Kept offenses in the order a victim linked to several is counted by.
_PRECEDENCE = {
    codes.MURDER: 0,
    codes.AGGRAVATED_ASSAULT: 1,
    codes.JUSTIFIABLE_HOMICIDE: 2,
    codes.NEGLIGENT_MANSLAUGHTER: 3,
}
_WEAPON_RANK = {"unknown": 0, "other": 1, "knife": 2, "firearm": 3}
_WEAPON_OF_RANK = {rank: name for name, rank in _WEAPON_RANK.items()}
_CIRCUMSTANCE_ORDER = ("group_conflict", "domestic", "personal_dispute", "robbery", "other")


@dataclass
class Canonical:
    """Canonical rows (every canonical column as text, plus ``victim_<field>`` columns for
    the fields NIBRS adds), with ``incident`` (the NIBRS incident each row came from),
    ``ori``, and where each row came from (``table``, ``line``) for error messages."""

    rows: pd.DataFrame
    kept_incidents: set[str]  # NIBRS incidents with at least one part


def weapon_class(code: str) -> str:
    return codes.gvrs_weapon([code])


def _offense_weapons(reading: Reading) -> pd.DataFrame:
    """Per offense: whether any weapon is a firearm, and gvrs's weapon for it."""
    weapons = reading.weapons
    if weapons.empty:
        return pd.DataFrame(
            {"firearm": pd.Series(dtype=bool), "weapon_rank": pd.Series(dtype="int64")}
        )
    factor, uniques = pd.factorize(weapons["code"])
    ranks = np.array([_WEAPON_RANK[weapon_class(str(u))] for u in uniques], dtype=np.int64)
    frame = pd.DataFrame({"offense": weapons["offense"], "rank": ranks[factor]})
    frame["firearm"] = frame["rank"] == _WEAPON_RANK["firearm"]
    return frame.groupby("offense").agg(firearm=("firearm", "any"), weapon_rank=("rank", "max"))


def to_canonical(reading: Reading) -> Canonical:
    """The canonical rows of ``reading``'s incidents (those without an error)."""
    incidents = reading.incidents[~isin(reading.incidents["incident"], reading.bad_incidents)]
    offenses = reading.offenses[isin(reading.offenses["incident"], incidents["incident"])]
    kept = offenses[offenses["code"].isin(codes.KEPT_OFFENSES)].copy()
    weapons = _offense_weapons(reading)
    kept["firearm"] = kept["offense"].map(weapons["firearm"]).fillna(False).astype(bool)
    kept["weapon_rank"] = kept["offense"].map(weapons["weapon_rank"]).fillna(0).astype(int)
    kept = kept[(kept["code"] != codes.AGGRAVATED_ASSAULT) | kept["firearm"]]
    murder = kept[kept["code"] == codes.MURDER].drop_duplicates("incident").set_index("incident")
    # The incidents whose 09A was committed without a firearm: their 13A part stands apart.
    separate = set(murder.index[~murder["firearm"]])
    kept["part"] = _part(kept["code"], kept["incident"].isin(separate))
    robbery = set(offenses["incident"][offenses["code"] == codes.ROBBERY])

    victims = reading.victims[reading.victims["type"].isin(codes.PEOPLE)]
    links = reading.victim_offenses.merge(
        kept[["offense", "code", "part", "incident"]], on="offense"
    )
    links = links[isin(links["victim"], victims["victim"])]
    links["rank"] = links["code"].map(_PRECEDENCE)
    chosen = links.sort_values(["victim", "rank"]).drop_duplicates("victim")
    people = victims.merge(
        chosen[["victim", "code", "part"]], on="victim", how="inner", suffixes=("", "_")
    )
    injuries = reading.injuries[isin(reading.injuries["victim"], people["victim"])]
    hurt = set(injuries["victim"][injuries["code"] != codes.NO_INJURY])
    people["killed"] = people["code"].isin(
        [codes.MURDER, codes.JUSTIFIABLE_HOMICIDE, codes.NEGLIGENT_MANSLAUGHTER]
    )
    people["injured"] = (people["code"] == codes.AGGRAVATED_ASSAULT) & people["victim"].isin(hurt)
    people["key"] = people["incident"] + people["part"]

    parts = _parts(kept, people, robbery)
    parts = parts.merge(incidents.drop(columns=["table", "line"]), on="incident", how="inner")
    offenders = reading.offenders[isin(reading.offenders["incident"], parts["incident"])]
    known = pd.to_numeric(offenders["seq"], errors="coerce").fillna(0) > 0
    counted = offenders[known].groupby("incident").size()
    parts["offenders"] = parts["incident"].map(counted).fillna(0).astype(int).astype(str)
    parts["where_table"] = parts["incident"].map(incidents.set_index("incident")["table"])
    parts["where_line"] = parts["incident"].map(incidents.set_index("incident")["line"])

    person_rows = _person_rows(people, injuries)
    rows = parts.merge(person_rows, on="key", how="left")
    has_person = rows["victim"].notna()
    rows["table"] = rows["p_table"].where(has_person, rows["where_table"])
    rows["line"] = rows["p_line"].where(has_person, rows["where_line"])
    out = _canonical_frame(rows)
    return Canonical(out, set(parts["incident"]))


def _part(code: pd.Series, separate: pd.Series) -> pd.Series:
    suffix = pd.Series("", index=code.index, dtype=object)
    suffix[code == codes.JUSTIFIABLE_HOMICIDE] = PART_SEPARATOR + codes.JUSTIFIABLE_HOMICIDE
    suffix[code == codes.NEGLIGENT_MANSLAUGHTER] = PART_SEPARATOR + codes.NEGLIGENT_MANSLAUGHTER
    suffix[(code == codes.AGGRAVATED_ASSAULT) & separate] = PART_SEPARATOR + "13A"
    return suffix


def _parts(kept: pd.DataFrame, people: pd.DataFrame, robbery: set[str]) -> pd.DataFrame:
    """One row per gvrs incident (NIBRS incident and part): kind, weapon, location, group
    involvement and circumstance."""
    kept = kept.copy()
    kept["key"] = kept["incident"] + kept["part"]
    kept["rank"] = kept["code"].map(_PRECEDENCE)
    first = kept.sort_values(["key", "rank"]).drop_duplicates("key").set_index("key")
    parts = pd.DataFrame(index=first.index)
    parts["incident"] = first["incident"]
    parts["code"] = first["code"]
    parts["weapon"] = first["weapon_rank"].map(_WEAPON_OF_RANK)
    parts["location_type"] = first["location"].map(codes.LOCATIONS).fillna("")
    gang = kept.groupby("key")["gang"].agg(lambda v: (v == "1").any())
    injured = people.groupby("key")["injured"].any()
    part_people = people.set_index("key")
    kind = np.select(
        [
            parts["code"] == codes.MURDER,
            parts["code"] == codes.JUSTIFIABLE_HOMICIDE,
            parts["code"] == codes.NEGLIGENT_MANSLAUGHTER,
            parts.index.map(injured).fillna(False).astype(bool),
        ],
        ["homicide", "justifiable_homicide", "negligent_manslaughter", "nonfatal_shooting"],
        "firearm_assault",
    )
    parts["kind"] = kind
    circumstances = (
        part_people["circumstances"].str.split(",").explode().dropna()
        if not part_people.empty
        else pd.Series(dtype=object)
    )
    circumstances = circumstances[circumstances != ""]
    gang_circumstance = set(circumstances.index[circumstances.isin(codes.GANG_CIRCUMSTANCES)])
    parts["group_involvement"] = np.where(
        gang.reindex(parts.index).fillna(False).astype(bool)
        | parts.index.isin(list(gang_circumstance)),
        "yes",
        "unknown",
    )
    mapped = circumstances.map(codes.CIRCUMSTANCE_TO_GVRS).fillna("other")
    found = mapped.groupby(level=0).agg(set)
    felony = set(circumstances.index[circumstances == "08"])

    def choose(key: str) -> str:
        seen = found.get(key, set())
        for name in _CIRCUMSTANCE_ORDER:
            if name == "robbery":
                if parts.at[key, "incident"] in robbery and (not seen or key in felony):
                    return "robbery"
                continue
            if name in seen:
                return name
        return "unknown"

    parts["circumstance"] = [choose(key) for key in parts.index]
    return parts.reset_index().rename(columns={"index": "key"})


def _labels(values: pd.Series, table: dict[str, str]) -> pd.Series:
    return values.map(table).fillna("").astype(str)


def _person_rows(people: pd.DataFrame, injuries: pd.DataFrame) -> pd.DataFrame:
    order = {code: i for i, code in enumerate(codes.INJURIES)}
    injuries = injuries.assign(order=injuries["code"].map(order)).sort_values(["victim", "order"])
    injury = (
        injuries.drop_duplicates(["victim", "code"])
        .groupby("victim")["code"]
        .agg(lambda c: "; ".join(codes.INJURIES.get(x, x) for x in c))
    )
    circumstance = people["circumstances"].map(
        lambda text: "; ".join(codes.CIRCUMSTANCES.get(c, c) for c in text.split(",") if c)
    )
    return pd.DataFrame(
        {
            "key": people["key"],
            "victim": people["victim"],
            "killed": people["killed"].map({True: "1", False: "0"}),
            "injured": people["injured"].map({True: "1", False: "0"}),
            "victim_age": people["age"],
            "victim_age_group": people["age_group"],
            "victim_sex": _labels(people["sex"], codes.SEX),
            "victim_race": _labels(people["race"], codes.RACES),
            "victim_ethnicity": _labels(people["ethnicity"], codes.ETHNICITIES),
            "victim_offense": people["code"],
            "victim_injury": people["victim"].map(injury).fillna("").astype(str),
            "victim_type": _labels(people["type"], codes.VICTIM_TYPES),
            "victim_resident_status": _labels(people["resident"], codes.RESIDENT_STATUS),
            "victim_circumstance": circumstance.astype(str),
            "victim_relationship": _labels(people["relationship"], codes.RELATIONSHIPS),
            "p_table": people["table"],
            "p_line": people["line"],
            "seq": people["seq"],
        }
    )


def _canonical_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The canonical columns, as text, in incident and victim order."""
    rows = rows.sort_values(["key", "seq"], na_position="first").reset_index(drop=True)
    time = rows["hour"].where(rows["hour"] == "", "T" + rows["hour"] + ":00")
    cleared = rows["cleared"].map(codes.CLEARED_EXCEPTIONALLY)
    status = np.where(
        rows["arrest"] == "1",
        "cleared by arrest",
        np.where(
            cleared.notna() & (rows["cleared"] != "N"),
            "cleared exceptionally: " + cleared.fillna("").str.lower(),
            "",
        ),
    )
    out = pd.DataFrame(index=rows.index)
    for name in CANONICAL_COLUMNS:
        out[name] = ""
    out["source_id"] = rows["key"]
    out["kind"] = rows["kind"]
    out["occurred_at"] = rows["date"] + time
    out["reported_at"] = rows["date"].where(rows["report_date"] == "R", "")
    out["jurisdiction"] = rows["ori"]
    out["weapon"] = rows["weapon"]
    out["group_involvement"] = rows["group_involvement"]
    out["circumstance"] = rows["circumstance"]
    out["case_status"] = status
    out["location_type"] = rows["location_type"]
    out["offenders"] = rows["offenders"]
    person = rows["victim"].notna()
    out["killed"] = rows["killed"].where(person, "0")
    out["injured"] = rows["injured"].where(person, "0")
    for name in ("victim_age", "victim_age_group", "victim_sex", "victim_race", "victim_ethnicity"):
        out[name] = rows[name].where(person, "")
    for key in VICTIM_FIELDS:
        out[f"victim_{key}"] = rows[f"victim_{key}"].where(person, "")
    out = out.fillna("").astype(str)
    out["incident"] = rows["incident"].astype(str)
    out["ori"] = rows["ori"].astype(str)
    out["table"] = rows["table"].fillna("").astype(str)
    out["line"] = pd.to_numeric(rows["line"], errors="coerce").fillna(0).astype(np.int64)
    return out
