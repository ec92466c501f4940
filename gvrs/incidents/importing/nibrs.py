"""What a NIBRS import does beyond rows: agencies as places, deletions, coverage per agency.

Run inside the import's transaction (``gvrs.incidents.importing.run``), around the usual
write of canonical rows:

1. **Agencies become places** by their ORI: a place already holding that ORI is used,
   wherever it is; otherwise the place is found or created by its path in the ORI's state
   (its county and name from a CDE ``agencies.csv``; a submission names agencies by ORI
   alone), a city police department as a city and any other agency as an agency.
2. **Deletions**: a delete segment removes every part of the incident it names and nothing
   else; an incident a submission restates loses the parts it no longer has (a 13A
   reclassified as a simple assault leaves gvrs); a CDE year restates each of its agencies'
   year whole, so an incident a corrected file no longer holds is removed.
3. **Coverage per agency** (``ReportedMonth``): a CDE year's ``NIBRS_month.csv`` as it is; a
   submission's zero reports, and the months its incidents (of any offense) fall in, with
   the months between them that hold neither recorded as not reported, a coverage gap.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gvrs.data.errors import RowError
from gvrs.data.nibrs import NibrsTable
from gvrs.data.nibrs.canonical import PART_SEPARATOR
from gvrs.data.states import state_code
from gvrs.incidents.importing.places import PlaceError, PlaceResolver
from gvrs.incidents.models import Incident, Jurisdiction, ReportedMonth

PARTS = ("", f"{PART_SEPARATOR}13A", f"{PART_SEPARATOR}09B", f"{PART_SEPARATOR}09C")
_BATCH = 900
_RANK = {
    ReportedMonth.Status.NOT_REPORTED: 0,
    ReportedMonth.Status.ZERO: 1,
    ReportedMonth.Status.INCIDENTS: 2,
}


@dataclass
class NibrsOutcome:
    deleted: int = 0
    agencies: dict[str, int] = field(default_factory=dict)  # ORI -> place id
    gaps: dict[str, list[str]] = field(default_factory=dict)  # ORI -> months not reported
    partial: list[str] = field(default_factory=list)  # "ORI: from 2019-08" of late starters


def translate_errors(table: NibrsTable, errors: list[RowError]) -> list[RowError]:
    """Errors found on canonical rows, named by the table and line they came from."""
    out = []
    for error in errors:
        if error.table:
            out.append(error)
            continue
        where, line = table.where(error.line)
        out.append(RowError(line, error.column, error.value, error.reason, where))
    return out


def agency_places(table: NibrsTable, places: PlaceResolver) -> dict[str, int]:
    """ORI -> place id for every agency the file's kept incidents (and coverage) name,
    creating the places that are missing; the canonical rows' jurisdiction becomes each
    place's path. Raises PlaceError (nothing created) for an ORI that names no state."""
    reading = table.reading
    oris = set(table.canonical.rows["ori"]) | set(reading.months["ori"])
    oris |= set(reading.day_counts["ori"])
    oris = sorted(o for o in oris if o)
    by_ori = {}
    for ori, pk in Jurisdiction.objects.filter(ori__in=oris).values_list("ori", "pk"):
        by_ori.setdefault(ori, []).append(pk)
    paths: dict[str, str] = {}
    levels: dict[str, str] = {}
    codes: dict[str, tuple[str, str]] = {}
    problems = []
    for ori in oris:
        found = by_ori.get(ori, [])
        if len(found) == 1:
            place = Jurisdiction.objects.select_related("parent__parent__parent").get(pk=found[0])
            paths[ori] = f"{place.state} > " + " > ".join(place.path.split(" > ")[1:])
            continue
        agency = reading.agencies.get(ori)
        state = state_code(agency.state if agency else ori[:2])
        if state is None:
            problems.append(
                f"ORI {ori!r}: its first two letters name no US state (an ORI begins with the "
                "NCIC code of its state)"
            )
            continue
        names = [state]
        if agency and agency.county:
            county = agency.county.title()
            names.append(county if county.endswith(" County") else f"{county} County")
        names.append((agency.name if agency and agency.name else "") or ori)
        path = " > ".join(names)
        paths[ori] = path
        levels[path] = (
            Jurisdiction.Level.CITY
            if agency and agency.kind.casefold() == "city"
            else Jurisdiction.Level.AGENCY
        )
        codes[path] = (ori, "")
    if problems:
        raise PlaceError(
            table.name,
            f"{len(problems)} agencies not resolved; nothing was imported:\n  "
            + "\n  ".join(problems[:20]),
        )
    wanted = sorted(set(paths.values()))
    ids = places.jurisdiction_ids(wanted, None, codes, levels)
    rows = table.canonical.rows
    rows["jurisdiction"] = rows["ori"].map(paths).fillna("")
    return {ori: ids[path] for ori, path in paths.items()}


