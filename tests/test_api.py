"""The read API (gvrs.api): tokens, what each role gets, the same figures as the pages and
commands, CSV for spreadsheets, audited incident reads, the public figures without a token."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from gvrs.accounts.audience import audience_of, deployment_policy
from gvrs.accounts.models import ApiToken, AuditEvent
from gvrs.accounts.tokens import create_token, digest_of
from gvrs.data.metrics import load_metrics
from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.public.models import PublicDashboard
from gvrs.reports.overview import build
from gvrs.reports.protected import CELLS
from tests.api_helpers import bearer
from tests.test_map_by_role import numbers_in

pytestmark = pytest.mark.django_db
API = "/api/v1"


def get(path: str, headers: dict | None = None, **params):
    return Client().get(f"{API}{path}", params, headers=headers or {})


def test_the_schema_is_openapi_3_1_and_the_docs_come_from_the_installed_package():
    schema = get("/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["openapi"].startswith("3.1")
    docs = get("/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    sheets = re.findall(r'<link[^>]+href="([^"]+\.css)"', page)
    assert scripts and sheets
    # Every script and style is one of ours, served by this site: no CDN, no inline script.
    for url in scripts + sheets:
        assert url.startswith("/static/ninja/"), url
        assert Client().get(url).status_code == 200, url
    assert "<script>" not in page.replace('<script type="application/json"', "")
    assert "script-src 'self'" in docs["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["/places", "/places/bakersfield/series", "/incidents"])
def test_no_token_no_answer(path):
    assert get(path).status_code == 401
    assert get(path, {"Authorization": "Bearer gvrs_not-a-token"}).status_code == 401
    assert get(path, access_token="gvrs_not-a-token").status_code == 401


def test_a_revoked_or_expired_token_is_refused(people, city):
    analyst = people["analyst"]
    made = create_token(analyst, "spreadsheet", 30)
    headers = {"Authorization": f"Bearer {made.secret}"}
    assert get("/places", headers).status_code == 200
    client = Client()
    client.force_login(analyst)
    client.post(f"/accounts/tokens/{made.token.pk}/revoke/")
    assert get("/places", headers).status_code == 401

    expiring = create_token(analyst, "soon", 7)
    headers = {"Authorization": f"Bearer {expiring.secret}"}
    assert get("/places", headers).status_code == 200
    ApiToken.objects.filter(pk=expiring.token.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert get("/places", headers).status_code == 401

    # A deactivated user's tokens stop working; a role taken away is taken from the token.
    third = bearer(people["police"])
    assert get("/incidents", third).status_code == 200
    people["police"].groups.clear()
    assert get("/incidents", third).status_code == 403
    people["police"].is_active = False
    people["police"].save()
    assert get("/incidents", third).status_code == 401


def test_the_token_page_shows_the_secret_once_and_keeps_only_its_digest(people):
    client = Client()
    client.force_login(people["viewer"])
    made = client.post("/accounts/tokens/", {"name": "Power BI", "lifetime_days": "90"})
    secret = re.search(r'<code class="secret">(gvrs_[\w-]+)</code>', made.content.decode())[1]
    token = ApiToken.objects.get(user_id=people["viewer"].pk)
    assert token.digest == digest_of(secret) and secret not in token.digest
    assert token.scope == "read"
    assert dt.timedelta(days=89) < token.expires_at - timezone.now() <= dt.timedelta(days=90)
    again = client.get("/accounts/tokens/").content.decode()
    assert secret not in again and token.prefix in again
    assert AuditEvent.objects.filter(action="token-create", username="vic").count() == 1
    # No other user can revoke it.
    other = Client()
    other.force_login(people["analyst"])
    other.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert get("/places", {"Authorization": f"Bearer {secret}"}).status_code == 200


def test_the_series_are_the_commands_records_as_json_and_csv(people, city):
    headers = bearer(people["analyst"])
    answer = get(f"/places/{city}/series", headers, metric="shootings", by="year")
    assert answer.status_code == 200
    body = answer.json()
    out = io.StringIO()
    call_command(
        "stats",
        metric="shootings",
        jurisdiction=city,
        by="year",
        format="json",
        stdout=out,
    )
    command = json.loads(out.getvalue())
    assert [r["count"] for r in body["rows"]] == [r["count"] for r in command] == [36, 36]
    for ours, theirs in zip(body["rows"], command, strict=True):
        for key in ("period", "ci_low", "ci_high", "coverage", "source"):
            assert ours[key] == theirs[key], key
    assert body["source"] == "gvrs" or body["sources"][0] == body["source"]

    as_csv = get(f"/places/{city}/series", {**headers, "Accept": "text/csv"}, metric="shootings")
    assert as_csv["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode())))
    assert [int(r["count"]) for r in rows] == [36, 36]
    assert rows[0]["period"] == "2021" and float(rows[0]["ci_low"]) == command[0]["ci_low"]
    # A spreadsheet's "from web" sends neither header: the token and the format in the URL.
    secret = headers["Authorization"].removeprefix("Bearer ")
    by_url = get(f"/places/{city}/series", metric="shootings", format="csv", access_token=secret)
    assert by_url.status_code == 200 and by_url.content == as_csv.content


def test_compare_and_projection_say_what_the_commands_say(people, city):
    headers = bearer(people["analyst"])
    compared = get(f"/places/{city}/compare", headers, metric="shootings", period="2022", vs="2021")
    assert compared.status_code == 200
    change = compared.json()["comparisons"][0]
    assert (change["count"], change["vs_count"]) == (36, 36)
    assert "shootings" in change["sentence"].lower() or "people shot" in change["sentence"].lower()
    # A year that is over has nothing to project: 404, saying why.
    over = get(f"/places/{city}/projection", headers, metric="shootings")
    assert over.status_code == 404 and "is over" in over.json()["detail"]
    bad = get(f"/places/{city}/compare", headers, period="2022-Q9", vs="2021")
    assert bad.status_code == 400
    assert get(f"/places/{city}/series", headers, metric="no-such").status_code == 400
    assert get("/places/atlantis/series", headers).status_code == 404
    # Days outside the pages' bounds are refused as the pages refuse them (found by
    # schemathesis: a window from year 293 had no window before it to compare with).
    far = {"since": "0293-12-29", "until": "4297-01-27"}
    assert get(f"/places/{city}/areas", headers, **far).status_code == 422


def test_a_viewer_token_gets_no_coordinates_and_the_cells_the_page_shows(people, city):
    viewer = bearer(people["viewer"])
    place = Jurisdiction.objects.get(slug=city)
    metrics = load_metrics()
    metric = metrics["shooting_incidents"]
    page = build(
        place,
        metric,
        metrics,
        level=CELLS,
        audience=audience_of(people["viewer"]),
        policy=deployment_policy(),
    ).areas
    window = {"metric": "shooting_incidents"}
    spots = get(f"/places/{city}/hotspots", viewer, **window).json()
    ranked = get(f"/places/{city}/areas", viewer, **window).json()
    assert spots["exact"] is False and spots["cell_m"] == 500
    # The perturbed cells of the latest whole year, as the page draws them.
    assert spots["cells_year"] == page.cells_year == 2021
    assert [(c["lon"], c["lat"], c["count"]) for c in spots["cells"]] == [
        (c.lon, c.lat, c.count) for c in page.cells
    ]
    assert spots["cells"] and all(c["count"] >= 5 for c in spots["cells"])
    assert [(a["name"], a["count"], a["suppressed"]) for a in ranked["areas"]] == [
        (r.name, r.count, r.suppressed) for r in page.rows
    ]
    # A viewer may read incident records: the areas' counts are exact.
    oildale = next(a for a in ranked["areas"] if a["name"] == "Oildale")
    assert not oildale["suppressed"] and oildale["count"] == 2
    # No incident's coordinate in anything a viewer's token reads.
    points = list(Incident.objects.values_list("latitude", "longitude"))
    for path in ("hotspots", "areas", "series", "coverage", "children", ""):
        body = get(f"/places/{city}/{path}".rstrip("/"), viewer, **window).content.decode()
        numbers = set(numbers_in(body))
        assert not any(lat in numbers or lon in numbers for lat, lon in points), path
    assert get("/incidents", viewer).status_code == 403
    assert get(f"/incidents/{Incident.objects.first().pk}", viewer).status_code == 403

    # Police see every cell, the small ones too.
    police = get(f"/places/{city}/hotspots", bearer(people["police"]), **window).json()
    assert police["exact"] is True
    assert sum(c["count"] for c in police["cells"]) > sum(c["count"] for c in spots["cells"])


def test_every_read_of_incident_records_is_in_the_audit_log(people, city):
    police = bearer(people["police"])
    listed = get("/incidents", police, jurisdiction=city, kind="homicide", page_size=5)
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 12 and len(body["results"]) == 5 and body["pages"] == 3
    assert body["results"][0]["latitude"] is not None
    one = body["results"][0]["id"]
    detail = get(f"/incidents/{one}", police)
    assert detail.status_code == 200 and detail.json()["people"][0]["role"] == "victim"
    events = AuditEvent.objects.filter(username="pat").exclude(action="token-create")
    events = events.order_by("pk")
    assert [e.action for e in events] == ["api-list", "view"]
    assert "5 of 12 incidents (page 1)" in events[0].detail
    assert events[1].object_id == str(one) and "through the API" in events[1].detail
    assert get("/incidents", police, kind="stabbing").status_code == 400
    # A place by its name or path, as `gvrs incidents --jurisdiction` takes one.
    by_name = get("/incidents", police, jurisdiction="CA > Bakersfield", page_size=1)
    assert by_name.json()["count"] == 72
    assert get("/incidents", police, jurisdiction="Bakersfeld").status_code == 404


def test_the_public_figures_need_no_token_and_equal_the_public_csv(city):
    place = Jurisdiction.objects.get(slug=city)
    assert get(f"/public/{city}").status_code == 404  # not published: as if it did not exist
    PublicDashboard.objects.create(jurisdiction=place, enabled=True, metric="shootings")
    answer = get(f"/public/{city}")
    assert answer.status_code == 200
    body = answer.json()
    published = Client().get(f"/public/{city}/data.csv").content.decode()
    from_csv = {
        (r["table"], r["row"], r["column"]): r["value"]
        for r in csv.DictReader(io.StringIO(published))
        if r["table"] != "about"
    }
    from_api = {
        (t["key"], row["label"], column): (
            str(cell["value"]) if cell["value"] is not None else cell["text"]
        )
        for t in body["tables"]
        for row in t["rows"]
        for column, cell in zip(t["columns"], row["cells"], strict=True)
    }
    assert from_api == from_csv
    assert body["perturbed_within"] == 5  # every figure within 5 of its count
    assert any(c["state"] == "fewer" for t in body["tables"] for r in t["rows"] for c in r["cells"])
    assert [p["slug"] for p in get("/public").json()] == [city]


def test_requests_are_throttled_per_token(people, city, settings):
    settings.GVRS_API_RATE = "3/minute"
    first, second = bearer(people["analyst"], "a"), bearer(people["analyst"], "b")
    assert [get("/places", first).status_code for _ in range(3)] == [200, 200, 200]
    refused = get("/places", first)
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert get("/places", second).status_code == 200  # another token has its own count


def test_places_search_children_and_coverage(people, city):
    headers = bearer(people["viewer"])
    found = get("/places", headers, q="bakers").json()
    assert found[0]["slug"] == city and found[0]["path"] == "California"
    detail = get(f"/places/{city}", headers).json()
    assert detail["areas"] == ["Downtown", "East Bakersfield", "Oildale"]
    coverage = get(f"/places/{city}/coverage", headers).json()
    source = coverage["incident_sources"][0]
    assert source["first"] == "2021-01-01" and source["recorded"] is True
    county = detail["parent"]
    inside = get(f"/places/{county}/children", headers).json()
    assert [c["slug"] for c in inside["children"]] == [city]
    assert inside["children"][0]["incidents_12_months"] > 0


def test_a_partner_token_gets_whole_months_perturbed_as_the_overview_shows(people, city):
    """A partner may not read incident records (docs/disclosure.md): the API answers it as
    the overview does, by whole months and every count perturbed, never by week or by day."""
    partner = bearer(people["partner"])
    analyst = bearer(people["analyst"])
    by_month = get(f"/places/{city}/series", partner, metric="shootings", by="month")
    assert by_month.status_code == 200
    exact = get(f"/places/{city}/series", analyst, metric="shootings", by="month").json()
    shown = {r["period"]: r["count"] for r in by_month.json()["rows"]}
    truth = {r["period"]: r["count"] for r in exact["rows"] if r["period"] in shown}
    assert shown.keys() == truth.keys() and len(shown) >= 12
    assert all(abs(shown[p] - truth[p]) <= 5 for p in shown)
    assert all(shown[p] == 0 for p in shown if truth[p] == 0)
    assert shown != truth  # perturbed, not merely copied
    assert "perturbed" in by_month.json()["definition"]
    weekly = get(f"/places/{city}/series", partner, metric="shootings", by="week")
    assert weekly.status_code == 400 and "weekly" in weekly.json()["detail"]
    one_day = get(
        f"/places/{city}/series", partner, metric="shootings", by="month", since="2022-03-04"
    )
    assert one_day.status_code == 400 and "whole calendar months" in one_day.json()["detail"]
    ranked = get(f"/places/{city}/areas", partner, metric="shootings").json()
    assert all(not a["suppressed"] for a in ranked["areas"]) and "perturbed" in ranked["note"]
    spots = get(f"/places/{city}/hotspots", partner, metric="shooting_incidents").json()
    assert spots["exact"] is False and all(c["count"] >= 5 for c in spots["cells"])
