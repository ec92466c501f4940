"""The two ways an import writes, and bulk loads.

The first import of a source writes incidents straight to the registry when each incident's
rows lie together; anything else goes through the staging table. Both must leave the same
registry and report the same errors, so each case here imports one file as it is (rows of an
incident together, folded in memory) and again with its rows scattered across chunks (which
forces the staging path), and compares.
"""

from __future__ import annotations

import random

import pytest
from django.db import connection

from gvrs.data.mapping import load_format, parse_mapping
from gvrs.incidents.importing import bulk, import_file
from gvrs.incidents.models import ImportRun, Incident, Jurisdiction, PersonInvolved
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db
GVRS = load_format("gvrs")
EARLIEST = parse_mapping(
    {"format": {"name": "earliest", "identity": True, "conflicts": "earliest"}}, "test"
)


def registry(source: str) -> dict[str, tuple]:
    """Everything an import wrote for ``source``, keyed by source_id (ids aside)."""
    out = {}
    for incident in Incident.objects.filter(source=source).select_related("jurisdiction", "area"):
        people = sorted(
            (p.age or -1, p.age_group, p.sex, p.race_ethnicity, p.killed, p.injured)
            for p in incident.people.all()
        )
        out[incident.source_id] = (
            incident.kind,
            str(incident.occurred_on),
            str(incident.occurred_time),
            incident.reported_at,
            incident.jurisdiction.name,
            incident.area.name if incident.area else None,
            incident.latitude,
            incident.longitude,
            incident.weapon,
            incident.group_involvement,
            incident.circumstance,
            incident.block_address,
            incident.case_status,
            incident.killed,
            incident.injured,
            incident.content_hash,
            tuple(people),
        )
    return out


def victims(n_incidents: int, seed: int = 3) -> list[dict[str, str]]:
    """Rows of ``n_incidents`` incidents, one to three victims each, rows of one together."""
    rng = random.Random(seed)
    rows = []
    for i in range(n_incidents):
        for v in range(rng.choice([1, 1, 2, 3])):
            rows.append(
                row(
                    f"C-{i}",
                    kind="nonfatal_shooting" if i % 3 else "homicide",
                    occurred_at=f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:30",
                    area=f"Beat {i % 5}",
                    killed="1" if i % 3 == 0 and v == 0 else "0",
                    injured="0" if i % 3 == 0 and v == 0 else "1",
                    victim_age=str(16 + (i * 7 + v) % 40),
                )
            )
    return rows


def scattered(rows: list[dict[str, str]], seed: int = 5) -> list[dict[str, str]]:
    shuffled = rows[:]
    random.Random(seed).shuffle(shuffled)
    return shuffled


def import_both_ways(tmp_path, rows, mapping=GVRS, **options):
    """(registry, report) for ``rows`` in order under source "together" and scattered
    under source "scattered", both read four rows at a time."""
    results = []
    for source, ordered in (("together", rows), ("scattered", scattered(rows))):
        path = write_csv(tmp_path / f"{source}.csv", ordered)
        report = import_file(path, mapping, source=source, chunk_rows=4, **options)
        results.append((registry(source), report))
    assert [report.written for _, report in results] == ["direct", "staged"]
    return results


def test_rows_together_and_rows_scattered_give_the_same_registry(tmp_path):
    (together, _), (apart, _) = import_both_ways(tmp_path, victims(40))
    assert len(together) == 40
    assert together == apart
    assert PersonInvolved.objects.filter(incident__source="together").count() == sum(
        len(v[-1]) for v in together.values()
    )


def test_an_incident_across_a_chunk_seam_is_one_incident(tmp_path):
    rows = [row("A-1"), row("A-2"), row("A-3"), row("A-4", killed="0", injured="1")]
    rows += [row("A-4", killed="0", injured="1", victim_age="30"), row("A-5")]
    import_file(write_csv(tmp_path / "in.csv", rows), GVRS, chunk_rows=4)
    a4 = Incident.objects.get(source_id="A-4")
    assert (a4.injured, a4.people.count()) == (2, 2)
    assert Incident.objects.count() == 5


def test_incidents_interleaved_across_a_seam_are_written_directly(tmp_path):
    rows = [row("A-1"), row("B-1"), row("A-2"), row("B-2", killed="0", injured="1")]
    rows += [row("A-2", killed="0", injured="1"), row("B-2", victim_age="40"), row("C-1")]
    report = import_file(write_csv(tmp_path / "in.csv", rows), GVRS, chunk_rows=4)
    assert report.written == "direct"
    b2 = Incident.objects.get(source_id="B-2")
    assert (b2.killed, b2.injured, b2.people.count()) == (1, 1, 2)
    assert Incident.objects.count() == 5


def test_both_ways_report_the_same_errors_and_set_aside_the_same_lines(tmp_path):
    rows = victims(12)
    rows[3]["killed"] = "-1"  # one bad victim row: its whole incident is set aside
    rows[7]["occurred_at"] = "2021-99-01"
    (together, report_a), (apart, report_b) = import_both_ways(tmp_path, rows, accept_valid=True)
    assert together == apart
    bad = {rows[3]["source_id"], rows[7]["source_id"]}
    assert not bad & set(together)

    def reasons(report, source_rows):
        by_line = {line: reason for line, reason in report.rejected.items()}
        return sorted((source_rows[line - 2]["source_id"], r) for line, r in by_line.items())

    assert reasons(report_a, rows) == reasons(report_b, scattered(rows))


