"""The first import of a source: incidents folded in memory and written straight to the registry.

When the registry holds no incident of a source yet, nothing needs matching: every incident in
the file is new. If, moreover, each incident's rows lie together (in one chunk of the file,
or across the seam of two), a chunk can be folded into incidents in memory and written in bulk
straight into the registry's tables, without the staging table and its joins. That is how
records systems export, and the first load of a city's history is the largest import it runs.

Whether rows lie together is known only by reading. A source_id seen again after its incident
was written raises ``ScatteredRowsError``; the caller then rolls back and imports through the
staging table, which accepts rows in any order. To notice it, the writer keeps a 64-bit hash of
each incident written (8 bytes an incident; the file itself is never held in memory). A hash
collision can only cause a needless fallback, never a missed duplicate.

Both ways give the same registry: the same incidents, victims, fingerprints, errors and
rejected lines (``tests/test_import_paths.py`` imports files both ways and compares).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pandas as pd
from django.db import connection
from django.utils import timezone

from gvrs.data.errors import RowError
from gvrs.incidents.importing import bulk
from gvrs.incidents.importing.merge import (
    CONFLICT_FIELDS,
    ROW_FIELDS,
    TEXT_FIELDS,
    MergeCounts,
    conflict_errors,
    incident_rows_error,
    release_ids,
    reserve_ids,
)
from gvrs.incidents.importing.staging import is_postgresql, write_rows

# Ids reserved beyond the estimate, so a rough estimate rarely needs a second reservation.
CHUNK_MARGIN = 10_000
# Incidents with a row among a chunk's last this many rows wait for the next chunk: rows of
# one incident lie near each other in a grouped export, not always side by side (in the
# Philadelphia file 99% of an incident's rows are within 8 rows of each other, all within 797).
SEAM_ROWS = 1_000


class ScatteredRowsError(Exception):
    """An incident's rows are far apart in the file: it must be imported through staging."""


def source_is_new(cursor, source: str) -> bool:
    cursor.execute("SELECT 1 FROM incidents_incident WHERE source = %s LIMIT 1", [source])
    return cursor.fetchone() is None


def _hashes(ids: pd.Series) -> np.ndarray:
    return pd.util.hash_pandas_object(ids.astype(str), index=False).to_numpy()


