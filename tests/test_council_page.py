"""The Reports page: open to the administrator and the analysts, refused to everyone else; the
report previewed in the page and downloaded as a PDF; a period outside the coverage refused."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from tests.council_helpers import make_town

pytestmark = pytest.mark.django_db
ROLES = ["admin", "analyst", "police", "partner", "colleague", "outsider", "viewer"]
ALLOWED = {"admin", "analyst", "police"}
QUERY = {"place": "Bakersfield", "period": "2022", "vs": "2021"}


@pytest.fixture
def town(tmp_path):
    return make_town(tmp_path)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("name", "status"), [("council-report", 200), ("council-report-pdf", 400)])
@pytest.mark.parametrize("role", ROLES)
def test_the_reports_pages_are_open_exactly_to_the_analysts(people, name, status, role):
    """Unasked, the page is its form and the PDF a bad request; refused roles get 403 before
    anything is computed."""
    response = client_for(people[role]).get(reverse(name))
    assert response.status_code == (status if role in ALLOWED else 403), (role, name)


@pytest.mark.parametrize("name", ["council-report", "council-report-pdf"])
def test_anonymous_visitors_are_sent_to_sign_in(name):
    response = Client().get(reverse(name), QUERY)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts-login"))


def test_the_page_previews_the_report_and_links_its_pdf(people, town):
    client = client_for(people["analyst"])
    page = client.get(reverse("council-report"), QUERY).content.decode()
    assert "Shooting incidents fell 7%, from 150 in 2021 to 140 in 2022" in page
    assert "A comparison of before and after is not evidence" in page
    assert 'data-testid="pdf-link"' in page
    assert reverse("council-report-pdf") + "?place=Bakersfield&amp;period=2022&amp;vs=2021" in page
    response = client.get(reverse("council-report-pdf"), QUERY)
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="gvrs-report-bakersfield-2022.pdf"'
    )
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages).split()
    )
    assert "Shooting incidents fell 7%, from 150 in 2021 to 140 in 2022" in text


def test_a_period_outside_the_coverage_is_refused_on_the_page(people, town):
    client = client_for(people["police"])
    page = client.get(reverse("council-report"), {"place": "Bakersfield", "period": "2024"})
    assert page.status_code == 200
    assert "no data to publish for 2024 in Bakersfield" in page.content.decode()
    assert "data through 30 Jun 2023" in page.content.decode()
    assert 'data-testid="pdf-link"' not in page.content.decode()
    pdf = client.get(reverse("council-report-pdf"), {"place": "Bakersfield", "period": "2024"})
    assert pdf.status_code == 409
    assert pdf["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"place": "Atlantis", "period": "2022"}, "No place called &#x27;Atlantis&#x27;; the"),
        # A misspelt place: the form offers the name it could have meant.
        ({"place": "Bakersfeld", "period": "2022"}, "did you mean &#x27;Bakersfield&#x27;?"),
        ({"place": "Bakersfield", "period": "22"}, "&#x27;22&#x27; is not a period"),
        ({"place": "Bakersfield", "period": "2022", "baseline": "19"}, "greater than or equal"),
    ],
)
def test_bad_input_is_a_clear_message(people, town, query, message):
    page = client_for(people["admin"]).get(reverse("council-report"), query).content.decode()
    assert message in page
    assert 'data-testid="pdf-link"' not in page


def test_the_overview_links_to_the_report_for_those_who_may_make_it(people, town):
    url = reverse("reports-jurisdiction", kwargs={"slug": town.slug})
    link = f"{reverse('council-report')}?place={town.slug}"
    assert link in client_for(people["analyst"]).get(url).content.decode()
    assert link not in client_for(people["viewer"]).get(url).content.decode()


def test_the_places_workload_file_is_used_and_a_bad_one_is_named(
    people, town, tmp_path, monkeypatch
):
    monkeypatch.setenv("GVRS_HOME", str(tmp_path))
    client = client_for(people["analyst"])
    (tmp_path / "workload.toml").write_text(
        '[workload]\nofficers = [2, 4]\nhours = [1, 1]\nsource = "Bakersfield PD"\n',
        encoding="utf-8",
    )
    page = client.get(reverse("council-report"), QUERY).content.decode()
    assert "140 shootings × 2–4 officers × 1 hours = 280–560 officer-hours" in page
    assert "(Bakersfield PD)" in page
    (tmp_path / "workload.toml").write_text("[workload]\nofficers = 'many'\n", encoding="utf-8")
    page = client.get(reverse("council-report"), QUERY).content.decode()
    assert "workload.toml: [workload] officers: give [low, high] as two numbers" in page
    assert 'data-testid="pdf-link"' not in page
