"""The public dashboard without sign-in: on and off per place, the same 404 as a missing
place, refused periods, the download equal to the page, caching and its invalidation, the
security headers, and no other page of the site open to the public."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver

from gvrs.incidents.models import ImportRun, Incident, Jurisdiction
from gvrs.public.models import PublicDashboard
from tests.public_helpers import make_random_town, read_csv, table_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def town():
    return make_random_town(3)[0]


def test_a_published_place_is_open_to_anyone(client, town):
    response = client.get(f"/public/{town.slug}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Randomville" in page
    assert "fewer than 11" in page
    for words in ("What is counted", "Counting unit: people", "Data coverage", "Last imported"):
        assert words in page
    assert "How these figures change" in page
    assert 'data-chart="chart-annual"' in page and 'data-chart="chart-map"' not in page
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_a_place_switched_off_is_the_same_404_as_a_missing_place(client, town):
    PublicDashboard.objects.filter(jurisdiction=town).update(enabled=False)
    off = client.get(f"/public/{town.slug}/")
    missing = client.get("/public/no-such-place/")
    assert off.status_code == missing.status_code == 404
    assert off.content == missing.content
    assert client.get(f"/public/{town.slug}/data.csv").content == (
        client.get("/public/no-such-place/data.csv").content
    )
    # A place never published at all: the same again.
    other = Jurisdiction.objects.create(name="Quietville", slug="quietville", state="CA")
    assert client.get(f"/public/{other.slug}/").content == missing.content


def test_the_index_lists_only_published_places(client, town):
    Jurisdiction.objects.create(name="Quietville", slug="quietville", state="CA")
    page = client.get("/public/").content.decode()
    assert "Randomville" in page and "Quietville" not in page


@pytest.mark.parametrize("year", ["2019", "2030", "2023"])
def test_a_year_outside_the_coverage_is_refused_saying_why(client, town, year):
    # 2023 is inside the coverage but not whole (the data end on 20 August 2023).
    response = client.get(f"/public/{town.slug}/?year={year}")
    assert response.status_code == 404
    assert "not a whole year inside the data" in response.content.decode()
    csv_response = client.get(f"/public/{town.slug}/data.csv?year={year}")
    assert csv_response.status_code == 404


@pytest.mark.parametrize("year", ["abc", "20220", "٢٠٢٢", "-1"])
def test_a_malformed_year_is_a_404(client, town, year):
    assert client.get(f"/public/{town.slug}/", {"year": year}).status_code == 404


def test_a_whole_year_can_be_chosen_for_the_breakdowns(client, town):
    rows = read_csv(client.get(f"/public/{town.slug}/data.csv?year=2021").content)
    assert {column for _, column in table_of(rows, "areas")} == {"2021"}
    page = client.get(f"/public/{town.slug}/?year=2021").content.decode()
    assert "Victims by age group, 2021" in page or "is suppressed" in page


def _cells_in_html(page: str) -> list[tuple[str, str]]:
    """(table, text) of every figure cell in the page's tables."""
    found = []
    for key, body in re.findall(r'data-table="([a-z_]+)">(.*?)</table>', page, re.S):
        for text in re.findall(r'<td class="num [a-z]+">([^<]*)</td>', body):
            found.append((key, text))
    return found


