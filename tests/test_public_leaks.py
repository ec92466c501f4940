"""A crawl of every public URL over real imported data that holds what must never be
published: incident IDs, block addresses, coordinates, partner organizations' work and counts
under the threshold. The crawl starts at /public/, follows every link and asset the pages name
(and every year the page offers), and reads the HTML, the CSV and the charts' JSON."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from urllib.parse import urljoin, urlsplit

import pandas as pd
import pytest
from django.core.management import call_command

from gvrs.accounts.models import Organization
from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident, Jurisdiction
from gvrs.partners.demo import build_partner_demo
from gvrs.partners.models import Program
from gvrs.public.models import PublicDashboard
from tests.public_helpers import read_csv

pytestmark = pytest.mark.django_db
THRESHOLD = 10


@pytest.fixture
def published_town(tmp_path):
    """The simulated small town, imported from its canonical file with a block address on
    every incident, its neighbourhoods and populations loaded, and two partner organizations
    at work; its dashboard published."""
    city = simulate("small-town", years=(2019, 2022), seed=3)
    paths = write_city(city, tmp_path / "sim")
    frame = pd.read_csv(paths["incidents.csv"], dtype=str, keep_default_na=False)
    # One address per incident (its rows, one per victim, agree).
    number = frame["source_id"].astype("category").cat.codes
    frame["block_address"] = [f"{100 + k % 50}00 BLOCK OF QZXW{k} AVE" for k in number]
    frame.to_csv(paths["incidents.csv"], index=False)
    report = import_file(paths["incidents.csv"], load_format("gvrs"), state="CA")
    assert report.ok, report
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        state="CA",
        stdout=io.StringIO(),
    )
    call_command("populations", str(paths["populations.csv"]), state="CA", stdout=io.StringIO())
    build_partner_demo(
        paths["incidents.csv"].parent, county=city.scenario.county, password="x" * 16
    )
    town = Jurisdiction.objects.get(name="Small Town")
    PublicDashboard.objects.create(jurisdiction=town, enabled=True, threshold=THRESHOLD)
    return town


def _crawl(client, start: str) -> dict[str, tuple[str, bytes]]:
    seen: dict[str, tuple[str, bytes]] = {}
    queue = [start]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        response = client.get(url)
        if url.startswith("/public/language/"):
            # The language switch publishes nothing: it sets the language cookie and goes
            # back to a public page (not followed, so the crawl stays in one language; the
            # Spanish page states the English one's figures: tests/test_public_spanish.py).
            assert response.status_code == 302, url
            assert response["Location"].startswith("/public/")
            client.cookies.pop("django_language", None)
            continue
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, (url, response.status_code)
        seen[url] = (response["Content-Type"], body)
        if not response["Content-Type"].startswith("text/html"):
            continue
        page = body.decode()
        links = re.findall(r'(?:href|src)="([^"]+)"', page)
        links += [f"?year={y}" for y in re.findall(r'<option value="(\d{4})"', page)]
        for link in links:
            target = urljoin(url, unescape(link))
            parts = urlsplit(target)
            if parts.netloc or "/vendor/plotly/" in parts.path:
                continue  # Plotly's bundle is the installed package's, the same for everyone
            assert parts.path.startswith(("/public/", "/static/")), f"{url} links to {target}"
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen


def _figures(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """(where, text) of every published figure in a response: table cells, CSV values and
    the numbers each chart draws."""
    out = []
    if content_type.startswith("text/csv"):
        for row in read_csv(body):
            if row["table"] != "about" and row["column"] not in ("Population", "Per 100,000"):
                out.append((f"csv {row['table']} {row['row']} {row['column']}", row["value"]))
        return out
    if not content_type.startswith("text/html"):
        return out
    page = body.decode()
    for key, table in re.findall(r'data-table="([a-z_]+)">(.*?)</table>', page, re.S):
        for row in re.findall(r"<tr.*?</tr>", table, re.S)[1:]:
            cells = re.findall(r'<td class="num [a-z]+">([^<]*)</td>', row)
            if key == "rates":
                cells = cells[:1]  # the count; population and rate are not counts of people
            out += [(f"html {key}", c.replace(",", "")) for c in cells]
    for name, data in re.findall(
        r'<script id="(chart-\w+)" type="application/json">(.*?)</script>', page, re.S
    ):
        for trace in json.loads(data)["data"]:
            if trace.get("name", "").startswith("suppressed"):
                # The suppressed areas' trace: one flat colour, every label "fewer than" or
                # "suppressed", never a count.
                assert set(trace.get("text", [])) <= {f"fewer than {THRESHOLD + 1}", "suppressed"}
                continue
            for value in trace.get("y", []) if trace["type"] == "bar" else trace.get("z", []):
                out.append((f"chart {name}", "" if value is None else str(value)))
    return out


def test_no_public_response_holds_a_record_a_location_or_a_small_count(client, published_town):
    pages = _crawl(client, "/public/")
    urls = set(pages)
    assert f"/public/{published_town.slug}/" in urls
    assert any(u.endswith("data.csv") for u in urls) and any("year=" in u for u in urls)
    incidents = list(
        Incident.objects.filter(jurisdiction_id__in=published_town.descendant_ids()).values_list(
            "source_id", "block_address", "latitude", "longitude"
        )
    )
    assert len(incidents) > 50 and all(address for _, address, _, _ in incidents)
    secrets = {sid for sid, _, _, _ in incidents if len(sid) >= 5}
    secrets |= {address for _, address, _, _ in incidents}
    for _, _, lat, lon in incidents:
        if lat is not None:
            secrets |= {repr(lat), repr(lon), f"{lat:.5f}", f"{lon:.5f}"}
    partner_names = set(
        Organization.objects.filter(kind=Organization.Kind.PARTNER).values_list("name", flat=True)
    )
    partner_names |= set(Program.objects.values_list("name", flat=True))
    assert partner_names
    figures = 0
    for url, (content_type, body) in pages.items():
        text = body.decode(errors="replace")
        for secret in secrets | partner_names:
            assert secret not in text, f"{url} holds {secret!r}"
        for where, value in _figures(content_type, body):
            figures += 1
            if value.isdigit():
                assert not 1 <= int(value) <= THRESHOLD, f"{url}: {where} shows {value}"
            else:
                assert value in (f"fewer than {THRESHOLD + 1}", "suppressed", "no data", ""), (
                    url,
                    where,
                    value,
                )
    assert figures > 200
    # The control: the records scanned for are really in the registry, and small counts are
    # really there to hide.
    html = pages[f"/public/{published_town.slug}/"][1].decode()
    assert "fewer than 11" in html


def test_the_public_map_draws_areas_never_points(client, published_town):
    page = client.get(f"/public/{published_town.slug}/").content.decode()
    data = re.search(r'<script id="chart-map" type="application/json">(.*?)</script>', page, re.S)
    assert data, "the town's neighbourhoods have boundaries: the page has a map"
    traces = json.loads(data.group(1))["data"]
    assert traces and {t["type"] for t in traces} == {"choroplethmap"}
