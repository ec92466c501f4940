"""The low findings of issue 12: clear answers instead of errors, no caching of signed-in
pages, one-line logs for refused requests, no import file name for a viewer."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client
from django.urls import reverse

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(tmp_path) -> Incident:
    rows = [row("A-1", occurred_at="2021-03-04"), row("A-2", occurred_at="2022-05-01")]
    assert import_file(write_csv(tmp_path / "secret-export.csv", rows), load_format("gvrs")).ok
    return Incident.objects.get(source_id="A-1")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("day", ["1900-01-01", "9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("which", ["until", "since"])
def test_extreme_dashboard_dates_get_a_page_not_an_error(people, registry, day, which):
    client = client_for(people["analyst"])
    url = reverse("reports-jurisdiction", kwargs={"slug": registry.jurisdiction.slug})
    for role in ("analyst", "police"):
        response = client_for(people[role]).get(url, {which: day})
        assert response.status_code in (200, 400), (role, response.status_code)
    response = client.get(url, {which: day}, headers={"HX-Request": "true"})
    assert response.status_code in (200, 400)


def test_signed_in_pages_are_never_stored(people, registry):
    client = client_for(people["police"])
    for url in (
        reverse("incidents-detail", kwargs={"pk": registry.pk}),
        reverse("incidents-list"),
        reverse("reports-jurisdiction", kwargs={"slug": registry.jurisdiction.slug}),
    ):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response.headers["Cache-Control"], url


def test_a_refused_request_is_logged_in_one_line(people, registry):
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(type(f).__name__ == "NoTracebackBelow500" for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        response = client_for(people["partner"]).get(reverse("incidents-list"))
    finally:
        handler.setStream(previous)
    assert response.status_code == 403
    logged = stream.getvalue()
    assert "Forbidden" in logged and "Traceback" not in logged
    assert len(logged.strip().splitlines()) == 1


def test_a_viewer_does_not_see_the_import_file_name(people, registry):
    page = client_for(people["viewer"]).get(reverse("incidents-detail", kwargs={"pk": registry.pk}))
    assert "secret-export.csv" not in page.content.decode()
    page = client_for(people["police"]).get(reverse("incidents-detail", kwargs={"pk": registry.pk}))
    assert "secret-export.csv" in page.content.decode()