def test_chunks_with_no_valid_row_are_reported_both_ways(tmp_path):
    rows = victims(30)
    for bad in rows[:5]:  # the first chunk has no valid row
        bad["kind"] = "stabbing"
    (together, report_a), (apart, report_b) = import_both_ways(tmp_path, rows, accept_valid=True)
    assert together == apart
    assert len(report_a.errors) == len(report_b.errors) == 5
    assert sorted(report_a.rejected.values()) == sorted(report_b.rejected.values())


def test_a_reimport_whose_first_chunk_has_no_valid_row_is_staged_and_reported(tmp_path):
    rows = victims(10)
    import_file(write_csv(tmp_path / "v1.csv", rows), GVRS, chunk_rows=4)
    for bad in rows[:4]:
        bad["occurred_at"] = "yesterday"
    report = import_file(
        write_csv(tmp_path / "v2.csv", rows), GVRS, chunk_rows=4, accept_valid=True
    )
    assert report.written == "staged" and report.ok
    assert sorted(report.rejected) == [2, 3, 4, 5]
    assert Incident.objects.count() == 10


def test_conflicting_rows_are_the_same_errors_both_ways(tmp_path):
    rows = victims(10)
    rows.insert(5, {**rows[4], "area": "Somewhere Else"})  # same incident, another area
    (_, report_a), (_, report_b) = import_both_ways(tmp_path, rows)
    assert not report_a.ok and not report_b.ok
    assert [(e.column, e.reason.split(" (")[0]) for e in report_a.errors] == [
        (e.column, e.reason.split(" (")[0]) for e in report_b.errors
    ]
    assert "is repeated with a different area" in report_a.errors[0].reason
    assert not Incident.objects.exists()


def test_the_earliest_policy_keeps_the_earliest_row_both_ways(tmp_path):
    rows = victims(10)
    late = {**rows[0], "occurred_at": "2021-01-01T23:00", "area": "Late Beat"}
    early = {**rows[0], "occurred_at": "2021-01-01T01:00", "area": "Early Beat"}
    rows = [late, early, *rows[1:]]  # the earliest row is not the first
    (together, report_a), (apart, report_b) = import_both_ways(tmp_path, rows, EARLIEST)
    assert together == apart
    assert together[rows[0]["source_id"]][5] == "Early Beat"
    assert report_a.conflicts_resolved == report_b.conflicts_resolved == 1


def test_new_incidents_take_ids_no_one_else_will(tmp_path):
    import_file(write_csv(tmp_path / "a.csv", victims(5)), GVRS, source="a")
    import_file(write_csv(tmp_path / "b.csv", scattered(victims(5))), GVRS, source="b")
    ids = list(Incident.objects.values_list("pk", flat=True))
    assert len(set(ids)) == 10 and min(ids) > 0
    made = Incident.objects.create(
        source="manual",
        source_id="M-1",
        kind="homicide",
        occurred_on="2021-01-01",
        jurisdiction=Jurisdiction.objects.get(name="Bakersfield"),
    )
    assert made.pk > max(ids)


def constraints() -> dict[str, dict]:
    """Each incident table's constraints and indexes, and its columns' defaults."""
    with connection.cursor() as cursor:
        out = {
            table: {
                name: (c["columns"], c["unique"], c["foreign_key"], c["index"])
                for name, c in connection.introspection.get_constraints(cursor, table).items()
            }
            for table in bulk.TABLES
        }
        for table in bulk.TABLES:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT column_name, column_default FROM information_schema.columns "
                    "WHERE table_name = %s",
                    [table],
                )
                out[f"{table} defaults"] = dict(cursor.fetchall())
            else:
                cursor.execute(f"PRAGMA table_info({table})")
                out[f"{table} defaults"] = {r[1]: r[4] for r in cursor.fetchall()}
        return out


@pytest.mark.parametrize("scatter", [False, True], ids=["direct", "staged"])
def test_a_bulk_load_rebuilds_every_index_and_constraint(tmp_path, monkeypatch, scatter):
    before = constraints()
    monkeypatch.setattr(bulk, "BULK_MIN_INCIDENTS", 1)
    rows = scattered(victims(30)) if scatter else victims(30)
    report = import_file(write_csv(tmp_path / "in.csv", rows), GVRS, chunk_rows=8)
    assert report.ok and Incident.objects.count() == 30
    assert report.bulk_load and report.written == ("staged" if scatter else "direct")
    assert set(Incident.objects.values_list("source", "import_run", "updated_at")) == {
        ("gvrs", report.run.pk, Incident.objects.first().updated_at)
    }
    assert set(PersonInvolved.objects.values_list("role", flat=True)) == {"victim"}
    assert constraints() == before


def test_a_failed_bulk_load_leaves_registry_and_indexes_as_they_were(tmp_path, monkeypatch):
    before = constraints()
    monkeypatch.setattr(bulk, "BULK_MIN_INCIDENTS", 1)
    rows = victims(30)
    rows[-1]["latitude"] = "123"
    report = import_file(write_csv(tmp_path / "in.csv", rows), GVRS, chunk_rows=8)
    assert not report.ok and report.written == "direct"
    assert not Incident.objects.exists() and not PersonInvolved.objects.exists()
    assert constraints() == before
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED
