"""The incidents page: filters by place (with the places inside it), kind and date, and a CSV
export of exactly the filtered list for roles allowed it, restricted columns only for roles
allowed them, cells made inert for spreadsheets, every export in the audit log."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from gvrs.accounts.models import AuditEvent
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from tests.importing_helpers import HEADER, row, write_csv

pytestmark = pytest.mark.django_db
SECRET = "1200 block of Secret St"


@pytest.fixture
def registry(tmp_path):
    rows = [
        row("K-1", jurisdiction="Kern County > Bakersfield", block_address=SECRET),
        row("K-2", jurisdiction="Kern County > Delano", occurred_at="2022-06-01"),
        row(
            "K-3",
            jurisdiction="Kern County",
            kind="nonfatal_shooting",
            killed="0",
            injured="1",
            area='=HYPERLINK("http://evil")',
        ),
        row("P-1", jurisdiction="Philadelphia", occurred_at="2021-01-05"),
    ]
    header = [*HEADER, "block_address"]
    assert import_file(write_csv(tmp_path / "in.csv", rows, header=header), load_format("gvrs")).ok


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def listed(client, **params) -> str:
    return client.get(reverse("incidents-list"), params).content.decode()


def test_a_place_filter_takes_the_places_inside_it(people, registry):
    page = listed(signed_in(people["analyst"]), place="Kern County")
    assert "K-1" in page and "K-2" in page and "K-3" in page
    assert "P-1" not in page
    only = listed(signed_in(people["analyst"]), place="Delano")
    assert "K-2" in only and "K-1" not in only


def test_searching_a_place_name_finds_its_incidents(people, registry):
    page = listed(signed_in(people["viewer"]), q="Philadelphia")
    assert "P-1" in page and "K-1" not in page


def test_an_unknown_place_is_a_clear_error_with_a_suggestion(people, registry):
    page = listed(signed_in(people["analyst"]), place="Bakersfeld")
    assert "No place is called &#x27;Bakersfeld&#x27;" in page
    assert "did you mean &#x27;Bakersfield&#x27;?" in page
    assert "K-1" not in page  # an invalid filter selects nothing rather than everything


def _export(client, **params):
    response = client.get(reverse("incidents-export"), params)
    body = b"".join(response.streaming_content).decode() if response.streaming else ""
    return response, list(csv.DictReader(io.StringIO(body)))


def test_the_export_is_the_filtered_list_without_restricted_columns(people, registry):
    response, rows = _export(signed_in(people["analyst"]), place="Kern County", kind="homicide")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert sorted(r["source_id"] for r in rows) == ["K-1", "K-2"]
    assert "latitude" not in rows[0] and "block_address" not in rows[0]
    assert SECRET not in str(rows)


def test_roles_allowed_restricted_fields_get_them_in_the_export(people, registry):
    _, rows = _export(signed_in(people["police"]), q="K-1")
    assert rows[0]["block_address"] == SECRET
    assert rows[0]["latitude"] == "35.37"


def test_formula_cells_are_made_inert(people, registry):
    _, rows = _export(signed_in(people["analyst"]), q="K-3")
    assert rows[0]["area"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize("role", ["viewer", "partner", "outsider"])
def test_roles_without_the_right_cannot_export(people, registry, role):
    response = signed_in(people[role]).get(reverse("incidents-export"))
    assert response.status_code == 403
    if role == "viewer":
        assert "Download these as CSV" not in listed(signed_in(people[role]))


def test_every_export_is_audited(people, registry):
    _export(signed_in(people["police"]), place="Kern County")
    event = AuditEvent.objects.filter(action="export").get()
    assert event.user == people["police"]
    assert "3 incidents as CSV, with restricted fields" in event.detail
    assert "Kern County" in event.detail


def test_import_pages_keep_rows_incidents_and_published_counts_apart(people, tmp_path):
    from gvrs.incidents.models import ImportRun

    rows = [row("V-1"), row("V-1", victim_age="20"), *[row(f"W-{i}") for i in range(1200)]]
    assert import_file(write_csv(tmp_path / "v.csv", rows), load_format("gvrs")).ok
    run = ImportRun.objects.latest("pk")
    client = signed_in(people["analyst"])
    detail = client.get(reverse("incidents-import-detail", kwargs={"pk": run.pk})).content.decode()
    assert "1,202 rows of the file read" in detail
    assert "Rows (one per person involved)" in detail
    assert "Incidents (rows of one incident folded into one): 1,201 new" in detail
    listing = client.get(reverse("incidents-imports")).content.decode()
    assert "incidents: 1,201 new" in listing and "1,202" in listing