def _groups(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For incident codes in ascending order: the same renumbered 0..n-1, and where each
    incident's rows start."""
    if not len(codes):
        return codes, codes
    opens = np.r_[True, codes[1:] != codes[:-1]]
    return np.cumsum(opens) - 1, np.flatnonzero(opens)


def _contains_any(sorted_hashes: np.ndarray, hashes: np.ndarray) -> bool:
    """Whether any of ``hashes`` is in ``sorted_hashes`` (binary search: no hash table of a
    million keys per chunk)."""
    if not len(sorted_hashes):
        return False
    at = np.minimum(np.searchsorted(sorted_hashes, hashes), len(sorted_hashes) - 1)
    return bool((sorted_hashes[at] == hashes).any())


class DirectWriter:
    """Takes validated chunks in file order and writes complete incidents as they close.

    The rows of incidents seen near the end of a chunk are held back, since their next rows
    may open the following chunk. ``bad_ids`` is the import's shared set of incidents with
    an invalid row; those are set aside whole, as the staged path does.
    """

    def __init__(
        self,
        cursor,
        *,
        source: str,
        run_id: int,
        conflicts: str,
        kind_derived: bool,
        accept_valid: bool,
        label: Callable[[str], str],
        errors: list[RowError],
        bad_ids: set[str],
        file_name: str,
        incident_rows: int,
    ) -> None:
        self.cursor = cursor
        self.file_name = file_name
        self.incident_rows = incident_rows
        self.source = source
        self.run_id = run_id
        self.conflicts = conflicts
        self.kind_derived = kind_derived
        self.accept_valid = accept_valid
        self.label = label
        self.errors = errors
        self.bad_ids = bad_ids
        self.counts = MergeCounts()
        self.set_aside: list[tuple[int, str]] = []  # (line, source_id) of incidents left out
        self.conflicts_resolved = 0
        self._pending: pd.DataFrame | None = None
        self._pending_ids: set[str] = set()
        self._seen = np.zeros(0, dtype=np.uint64)
        self._upkeep: bulk.SetAside | None = None
        self.started = False
        self._stamp = timezone.now()
        self._last_id: int | None = None  # the last id given out
        self._reserved_to = 0  # the last id reserved
        self._estimate = 0  # incidents the file holds, roughly
        # Columns with one value for every row the import writes.
        self._constants: dict[str, dict[str, object]] = {
            "incidents_incident": {
                "source": source,
                "import_run_id": run_id,
                "updated_at": _stamp(self._stamp),
            },
            "incidents_personinvolved": {"role": "victim"},
        }
        self._defaults_set = False  # whether they are the tables' defaults for now
        self._copier = ThreadPoolExecutor(max_workers=1) if is_postgresql() else None
        self._copying: Future | None = None

    @property
    def bulk_load(self) -> bool:
        return self._upkeep is not None

    def start(self, estimated_incidents: int) -> None:
        """Before the first write: a large first load sets the tables' upkeep aside."""
        self.started = True
        self._estimate = estimated_incidents
        if bulk.is_bulk(self.cursor, estimated_incidents):
            self._upkeep = bulk.set_aside(self.cursor)
            if is_postgresql():
                # The tables are this import's alone until it commits: columns that are the
                # same on every row come from a column default, not from each CSV line.
                bulk.set_defaults(self.cursor, self._constants)
                self._defaults_set = True

    def add(self, source_ids: pd.Series, rows: pd.DataFrame) -> None:
        """A chunk: the stripped source_id of every row read (valid or not), and the valid
        rows, typed, with place ids."""
        named = source_ids[source_ids != ""]
        here = pd.Series(named[~named.isin(self._pending_ids)].unique())
        if len(here) and _contains_any(self._seen, _hashes(here)):
            raise ScatteredRowsError
        if self._pending is None or self._pending.empty:
            batch = rows
        elif rows.empty:
            batch = self._pending
        else:
            batch = pd.concat([self._pending, rows])
        self._check_incident_rows(batch)
        # Incidents seen near the chunk's end may go on in the next chunk: hold them back.
        seam = set(named.iloc[-SEAM_ROWS:].unique())
        if batch.empty:
            self._pending, self._pending_ids = None, seam
            return
        held = batch["source_id"].isin(seam).to_numpy()
        self._pending, self._pending_ids = batch[held], seam
        self._write(batch[~held])

    def _check_incident_rows(self, batch: pd.DataFrame) -> None:
        """Refuse an incident with more rows than the limit: its rows are held back until it
        closes, so one endless incident would otherwise hold the whole file in memory. The
        held-back rows are in ``batch``, so this counts every row of an open incident."""
        limit = self.incident_rows
        if len(batch) <= limit:
            return
        sizes = batch["source_id"].value_counts(sort=False)
        if sizes.max() <= limit:
            return
        lines = batch["line"].to_numpy()
        past = [
            (source_id, np.sort(lines[(batch["source_id"] == source_id).to_numpy()])[limit])
            for source_id in sizes.index[sizes.to_numpy() > limit]
        ]
        raise incident_rows_error(self.file_name, limit, past)

    def finish(self) -> MergeCounts:
        try:
            if self._pending is not None:
                self._write(self._pending)
            self._wait_for_copy()
            self._return_unused_ids()
        finally:
            self.close()
        # A load that is to be undone (an error without --accept-valid) rebuilds nothing:
        # the rollback restores the tables as they were.
        if self._writing:
            if self._defaults_set:
                bulk.drop_defaults(self.cursor, self._constants)
            if self._upkeep is not None:
                bulk.restore(self.cursor, self._upkeep)
        return self.counts

    def _write_rows(self, *writes: tuple[str, pd.DataFrame]) -> None:
        """On PostgreSQL the COPY runs in a thread of its own, so the server stores one chunk
        while this thread reads and validates the next (the two cores work at once)."""
        constants = {} if self._defaults_set else self._constants
        if self._copier is None:
            for table, frame in writes:
                write_rows(self.cursor, table, frame, constants.get(table))
            return
        self._wait_for_copy()
        self._copying = self._copier.submit(
            _copy_frames, self.cursor, [(t, f, constants.get(t)) for t, f in writes]
        )

    def _wait_for_copy(self) -> None:
        """Re-raises here an error the COPY met (the transaction is then rolled back)."""
        if self._copying is not None:
            copying, self._copying = self._copying, None
            copying.result()

    def _reserve(self, n: int) -> np.ndarray:
        """Ids for ``n`` new incidents, from a block reserved ahead (a database round trip
        per chunk would wait for the COPY in flight). The registry lock keeps other writers
        out, so the block stays contiguous and ``finish`` hands back what was not used."""
        if self._last_id is None or self._last_id + n > self._reserved_to:
            want = max(n, self._estimate - self.counts.incidents_inserted + CHUNK_MARGIN)
            self._wait_for_copy()
            first = reserve_ids(self.cursor, want) + 1
            if self._last_id is None or first != self._reserved_to + 1:
                self._last_id = first - 1
            self._reserved_to = first + want - 1
        ids = self._last_id + 1 + np.arange(n, dtype=np.int64)
        self._last_id += n
        return ids

    def _return_unused_ids(self) -> None:
        if self._last_id is not None and self._reserved_to > self._last_id:
            release_ids(self.cursor, self._last_id)

    def close(self) -> None:
        """Stop the COPY thread (after an error, without waiting for a result)."""
        if self._copier is not None:
            self._copier.shutdown(wait=True)
            self._copier = None

    @property
    def _writing(self) -> bool:
        # After an error without --accept-valid the import will be undone: keep reading to
        # list every error, but write nothing more.
        return self.accept_valid or not self.errors

    def _write(self, batch: pd.DataFrame) -> None:
        if batch.empty:
            return
        ids = batch["source_id"]
        new = np.sort(_hashes(pd.Series(ids.unique())))
        # A merge into the sorted array (one copy), not a re-sort of every incident so far.
        self._seen = np.insert(self._seen, np.searchsorted(self._seen, new), new)
        bad = ids.isin(self.bad_ids).to_numpy()
        if bad.any():
            self.set_aside += list(zip(batch["line"][bad].tolist(), ids[bad], strict=True))
            batch = batch[~bad]
        if batch.empty:
            return
        batch, codes = self._fold_order(batch)
        codes, starts = _groups(codes)
        incident_hash = batch["incident_hash"].to_numpy()
        disagree = np.minimum.reduceat(incident_hash, starts) != np.maximum.reduceat(
            incident_hash, starts
        )
        if disagree.any():
            if self.conflicts == "earliest":
                self.conflicts_resolved += int(disagree.sum())
            else:
                batch, codes, starts = self._reject_conflicts(batch, codes, starts, disagree)
        if batch.empty or not self._writing:
            return
        self._insert(batch, codes, starts)

    def _fold_order(self, batch: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """Rows grouped by incident, each incident's row that gives its fields first (the
        first line, or with ``conflicts = "earliest"`` the earliest date, time and line),
        and each row's incident code, ascending."""
        codes, _ = pd.factorize(batch["source_id"])
        keys = [batch["line"].to_numpy()]
        if self.conflicts == "earliest":
            keys.append(pd.factorize(batch["occurred_time"].fillna("00:00:00"), sort=True)[0])
            keys.append(pd.factorize(batch["occurred_on"], sort=True)[0])
        keys.append(codes)
        order = np.lexsort(keys)
        return batch.iloc[order], codes[order]

    def _reject_conflicts(self, batch, codes, starts, disagree):
        """Incidents whose rows disagree: each differing row is an error, the incident is
        set aside (the staged path's ``conflicting_rows``, done in memory)."""
        group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(batch)]))
        conflicting = disagree[group]
        rows = batch[conflicting]
        values = rows[["line", "source_id", *CONFLICT_FIELDS]].astype(
            {"jurisdiction_id": "Int64", "area_id": "Int64"}
        )
        values = values.astype(object).where(values.notna(), None)
        errors, ids = conflict_errors(values.itertuples(index=False, name=None), self.label)
        self.errors += errors
        self.bad_ids |= ids
        self.set_aside += list(zip(rows["line"].tolist(), rows["source_id"], strict=True))
        codes, starts = _groups(codes[~conflicting])
        return batch[~conflicting], codes, starts

    def _insert(self, batch: pd.DataFrame, codes: np.ndarray, starts: np.ndarray) -> None:
        n = len(starts)
        first = batch.iloc[starts]
        killed = np.add.reduceat(batch["killed"].to_numpy(dtype=np.int64), starts)
        injured = np.add.reduceat(batch["injured"].to_numpy(dtype=np.int64), starts)
        ids = self._reserve(n)
        first = first.reset_index(drop=True)
        kind = first["kind"].astype("str")
        if self.kind_derived or kind.isna().any():
            outcome = np.where(
                killed > 0, "homicide", np.where(injured > 0, "nonfatal_shooting", "shots_fired")
            )
            kind = kind.where(kind.notna(), pd.Series(outcome, dtype="str"))
        # Columns stay pyarrow-backed text (no Python string per cell) on their way to COPY.
        incidents = pd.DataFrame({"id": ids, "source_id": first["source_id"], "kind": kind})
        for name in (*ROW_FIELDS, *TEXT_FIELDS):
            column = first[name]
            if name in TEXT_FIELDS:
                column = column.fillna("")
            elif name in ("jurisdiction_id", "area_id", "offenders"):
                column = column.astype("Int64")
            incidents[name] = column
        incidents["killed"] = killed
        incidents["injured"] = injured
        incidents["content_hash"] = np.add.reduceat(
            batch["row_hash"].to_numpy(dtype=np.int64), starts
        )
        hit = batch["has_victim"].to_numpy() == 1
        victims = batch[hit].reset_index(drop=True)
        people = pd.DataFrame(
            {
                "incident_id": ids[codes[hit]],
                "age": victims["victim_age"].astype("Int64"),
                "age_group": victims["victim_age_group"].fillna(""),
                "sex": victims["victim_sex"].fillna(""),
                "race_ethnicity": victims["victim_race"].fillna(""),
                "ethnicity": victims["victim_ethnicity"].fillna(""),
                "extra": victims["victim_extra"].fillna("{}"),
                "killed": victims["killed"].to_numpy() > 0,
                "injured": victims["injured"].to_numpy() > 0,
            }
        )
        self._write_rows(("incidents_incident", incidents), ("incidents_personinvolved", people))
        self.counts.incidents_inserted += n
        self.counts.rows_inserted += len(batch)


def _copy_frames(cursor, writes: list[tuple[str, pd.DataFrame, dict | None]]) -> None:
    """The COPY thread's work: ``write_rows`` for each table (on PostgreSQL it only uses the
    psycopg connection, whose lock serialises it with this import's other statements)."""
    for table, frame, constants in writes:
        write_rows(cursor, table, frame, constants)


def _stamp(now) -> str:
    """``updated_at`` as the text each database stores for a timestamp."""
    if is_postgresql():
        return now.isoformat()
    return connection.ops.adapt_datetimefield_value(now)
