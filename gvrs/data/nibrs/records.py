"""One shape for NIBRS incidents, whichever form they came in (CDE tables, flat file, XML).

Each reader fills a ``Reading``: tables of text with the specification's codes (never a
CDE lookup id), each row knowing where it came from (``table``, ``line``) so that an error
names it. ``gvrs.data.nibrs.canonical`` turns a Reading into gvrs's canonical rows.

Shapes (every column text, "" where empty; ``incident`` is the incident's key):

- ``incidents``: incident, ori, date (YYYY-MM-DD), hour ("" or "00".."23"), report_date
  ("R" when the date is the report date), cleared (Cleared Exceptionally code), arrest
  ("1" when an arrestee segment or row exists), table, line
- ``offenses``: incident, offense (an id unique in the reading), code, location, gang
  ("1" when a criminal activity code is G or J), table, line
- ``weapons``: offense, code (with its "A" suffix)
- ``victims``: incident, victim (id), seq, type, age, age_group, sex, race, ethnicity,
  resident, circumstances (codes joined by ","), relationship, table, line
- ``victim_offenses``: victim, offense
- ``injuries``: victim, code
- ``offenders``: incident, seq
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from gvrs.data.errors import RowError

INCIDENT_COLUMNS = ("incident", "ori", "date", "hour", "report_date", "cleared", "arrest")
OFFENSE_COLUMNS = ("incident", "offense", "code", "location", "gang")
VICTIM_COLUMNS = (
    "incident",
    "victim",
    "seq",
    "type",
    "age",
    "age_group",
    "sex",
    "race",
    "ethnicity",
    "resident",
    "circumstances",
    "relationship",
)
WHERE = ("table", "line")


def isin(values: pd.Series, members) -> np.ndarray:
    """Whether each text value is one of ``members``, by pyarrow in C++: pandas loops in
    Python over a column of pyarrow strings (a state-year's victims against its offenses took
    seconds a table)."""
    if not len(values):
        return np.zeros(0, dtype=bool)
    array = pa.array(values.astype(str), type=pa.large_string())
    if isinstance(members, pd.Series | pd.Index):
        members = members.astype(str)
        found = pa.array(members, type=pa.large_string())
    else:
        found = pa.array([str(m) for m in members], type=pa.large_string())
    return pc.is_in(array, value_set=found).to_numpy(zero_copy_only=False).astype(bool)


def empty(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})


@dataclass(frozen=True)
class Agency:
    """What a source says of an agency: its ORI and, where known, its name and kind."""

    ori: str
    state: str
    name: str = ""
    kind: str = ""  # CDE agency_type_name: City, County, University or College, Other...
    county: str = ""


@dataclass
class Reading:
    """A NIBRS file read: its incidents (in the shapes above), what it says of coverage and
    of deletions, and every problem found, each naming its table, line, field and reason.

    ``months`` (ori, month "YYYY-MM-01", status: incidents | zero | not_reported) are the
    months an agency reported, as the source records them. ``day_counts`` (ori, date, n)
    count every Group A incident of an agency by date, of any offense: a submission's own
    dates, from which an agency's covered months are proposed when the source records none.

    ``deleted`` are incidents the file removes (a flat file's delete segments, keyed like
    ``incidents``, with the line of each); ``replaced`` are incidents the file restates in
    full (whatever of them gvrs held is replaced, or removed if no longer kept);
    ``replaces_scope`` is (ori, key prefix) of whole agency-years a file restates (a CDE
    year: an incident gvrs held under that prefix and no longer in the file is removed).
    """

    form: str  # "nibrs-cde" | "nibrs-flat" | "nibrs-xml"
    incidents: pd.DataFrame = field(default_factory=lambda: empty(INCIDENT_COLUMNS + WHERE))
    offenses: pd.DataFrame = field(default_factory=lambda: empty(OFFENSE_COLUMNS + WHERE))
    weapons: pd.DataFrame = field(default_factory=lambda: empty(("offense", "code")))
    victims: pd.DataFrame = field(default_factory=lambda: empty(VICTIM_COLUMNS + WHERE))
    victim_offenses: pd.DataFrame = field(default_factory=lambda: empty(("victim", "offense")))
    injuries: pd.DataFrame = field(default_factory=lambda: empty(("victim", "code")))
    offenders: pd.DataFrame = field(default_factory=lambda: empty(("incident", "seq")))
    agencies: dict[str, Agency] = field(default_factory=dict)
    months: pd.DataFrame = field(default_factory=lambda: empty(("ori", "month", "status")))
    day_counts: pd.DataFrame = field(default_factory=lambda: empty(("ori", "date", "n")))
    deleted: dict[str, int] = field(default_factory=dict)  # incident -> line
    replaced: set[str] = field(default_factory=set)
    replaces_scope: list[tuple[str, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    bad_incidents: set[str] = field(default_factory=set)  # incidents with an error
    warnings: list[str] = field(default_factory=list)
    rows_read: int = 0  # lines or table rows read, for the run's record
    # A submission's Month and Year of Submission (positions 7-12): the month it was made,
    # "YYYY-MM-01".
    submitted: str = ""

    def error(self, table: str, line: int, column: str, value: str, reason: str) -> None:
        self.errors.append(RowError(int(line), column, str(value), reason, table))