def apply_deletions(table: NibrsTable, source: str) -> int:
    """Remove what the file deletes or no longer holds; returns the incidents removed."""
    reading = table.reading
    bad = reading.bad_incidents
    written = set(table.canonical.rows["source_id"])
    doomed: list[int] = []
    # Delete segments, and restated incidents' parts that are gone.
    keys = [k for k in reading.deleted if k not in bad]
    keys += [k for k in reading.replaced if k not in bad and k not in reading.deleted]
    candidates = [k + part for k in keys for part in PARTS]
    stored = []
    for start in range(0, len(candidates), _BATCH):
        batch = candidates[start : start + _BATCH]
        stored += list(
            Incident.objects.filter(source=source, source_id__in=batch).values_list(
                "pk", "source_id"
            )
        )
    deleted_keys = {k for k in reading.deleted if k not in bad}
    for pk, source_id in stored:
        key = source_id.split(PART_SEPARATOR, 1)[0]
        if key in deleted_keys or source_id not in written:
            doomed.append(pk)
    # A CDE year restates its agencies' year whole.
    bad_prefixes = {k for k in bad}
    for _ori, prefix in reading.replaces_scope:
        for pk, source_id in Incident.objects.filter(
            source=source, source_id__startswith=prefix
        ).values_list("pk", "source_id"):
            key = source_id.split(PART_SEPARATOR, 1)[0]
            if source_id not in written and key not in bad_prefixes:
                doomed.append(pk)
    doomed = sorted(set(doomed))
    for start in range(0, len(doomed), _BATCH):
        Incident.objects.filter(pk__in=doomed[start : start + _BATCH]).delete()
    return len(doomed)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    out, month = [], _month_start(first)
    while month <= last:
        out.append(month)
        month = _month_end(month) + dt.timedelta(days=1)
    return out


def agency_months(
    table: NibrsTable,
    covers_from: dt.date | None,
    covers_through: dt.date | None,
) -> tuple[pd.DataFrame, dict[str, dt.date]]:
    """Each agency's months as the file records them: (ori, month, status), and the last day
    each agency's data run to.

    A CDE year records them itself (NIBRS_month.csv). A submission records its zero reports,
    and reports an agency's current months: the consecutive months ending in the month the
    submission was made (or the month before) that each hold an incident of the agency (of
    any offense) or a zero report. Incidents dated before them correct months reported
    earlier and claim no coverage. ``covers_from`` and ``covers_through`` state the period
    instead: every agency in the file reported it."""
    reading = table.reading
    stated = reading.months.copy()
    through: dict[str, dt.date] = {}
    if table.form == "nibrs-cde":
        for ori, month in stated[stated["status"] != "not_reported"][["ori", "month"]].itertuples(
            index=False
        ):
            end = _month_end(dt.date.fromisoformat(month))
            through[ori] = max(through.get(ori, end), end)
        return stated, through
    rows = []
    days = reading.day_counts
    made = dt.date.fromisoformat(reading.submitted) if reading.submitted else None
    for ori in sorted(set(days["ori"]) | set(stated["ori"])):
        dates = [dt.date.fromisoformat(d) for d in days["date"][days["ori"] == ori]]
        zero = stated[stated["ori"] == ori]
        zero_months = {
            dt.date.fromisoformat(m)
            for m, s in zip(zero["month"], zero["status"], strict=True)
            if s == "zero"
        }
        if covers_from or covers_through:
            first = covers_from or min(dates, default=None)
            last = covers_through or max(dates, default=None)
            if first is not None and last is not None and first <= last:
                for month in _months_between(first, last):
                    rows.append((ori, month.isoformat(), "incidents"))
                through[ori] = last
        elif made is not None:
            with_incidents = {d.replace(day=1) for d in dates}
            active = with_incidents | zero_months
            month = made if made in active else _previous_month(made)
            current = []
            while month in active:
                current.append(month)
                month = _previous_month(month)
            for month in current:
                status = "incidents" if month in with_incidents else "zero"
                rows.append((ori, month.isoformat(), status))
            if current:
                latest = max((d for d in dates if d.replace(day=1) == current[0]), default=None)
                through[ori] = latest if current[0] not in zero_months else _month_end(current[0])
        for month, status in zip(zero["month"], zero["status"], strict=True):
            rows.append((ori, month, status))
            if status == "zero":
                end = _month_end(dt.date.fromisoformat(month))
                through[ori] = max(through.get(ori, end), end)
    frame = pd.DataFrame(rows, columns=["ori", "month", "status"])
    dated = set(zip(days["ori"], days["date"].str.slice(0, 8) + "01", strict=True))
    # A month with incidents outranks its zero report, which outranks "not reported".
    with_incidents = np.array(
        [(ori, month) in dated for ori, month in zip(frame["ori"], frame["month"], strict=True)],
        dtype=bool,
    )
    frame.loc[(frame["status"] == "zero") & with_incidents, "status"] = "incidents"
    frame["rank"] = frame["status"].map({"not_reported": 0, "zero": 1, "incidents": 2})
    frame = frame.sort_values("rank").drop_duplicates(["ori", "month"], keep="last")
    return frame[["ori", "month", "status"]].reset_index(drop=True), through


