"""The canonical incident, defined once.

A canonical row describes one victim of one incident (or the incident alone when nobody was
hit); rows sharing a ``source_id`` belong to the same incident and must agree on its
incident-level fields. Every reader, mapping and validator works in terms of these names.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    HOMICIDE = "homicide"
    NONFATAL_SHOOTING = "nonfatal_shooting"
    SHOTS_FIRED = "shots_fired"
    OFFICER_INVOLVED_SHOOTING = "officer_involved_shooting"
    # Kept apart from homicides and shootings, never counted as either (NIBRS 09C, 09B and
    # 13A with a firearm but nobody recorded hurt: docs/nibrs.md).
    JUSTIFIABLE_HOMICIDE = "justifiable_homicide"
    NEGLIGENT_MANSLAUGHTER = "negligent_manslaughter"
    FIREARM_ASSAULT = "firearm_assault"


class Weapon(StrEnum):
    FIREARM = "firearm"
    KNIFE = "knife"
    OTHER = "other"
    UNKNOWN = "unknown"


class GroupInvolvement(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Circumstance(StrEnum):
    GROUP_CONFLICT = "group_conflict"
    PERSONAL_DISPUTE = "personal_dispute"
    DOMESTIC = "domestic"
    ROBBERY = "robbery"
    OTHER = "other"
    UNKNOWN = "unknown"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Field:
    """One canonical column.

    ``level`` says whether the value belongs to the incident (and must agree across the
    incident's rows) or to the row's victim.
    """

    name: str
    type: str  # "text" | "choice" | "datetime" | "float" | "count" | "age" | "number"
    level: str  # "incident" | "victim"
    required: bool = False
    choices: tuple[str, ...] = ()
    default: str | None = None
    doc: str = ""
    # The longest text the registry stores (for a jurisdiction, each name in its path).
    max_length: int | None = None


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


FIELDS: tuple[Field, ...] = (
    Field(
        "source_id",
        "text",
        "incident",
        required=True,
        doc="The record's number in its source system; rows of one incident repeat it.",
        max_length=100,
    ),
    Field(
        "kind",
        "choice",
        "incident",
        required=True,
        choices=_values(Kind),
        doc="What happened: " + ", ".join(_values(Kind)) + ".",
    ),
    Field(
        "occurred_at",
        "datetime",
        "incident",
        required=True,
        doc="Local date and optional time, ISO 8601: 2022-07-04 or 2022-07-04T23:15.",
    ),
    Field(
        "reported_at",
        "datetime",
        "incident",
        doc="When the police were told (optional), ISO 8601 local time.",
    ),
    Field(
        "jurisdiction",
        "text",
        "incident",
        required=True,
        doc="The city or county; 'Kern County > Bakersfield' also names its parent.",
        max_length=200,
    ),
    Field("area", "text", "incident", doc="Neighborhood or beat (optional).", max_length=200),
    Field("latitude", "float", "incident", doc="WGS84 degrees, -90 to 90 (optional)."),
    Field("longitude", "float", "incident", doc="WGS84 degrees, -180 to 180 (optional)."),
    Field(
        "block_address",
        "text",
        "incident",
        doc="Block-level address; restricted: shown only to roles allowed.",
        max_length=300,
    ),
    Field(
        "weapon",
        "choice",
        "incident",
        choices=_values(Weapon),
        default="unknown",
        doc="firearm, knife, other or unknown (the default).",
    ),
    Field(
        "group_involvement",
        "choice",
        "incident",
        choices=_values(GroupInvolvement),
        default="unknown",
        doc="yes, no or unknown (the default).",
    ),
    Field(
        "circumstance",
        "choice",
        "incident",
        choices=_values(Circumstance),
        default="unknown",
        doc=", ".join(_values(Circumstance)) + " (default unknown).",
    ),
    Field(
        "location_type",
        "text",
        "incident",
        doc="The kind of place it happened (NIBRS location type: 'Residence/Home').",
        max_length=100,
    ),
    Field(
        "offenders",
        "number",
        "incident",
        doc="Offenders recorded (optional); 0: offenders unknown.",
    ),
    Field(
        "case_status",
        "text",
        "incident",
        doc="Free text from the source (optional).",
        max_length=100,
    ),
    Field(
        "killed",
        "count",
        "victim",
        required=True,
        doc="People killed that this row describes: 1 or 0 for a one-victim row.",
    ),
    Field(
        "injured",
        "count",
        "victim",
        required=True,
        doc="People injured that this row describes: 1 or 0 for a one-victim row.",
    ),
    Field("victim_age", "age", "victim", doc="Age in years (optional)."),
    Field(
        "victim_age_group",
        "text",
        "victim",
        doc="Age band as published, e.g. 18-24, when the exact age is withheld.",
        max_length=30,
    ),
    Field(
        "victim_sex",
        "choice",
        "victim",
        choices=_values(Sex),
        doc="male, female, other or unknown.",
    ),
    Field("victim_race", "text", "victim", doc="Race/ethnicity as recorded.", max_length=60),
    Field(
        "victim_ethnicity",
        "text",
        "victim",
        doc="Ethnicity as recorded, where the source keeps it apart from race.",
        max_length=60,
    ),
)

FIELDS_BY_NAME = {field.name: field for field in FIELDS}
# The longest source name (a format's or --source's), stored with each incident.
SOURCE_MAX_LENGTH = 100
INCIDENT_FIELDS = tuple(f.name for f in FIELDS if f.level == "incident")
VICTIM_FIELDS = tuple(f.name for f in FIELDS if f.level == "victim")
REQUIRED_COLUMNS = tuple(f.name for f in FIELDS if f.required)
CANONICAL_COLUMNS = tuple(f.name for f in FIELDS)

# Person fields a mapping adds ([victim_fields]): each is read into a column ``victim_<key>``
# and stored with the victim under ``key``; the longest value kept.
VICTIM_FIELD_PREFIX = "victim_"
VICTIM_FIELD_MAX_LENGTH = 100

# The columns of the canonical CSV as documented in the README, in order.
CSV_COLUMNS = (
    "source_id",
    "kind",
    "occurred_at",
    "jurisdiction",
    "area",
    "latitude",
    "longitude",
    "weapon",
    "killed",
    "injured",
    "group_involvement",
    "circumstance",
    "victim_age",
    "victim_sex",
    "victim_race",
)
