"""Every page, for every role: who may see it, who is refused, CSRF on every form, and
restricted fields that never leak."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from gvrs.accounts.models import AuditEvent
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import ImportJob, ImportRun, Incident
from tests.importing_helpers import HEADER, row, write_csv
from tests.jobs_helpers import run_queued_tasks
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db
SECRET_ADDRESS = "1200 block of Secret St"


@pytest.fixture
def registry(tmp_path):
    rows = [
        row("A-1", occurred_at="2021-03-04T21:15", block_address=SECRET_ADDRESS),
        row("A-2", occurred_at="2022-05-01"),
        row("B-1", kind="nonfatal_shooting", killed="0", injured="1", occurred_at="2022-06-01"),
    ]
    header = [*HEADER, "block_address"]
    report = import_file(write_csv(tmp_path / "in.csv", rows, header=header), load_format("gvrs"))
    assert report.ok
    return Incident.objects.get(source_id="A-1")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# (url name, kwargs builder, roles allowed)
PAGES = [
    (
        "reports-overview",
        None,
        {"admin", "analyst", "police", "partner", "colleague", "outsider", "viewer"},
    ),
    (
        "reports-jurisdiction",
        lambda i: {"slug": i.jurisdiction.slug},
        {"admin", "analyst", "police", "partner", "colleague", "outsider", "viewer"},
    ),
    ("incidents-list", None, {"admin", "analyst", "police", "viewer"}),
    ("incidents-detail", lambda i: {"pk": i.pk}, {"admin", "analyst", "police", "viewer"}),
    ("incidents-imports", None, {"admin", "analyst", "police"}),
    (
        "incidents-import-detail",
        lambda i: {"pk": ImportRun.objects.first().pk},
        {"admin", "analyst", "police"},
    ),
    ("incidents-import-upload", None, {"admin", "analyst", "police"}),
]
ROLES = ["admin", "analyst", "police", "partner", "colleague", "outsider", "viewer"]


@pytest.mark.parametrize(("name", "kwargs", "allowed"), PAGES)
@pytest.mark.parametrize("role", ROLES)
def test_each_page_is_open_exactly_to_its_roles(people, registry, name, kwargs, allowed, role):
    url = reverse(name, kwargs=kwargs(registry) if kwargs else None)
    response = client_for(people[role]).get(url)
    if role in allowed:
        assert response.status_code in (200, 302), (role, url, response.status_code)
    else:
        assert response.status_code in (403, 404), (role, url, response.status_code)


@pytest.mark.parametrize(("name", "kwargs", "allowed"), PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(registry, name, kwargs, allowed):
    url = reverse(name, kwargs=kwargs(registry) if kwargs else None)
    response = Client().get(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts-login"))


def test_restricted_fields_reach_only_the_roles_allowed(people, registry):
    url = reverse("incidents-detail", kwargs={"pk": registry.pk})
    assert SECRET_ADDRESS in client_for(people["police"]).get(url).content.decode()
    for role in ("analyst", "viewer"):
        page = client_for(people[role]).get(url).content.decode()
        assert SECRET_ADDRESS not in page
        assert "Block address" not in page
    listing = client_for(people["viewer"]).get(reverse("incidents-list")).content.decode()
    assert SECRET_ADDRESS not in listing
    assert AuditEvent.objects.filter(action="view", object_id=str(registry.pk)).count() == 3


def test_every_form_refuses_a_post_without_a_csrf_token(people, tmp_path):
    client = Client(enforce_csrf_checks=True)
    assert (
        client.post(
            reverse("accounts-login"), {"username": "ana", "password": PASSWORD}
        ).status_code
        == 403
    )
    client.force_login(people["analyst"])
    for name in (
        "incidents-import-upload",
        "incidents-import-confirm",
        "accounts-password-change",
        "accounts-logout",
    ):
        assert client.post(reverse(name), {}).status_code == 403, name


def test_sign_in_is_throttled_after_five_failures(people):
    client = Client()
    for attempt in range(5):
        response = client.post(reverse("accounts-login"), {"username": "ana", "password": "wrong"})
        assert response.status_code == (429 if attempt == 4 else 200)  # locked at the fifth
    response = client.post(reverse("accounts-login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_good_password_signs_in_and_lands_on_the_overview(people):
    client = Client()
    response = client.post(reverse("accounts-login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302 and response.url == reverse("reports-overview")


def test_overview_shows_tiles_with_the_engines_sentences(people, registry):
    page = (
        client_for(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": registry.jurisdiction.slug}))
        .content.decode()
    )
    assert 'data-metric="homicides"' in page
    # 2022 is over: its window is shown as such, never "so far", with the data's coverage.
    assert "Homicides" in page and "in 2022 to 1 Jun" in page and "so far" not in page
    assert "Data through 1 Jun 2022" in page
    assert 'data-chart="chart-annual"' in page
    assert "<script>" not in page  # no inline script: the page works under a strict CSP


def test_a_dashboard_cached_by_another_release_is_not_served(people, registry, monkeypatch):
    from gvrs.reports import views

    built = []
    real_build = views.build
    monkeypatch.setattr(views, "build", lambda *a, **k: built.append(1) or real_build(*a, **k))
    url = reverse("reports-jurisdiction", kwargs={"slug": registry.jurisdiction.slug})
    client = client_for(people["analyst"])
    client.get(url)
    client.get(url)
    assert len(built) == 1  # the second view came from the cache
    monkeypatch.setattr(views, "CODE_VERSION", "an upgrade")
    client.get(url)
    assert len(built) == 2


def test_the_worker_computes_the_landing_dashboard_before_the_first_visit(
    people, registry, monkeypatch, settings
):
    from gvrs.reports import views
    from gvrs.reports.warm import warm_soon

    settings.GVRS_HOME_JURISDICTION = registry.jurisdiction.name
    built = []
    real_build = views.build
    monkeypatch.setattr(views, "build", lambda *a, **k: built.append(k) or real_build(*a, **k))
    warm_soon()  # as `gvrs serve` does at start, and an import through the web when it ends
    assert run_queued_tasks(warm_ups=True) == 1
    assert sorted(k["level"] for k in built) == ["cells", "exact", "perturbed"]
    for role in ("analyst", "police", "partner"):  # cells, exact, perturbed
        page = client_for(people[role]).get(reverse("reports-overview"), follow=True)
        assert 'data-chart="chart-annual"' in page.content.decode()
    assert len(built) == 3  # every visit came from the cache


def test_serve_computes_the_landing_dashboard_before_it_listens(
    people, registry, monkeypatch, settings
):
    """Queued for the worker, the warm-up raced the first visit; the server now does it itself,
    with every view imported, before the development server (or gunicorn) starts."""
    from django.core.management import call_command

    from gvrs.operations.management.commands import serve
    from gvrs.reports import views

    settings.GVRS_HOME_JURISDICTION = registry.jurisdiction.name
    settings.COMPRESSED_STATIC = True
    events = []
    real_build = views.build
    monkeypatch.setattr(
        views, "build", lambda *a, **k: events.append("build") or real_build(*a, **k)
    )
    monkeypatch.setattr(serve, "preload", lambda: events.append("preload"))
    monkeypatch.setattr(serve, "collect_static_if_changed", lambda: events.append("collect"))
    monkeypatch.setattr(serve, "start_worker", lambda stdout: None)
    monkeypatch.setattr(serve, "call_command", lambda *a, **k: events.append("listen"))
    call_command("serve", "--port", "8799")
    # The static files' manifest first (preload reads it), the three levels, then listen.
    assert events == ["collect", "preload", "build", "build", "build", "listen"]
    for role in ("analyst", "viewer", "police", "partner"):
        page = client_for(people[role]).get(reverse("reports-overview"), follow=True)
        assert 'data-chart="chart-annual"' in page.content.decode()
    assert events.count("build") == 3  # every visit came from the cache


def test_preloading_imports_every_view_before_the_first_request():
    """What gunicorn's --preload and the development server load before they listen."""
    import subprocess
    import sys

    script = (
        "import sys, django; django.setup(); "
        "from gvrs.operations.preload import preload; preload(); "
        "print(all(m in sys.modules for m in ('gvrs.council.views', "
        "'gvrs.partners.views', 'gvrs.public.views', 'plotly.graph_objects')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "True"


def test_pages_send_a_strict_content_security_policy(people):
    response = client_for(people["analyst"]).get(reverse("reports-overview"))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-eval" not in policy


def _upload(client, path, **fields):
    """Upload ``path``, run the queued preview as the worker would, return the job's page."""
    with open(path, "rb") as fh:
        response = client.post(
            reverse("incidents-import-upload"), {"file": fh, "format": "detect", **fields}
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert run_queued_tasks() == 1
    return client.get(response.url).content.decode()


def test_upload_preview_lists_errors_and_imports_nothing(people, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", [row("X-1", kind="stabbing"), row("X-2")])
    page = _upload(client_for(people["analyst"]), bad)
    assert "unknown kind &#x27;stabbing&#x27;" in page
    assert Incident.objects.count() == 0 and ImportRun.objects.count() == 0
    assert "Upload a corrected file" in page


def test_upload_preview_then_confirm_imports_and_is_audited(people, tmp_path):
    good = write_csv(tmp_path / "good.csv", [row("G-1"), row("G-2")])
    client = client_for(people["analyst"])
    page = _upload(client, good)
    assert "Importing would insert 2" in page
    assert Incident.objects.count() == 0
    job = ImportJob.objects.get()
    response = client.post(reverse("incidents-import-confirm"), {"job": job.pk})
    assert response.url == reverse("incidents-import-job", kwargs={"pk": job.pk})
    assert run_queued_tasks() == 1
    run = ImportRun.objects.get()
    assert client.get(response.url).url == reverse("incidents-import-detail", kwargs={"pk": run.pk})
    assert Incident.objects.count() == 2 and run.initiated_by == "ana"
    assert AuditEvent.objects.filter(action="import", user=people["analyst"]).exists()


def test_upload_preview_lists_new_places_and_refuses_a_look_alike(people, tmp_path):
    client = client_for(people["analyst"])
    new = write_csv(tmp_path / "new.csv", [row("N-1", jurisdiction="Kern County > Arvin")])
    page = _upload(client, new, state="CA")
    assert "Importing would create 3 new places" in page
    kern = "California &gt; Kern County"
    for path in ("California", kern, f"{kern} &gt; Arvin"):
        assert f"<li>{path}</li>" in page
    job = ImportJob.objects.get()
    client.post(reverse("incidents-import-confirm"), {"job": job.pk})
    assert run_queued_tasks() == 1
    run = ImportRun.objects.get()
    detail = client.get(reverse("incidents-import-detail", kwargs={"pk": run.pk})).content
    assert "3 new places" in detail.decode() and "Arvin (city, CA)" in detail.decode()
    alike = write_csv(tmp_path / "alike.csv", [row("L-1", jurisdiction="Fresno County > Arvin")])
    page = _upload(client, alike)
    assert "second &#x27;Arvin&#x27; (already: California &gt; Kern County &gt; Arvin)" in page
    page = _upload(client, alike, new_places="on")
    assert "<li>California &gt; Fresno County &gt; Arvin</li>" in page


def test_area_boundaries_load_and_the_map_shades_them(people, tmp_path):
    import io
    import json

    from django.core.management import call_command

    from gvrs.data.simulate import simulate
    from gvrs.data.simulate.output import write_city
    from gvrs.incidents.models import Area, Jurisdiction

    city = simulate("small-town", years=(2020, 2022), seed=4)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    out = io.StringIO()
    arguments = (str(paths["neighborhoods.geojson"]),)
    options = {"jurisdiction_field": "town", "parent": "Small County", "stdout": out}
    call_command("boundaries", *arguments, **options)
    call_command("boundaries", *arguments, **options)  # idempotent
    assert Area.objects.filter(boundary__isnull=False).count() == len(city.geography.neighborhoods)
    town = Jurisdiction.objects.get(name="Small Town")
    page = (
        client_for(people["analyst"])
        .get(reverse("reports-jurisdiction", kwargs={"slug": town.slug}))
        .content.decode()
    )
    start = page.index('id="chart-map"')
    figure = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    areas = [t for t in figure["data"] if t["type"] == "choroplethmap"]
    # The shapes are fetched once from their own versioned URL, not written into the page.
    shapes_url = areas[0]["geojson"]
    assert isinstance(shapes_url, str) and "?v=" in shapes_url
    shapes = client_for(people["analyst"]).get(shapes_url).json()
    drawn = {f["id"] for f in shapes["features"]}
    assert len(drawn) == len(city.geography.neighborhoods)
    # The largest areas are named over the map (charts.js writes meta.labels as HTML).
    labels = figure["layout"]["meta"]["labels"]
    assert labels and {name for name, _, _ in labels} <= set(
        named_areas := list(city.geography.neighborhoods["name"])
    )
    # Every area is on the map, shaded by its count or marked suppressed, named on hover.
    named = [name for t in areas for name in t["text"]]
    assert sorted(named) == sorted(named_areas)
    assert sum(len(t["locations"]) for t in areas) == len(drawn)


def test_boundaries_refuse_features_without_polygons(tmp_path, db):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "bad.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", '
        '"properties": {"name": "A"}, "geometry": {"type": "Point", '
        '"coordinates": [0, 0]}}]}'
    )
    with pytest.raises(CommandError, match="1 invalid features; nothing loaded"):
        call_command("boundaries", str(path), jurisdiction="Somewhere")