def test_the_download_is_exactly_what_the_page_shows(client, town):
    page = client.get(f"/public/{town.slug}/").content.decode()
    response = client.get(f"/public/{town.slug}/data.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = [r for r in read_csv(response.content) if r["table"] != "about"]
    shown = _cells_in_html(page)
    assert len(rows) == len(shown) > 50
    for row, (key, text) in zip(rows, shown, strict=True):
        assert row["table"] == key
        assert row["value"] == text.replace(",", "").replace("&quot;", '"'), (row, text)


def test_the_download_is_safe_in_a_spreadsheet(client):
    make_random_town(4, name="=HYPERLINK(1)")
    body = client.get("/public/hyperlink1/data.csv").content.decode()
    assert "'=HYPERLINK(1)" in body
    assert "\n=" not in body and ",=" not in body


def test_an_import_changes_the_cached_page(client, town):
    first = client.get(f"/public/{town.slug}/data.csv").content
    assert client.get(f"/public/{town.slug}/data.csv").content == first  # from the cache
    Incident.objects.filter(jurisdiction=town, occurred_on__year=2021).delete()
    assert client.get(f"/public/{town.slug}/data.csv").content == first  # no import: cached
    # An import run is what tells the cache the registry changed.
    latest = ImportRun.objects.latest("pk")
    latest.pk = None
    latest.save()
    months = table_of(read_csv(client.get(f"/public/{town.slug}/data.csv").content), "months")
    assert months[("2021", "Total")] == "0"


def test_a_setting_change_shows_at_once(client, town):
    assert "fewer than 11" in client.get(f"/public/{town.slug}/").content.decode()
    dashboard = PublicDashboard.objects.get(jurisdiction=town)
    dashboard.threshold = 4
    dashboard.save()
    page = client.get(f"/public/{town.slug}/").content.decode()
    assert "fewer than 5" in page and "fewer than 11" not in page
    dashboard.enabled = False
    dashboard.save()
    assert client.get(f"/public/{town.slug}/").status_code == 404


def test_the_administrator_switches_a_place_on_in_the_admin(client):
    place = Jurisdiction.objects.create(name="Adminville", slug="adminville", state="CA")
    admin = User.objects.create_superuser("root", password="x-very-long-password-1")
    assert client.get("/public/adminville/").status_code == 404
    client.force_login(admin)
    response = client.post(
        "/admin/public/publicdashboard/add/",
        {"jurisdiction": place.pk, "enabled": "on", "metric": "shootings", "threshold": "10"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(PublicDashboard)
    ).exists()
    bad = client.post(
        "/admin/public/publicdashboard/add/",
        {"jurisdiction": place.pk, "enabled": "on", "metric": "robberies", "threshold": "10"},
    )
    assert bad.status_code == 200 and "not counted from incidents" in bad.content.decode()
    client.logout()
    page = client.get("/public/adminville/")
    assert page.status_code == 200
    assert "No incident data on people shot yet." in page.content.decode()


def test_public_responses_carry_the_sites_security_headers(client, town):
    for url in (f"/public/{town.slug}/", f"/public/{town.slug}/data.csv", "/public/"):
        response = client.get(url)
        assert "script-src 'self'" in response["Content-Security-Policy"]
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"].startswith("public")
        assert not response.cookies


def _paths(patterns=None, prefix: str = "") -> list[str]:
    """Every URL of the site, with a sample value for each parameter."""
    out = []
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            out += _paths(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            path = re.sub(
                r"<(?:(\w+):)?(\w+)>", lambda m: "1" if m.group(1) == "int" else "x", route
            )
            path = re.sub(r"[\^\$]|\(\?P<\w+>[^)]*\)|\\Z", "1", path)
            out.append("/" + path.replace("\\", ""))
    return out


# The sign-in forms are open to anyone, and hold nothing. The API's description (its schema
# and the page that reads it) holds no data, and its public figures are the public pages'
# own (docs/api.md); tests/test_api.py checks those answer only for published places.
OPEN_WITHOUT_SIGN_IN = (
    "/public/",
    "/accounts/login/",
    "/admin/login/",
    "/api/v1/openapi.json",
    "/api/v1/docs",
    "/api/v1/public",
    # Operations endpoints (tests/test_operations_endpoints.py): /healthz and /readyz say
    # only "ok" or which check fails, for balancers; /metrics answers the test client only
    # because it comes from loopback (anyone else needs GVRS_METRICS_TOKEN, else 404).
    "/healthz",
    "/readyz",
    "/metrics",
)


def test_nothing_outside_public_answers_an_anonymous_visitor(client, town):
    paths = _paths()
    assert len(paths) > 30 and "/public/x/" in paths
    for path in paths:
        if path.startswith(OPEN_WITHOUT_SIGN_IN):
            continue
        response = client.get(path, follow=True)
        if response.redirect_chain:
            # Sent on to a sign-in form, and only there.
            final = urlsplit(response.redirect_chain[-1][0]).path
            assert final in ("/accounts/login/", "/admin/login/"), (path, final)
        else:
            # 401: the API asks for a token, as an API does, instead of redirecting.
            allowed = (401, 403, 404, 405) if path.startswith("/api/") else (403, 404, 405)
            assert response.status_code in allowed, (path, response.status_code)


def test_a_place_with_no_whole_month_says_so(client):
    town, _ = make_random_town(
        2, name="Newtown", first=dt.date(2023, 8, 3), through=dt.date(2023, 8, 20)
    )
    page = client.get(f"/public/{town.slug}/").content.decode()
    assert "The data do not yet cover a whole month." in page


def test_a_population_loaded_shows_at_once(client, town):
    from gvrs.incidents.models import Population

    rates = table_of(read_csv(client.get(f"/public/{town.slug}/data.csv").content), "rates")
    assert rates[("2021", "Population")] == "122021"
    Population.objects.filter(jurisdiction=town, year=2021).delete()
    Population.objects.create(jurisdiction=town, year=2021, population=250_000)
    rates = table_of(read_csv(client.get(f"/public/{town.slug}/data.csv").content), "rates")
    assert rates[("2021", "Population")] == "250000"


def test_a_place_without_areas_publishes_no_table_of_them(client, town):
    from gvrs.incidents.models import Area

    Area.objects.filter(jurisdiction=town).delete()
    latest = ImportRun.objects.latest("pk")
    latest.pk = None
    latest.save()  # as an import would, so the cached page is recomputed
    rows = read_csv(client.get(f"/public/{town.slug}/data.csv").content)
    assert not table_of(rows, "areas")
    assert table_of(rows, "age_group")


def test_another_process_change_shows_within_the_freshness_bound(client, town, monkeypatch):
    from gvrs.public import views

    # A queryset update sends no signal: what this process sees of another's write.
    monkeypatch.setattr(views, "FRESH_S", 3600.0)
    assert client.get(f"/public/{town.slug}/").status_code == 200
    PublicDashboard.objects.filter(jurisdiction=town).update(enabled=False)
    assert client.get(f"/public/{town.slug}/").status_code == 200  # the version is trusted
    monkeypatch.setattr(views, "FRESH_S", 0.0)  # the bound has passed
    assert client.get(f"/public/{town.slug}/").status_code == 404


def test_a_visitor_revalidating_a_current_copy_gets_304_until_it_changes(client, town):
    for url in (f"/public/{town.slug}/", f"/public/{town.slug}/data.csv"):
        first = client.get(url)
        etag = first["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again["ETag"] == etag
        assert "script-src 'self'" in again["Content-Security-Policy"]
        assert again["X-Frame-Options"] == "DENY"
        assert again["Cache-Control"].startswith("public") and not again.cookies
        other_year = client.get(url + "?year=2021", headers={"If-None-Match": etag})
        assert other_year.status_code == 200 and other_year["ETag"] != etag
    etags = {url: client.get(url)["ETag"] for url in (f"/public/{town.slug}/",)}
    dashboard = PublicDashboard.objects.get(jurisdiction=town)
    dashboard.threshold = 4
    dashboard.save()
    for url, etag in etags.items():
        changed = client.get(url, headers={"If-None-Match": etag})
        assert changed.status_code == 200 and changed["ETag"] != etag
        assert "fewer than 5" in changed.content.decode()