def _previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def record_months(
    table: NibrsTable,
    source: str,
    run_id: int,
    agencies: dict[str, int],
    months: pd.DataFrame,
) -> None:
    """Store each agency's months. A CDE year restates its months as they are; a submission
    never withdraws a month an earlier one reported (only a zero report's own delete does),
    and a month with incidents outranks a zero report."""
    if months.empty:
        return
    months = months[months["ori"].isin(list(agencies))]
    places = months["ori"].map(agencies)
    days = [dt.date.fromisoformat(m) for m in months["month"]]
    existing = {
        (j, m): (pk, status)
        for pk, j, m, status in ReportedMonth.objects.filter(
            source=source, jurisdiction_id__in=set(places), month__in=set(days)
        ).values_list("pk", "jurisdiction_id", "month", "status")
    }
    restate = table.form == "nibrs-cde"
    new, changed = [], []
    for place, month, status in zip(places, days, months["status"], strict=True):
        held = existing.get((place, month))
        if held is None:
            new.append(
                ReportedMonth(
                    source=source,
                    jurisdiction_id=place,
                    month=month,
                    status=status,
                    import_run_id=run_id,
                )
            )
            continue
        pk, old = held
        withdrawn = status == "not_reported" and old == ReportedMonth.Status.ZERO
        if (restate or _RANK[status] > _RANK[old] or withdrawn) and status != old:
            changed.append(ReportedMonth(pk=pk, status=status, import_run_id=run_id))
    ReportedMonth.objects.bulk_create(new, batch_size=500)
    ReportedMonth.objects.bulk_update(changed, ["status", "import_run"], batch_size=500)


def describe_gaps(
    months: pd.DataFrame, late_starts: bool
) -> tuple[dict[str, list[str]], list[str]]:
    """Per agency, its months not reported inside its span; and (``late_starts``, for a
    file of whole years) the agencies whose first reported month is not January: a partial
    first year."""
    gaps: dict[str, list[str]] = {}
    partial = []
    for ori, mine in months.groupby("ori"):
        covered = sorted(mine["month"][mine["status"] != "not_reported"])
        if not covered:
            continue
        inside = mine[(mine["month"] > covered[0]) & (mine["month"] < covered[-1])]
        missing = sorted(inside["month"][inside["status"] == "not_reported"])
        if missing:
            gaps[ori] = [m[:7] for m in missing]
        if late_starts and not covered[0].endswith("-01-01"):
            partial.append(f"{ori} from {covered[0][:7]}")
    return gaps, partial
