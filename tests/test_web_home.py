"""The analyst's way in: sign-in lands on the place the deployment serves, a place finder
instead of a wall of links, the places inside a county with their latest figures, words a
reader can take in, and error pages that say what to do next."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction, PublishedCount
from gvrs.reports.models import SiteSettings
from gvrs.reports.places import outermost
from tests.importing_helpers import row, write_csv
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(tmp_path):
    """Kern County with Bakersfield and Delano inside; Bakersfield has incidents and both have
    published homicides for two years."""
    rows = [
        row(f"B-{i}", jurisdiction="Kern County > Bakersfield", occurred_at=f"2022-0{1 + i}-03")
        for i in range(4)
    ]
    rows.append(row("B-old", jurisdiction="Kern County > Bakersfield", occurred_at="2020-05-01"))
    assert import_file(write_csv(tmp_path / "kern.csv", rows), load_format("gvrs")).ok
    kern = Jurisdiction.objects.get(name="Kern County")
    delano = Jurisdiction.objects.create(name="Delano", slug="delano", parent=kern)
    bakersfield = Jurisdiction.objects.get(name="Bakersfield")
    for place, counts in ((bakersfield, {2021: 60, 2022: 38}), (delano, {2021: 1, 2022: 3})):
        for year, count in counts.items():
            PublishedCount.objects.create(
                jurisdiction=place,
                metric="homicides",
                period_start=f"{year}-01-01",
                period_end=f"{year}-12-31",
                count=count,
                source="ca-doj-crimes-clearances",
            )
    Jurisdiction.objects.create(
        name="Fresno County", slug="fresno-county", state="CA", parent=kern.parent
    )
    return kern


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_sign_in_lands_on_the_home_jurisdiction_named_in_the_environment(people, county, settings):
    settings.GVRS_HOME_JURISDICTION = "Bakersfield"
    client = Client()
    response = client.post(
        reverse("accounts-login"), {"username": "ana", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(
        "reports-jurisdiction", kwargs={"slug": "bakersfield"}
    )


def test_the_admins_choice_of_home_wins_over_the_environment(people, county, settings):
    settings.GVRS_HOME_JURISDICTION = "Bakersfield"
    SiteSettings.objects.create(home_jurisdiction=county)
    response = signed_in(people["viewer"]).get(reverse("reports-overview"))
    assert response.url == reverse("reports-jurisdiction", kwargs={"slug": county.slug})


def test_without_a_home_the_overview_is_a_place_finder(people, county, settings):
    settings.GVRS_HOME_JURISDICTION = ""
    page = signed_in(people["analyst"]).get(reverse("reports-overview")).content.decode()
    assert 'type="search"' in page
    # The outermost places: a registry of one state lists its counties.
    tops = list(outermost().values_list("name", flat=True))
    assert sorted(tops) == ["Fresno County", "Kern County"]
    assert all(name in page for name in tops)


def test_the_place_finder_shows_each_match_with_its_path(people, county):
    client = signed_in(people["analyst"])
    page = client.get(reverse("reports-places"), {"q": "bakers"}).content.decode()
    assert "Bakersfield</a>" in page
    path = page.split("Bakersfield</a>")[1].split("</li>")[0]
    assert path.rstrip().endswith("Kern County</span>")  # "... in California > Kern County"
    partial = client.get(reverse("reports-places"), {"q": "bakers"}, HTTP_HX_REQUEST="true")
    assert "Bakersfield" in partial.content.decode()
    assert "<html" not in partial.content.decode()  # htmx swaps just the results in
    none = client.get(reverse("reports-places"), {"q": "Gotham"}).content.decode()
    assert "No place has a name containing" in none


def test_places_inside_a_county_carry_their_latest_figures(people, county):
    page = (
        signed_in(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": county.slug}))
        .content.decode()
    )
    assert 'data-testid="places-inside"' in page
    table = page.split('data-testid="places-inside"')[1]
    bakersfield = table.split("Bakersfield</a>")[1].split("</tr>")[0]
    assert "38" in bakersfield and "(2022)" in bakersfield
    # 12 months to the latest incident (2022-04-03): the four 2022 incidents, not 2020's.
    assert ">4<" in bakersfield.replace(" ", "")
    assert "12 months to 3 Apr 2022" in table
    delano = table.split("Delano</a>")[1].split("</tr>")[0]
    assert "no incident data" in delano  # no incident source covers Delano: not a zero


def test_sources_are_named_by_their_titles(people, county):
    page = (
        signed_in(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": "bakersfield"}))
        .content.decode()
    )
    assert "California DOJ OpenJustice, Crimes and Clearances" in page


def test_a_change_within_ordinary_variation_is_not_coloured(people, county):
    page = (
        signed_in(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": "delano"}))
        .content.decode()
    )
    # Delano: 1 -> 3 homicides, p well above 0.05
    assert 'class="tile flat"' in page
    assert 'class="tile up"' not in page


@pytest.mark.parametrize(
    ("who", "url", "status", "says"),
    [
        ("analyst", "/no/such/page/", 404, "That page is not here"),
        ("viewer", "/incidents/imports/", 403, "Your role does not allow this page"),
    ],
)
def test_error_pages_say_what_to_do_in_the_sites_style(people, who, url, status, says):
    response = signed_in(people[who]).get(url)
    assert response.status_code == status
    page = response.content.decode()
    assert says in page
    assert "site.css" in page and "Go to the overview" in page


def test_the_server_error_page_needs_no_context_and_tells_what_to_do():
    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert "administrator" in page


def test_a_place_known_from_published_counts_gets_a_tile_per_published_series(people, county):
    delano = Jurisdiction.objects.get(name="Delano")
    for year, count in {2021: 140, 2022: 151}.items():
        PublishedCount.objects.create(
            jurisdiction=delano,
            metric="violent_crimes",
            period_start=f"{year}-01-01",
            period_end=f"{year}-12-31",
            count=count,
            source="ca-doj-crimes-clearances",
        )
    page = (
        signed_in(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": "delano"}))
        .content.decode()
    )
    assert 'data-metric="homicides"' in page and 'data-metric="violent_crimes"' in page


def test_a_metric_with_no_series_says_so_and_names_what_the_place_holds(people, county):
    page = (
        signed_in(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": "delano"}), {"metric": "shootings"})
        .content.decode()
    )
    assert 'data-testid="no-data"' in page
    assert "No data on people shot for Delano." in page
    assert "published counts of homicides" in page


def test_a_sources_codes_are_shown_as_its_labels(people, tmp_path):
    from gvrs.incidents.models import Incident

    rows = [row("R-1", victim_race="B", jurisdiction="Philadelphia")]
    mapping = load_format("philly-shootings")
    assert mapping.labels["victim_race"]["B"] == "Black"
    import_file(write_csv(tmp_path / "r.csv", rows), load_format("gvrs"))
    incident = Incident.objects.get(source_id="R-1")
    Incident.objects.filter(pk=incident.pk).update(source=mapping.source)
    assert incident.people.get().race_ethnicity == "B"  # stored as the source wrote it
    page = (
        signed_in(people["analyst"])
        .get(reverse("incidents-detail", kwargs={"pk": incident.pk}))
        .content.decode()
    )
    assert "<td>Black</td>" in page


def test_a_county_known_only_from_published_counts_lists_its_places(people, tmp_path):
    kern = Jurisdiction.objects.create(name="Inyo County", slug="inyo-county")
    bishop = Jurisdiction.objects.create(name="Bishop", slug="bishop", parent=kern)
    PublishedCount.objects.create(
        jurisdiction=bishop,
        metric="homicides",
        period_start="2022-01-01",
        period_end="2022-12-31",
        count=2,
        source="ca-doj-crimes-clearances",
    )
    page = (
        signed_in(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": "inyo-county"}))
        .content.decode()
    )
    row = page.split("Bishop</a>")[1].split("</tr>")[0]
    assert "(2022)" in row and "no incident data" in row
