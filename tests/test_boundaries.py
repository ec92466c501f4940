"""The areas' shapes are served once, at a versioned URL the browser keeps, instead of inline
in every overview page (a viewer's Philadelphia overview carried 664 KB of them)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db


def _square(x: float, y: float, side: float = 0.01) -> dict:
    ring = [[x, y], [x + side, y], [x + side, y + side], [x, y + side], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


@pytest.fixture
def town(tmp_path):
    rows = [row(f"B-{i}", area="Oleander" if i % 2 else "Westchester") for i in range(6)]
    assert import_file(write_csv(tmp_path / "in.csv", rows), load_format("gvrs")).ok
    shapes = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"name": name}, "geometry": _square(x, 35.37)}
            for name, x in (("Oleander", -119.03), ("Westchester", -119.01))
        ],
    }
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(shapes))
    call_command("boundaries", str(path), jurisdiction="Bakersfield", stdout=io.StringIO())
    return Jurisdiction.objects.named("Bakersfield")


def test_the_overview_names_the_shapes_by_a_versioned_url_and_the_url_serves_them(
    town, people, tmp_path
):
    client = Client()
    client.force_login(people["analyst"])
    page = client.get(reverse("reports-jurisdiction", kwargs={"slug": town.slug})).content
    page = page.decode()
    assert '"coordinates"' not in page and "FeatureCollection" not in page  # no shape inline
    url = reverse("reports-boundaries", kwargs={"slug": town.slug})
    assert f"{url}?v=" in page
    version = page.split(f"{url}?v=", 1)[1].split('"', 1)[0]
    response = client.get(f"{url}?v={version}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert "immutable" in response["Cache-Control"]
    assert "max-age=31536000" in response["Cache-Control"]
    shapes = json.loads(response.content)
    assert len(shapes["features"]) == 2
    corners = [c for f in shapes["features"] for c in f["geometry"]["coordinates"][0]]
    assert [-119.03, 35.37] in corners
    # A new import gives a new URL: the browser's copy is never stale.
    assert import_file(write_csv(tmp_path / "again.csv", [row("B-99")]), load_format("gvrs")).ok
    again = client.get(reverse("reports-jurisdiction", kwargs={"slug": town.slug})).content
    assert f"{url}?v={version}" not in again.decode()


def test_the_shapes_need_a_signed_in_user_and_a_real_place(town, people, client):
    url = reverse("reports-boundaries", kwargs={"slug": town.slug})
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(people["viewer"])
    assert client.get(url).status_code == 200
    missing = reverse("reports-boundaries", kwargs={"slug": "atlantis"})
    assert client.get(missing).status_code == 404
