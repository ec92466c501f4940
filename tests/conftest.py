"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
GVRS_DATABASE_URL names one (``make test`` does both passes, the second with
GVRS_DATABASE_URL=$GVRS_TEST_POSTGRES_URL)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.personas", "tests.api_helpers", "tests.delivery_helpers"]

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PHILLY = SHARED_DATA / "philly-shooting-victims" / "philly_shooting_victims_2015_2025.csv.gz"
NYPD = SHARED_DATA / "nypd-shooting-incidents" / "NYPD_Shooting_Incident_Data_Historic.csv.gz"
CA_DOJ = (
    SHARED_DATA / "ca-doj-crimes-clearances" / "crimes_and_clearances_with_arson_1985_2022.csv.gz"
)
POSTGRES_HINT = (
    "PostgreSQL is not reachable at {url}: start it, or set GVRS_TEST_POSTGRES_URL "
    "(make test) or GVRS_DATABASE_URL (pytest) to a server where tests may create a database"
)


def _postgres_problem(url: str) -> str | None:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"{POSTGRES_HINT.format(url=url)} ({exc.__class__.__name__})"
    return None


def pytest_configure(config) -> None:
    from django.conf import settings

    config._gvrs_engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    if config._gvrs_engine == "postgresql":
        config._gvrs_postgres_problem = _postgres_problem(os.environ["GVRS_DATABASE_URL"])


def pytest_collection_modifyitems(config, items) -> None:
    _every_database(items)
    problem = getattr(config, "_gvrs_postgres_problem", None)
    if problem:
        skip = pytest.mark.skip(reason=problem)
        for item in items:
            item.add_marker(skip)


def _every_database(items) -> None:
    """A test that uses the database uses all of them: on SQLite, sessions, sign-in
    attempts, the audit log and the cache are in a database of their own (``activity``,
    gvrs.accounts.router), which pytest-django would otherwise refuse to a test."""
    for item in items:
        marker = item.get_closest_marker("django_db")
        fixtures = set(getattr(item, "fixturenames", ()))
        if marker is None and not fixtures & {"db", "transactional_db", "live_server"}:
            continue
        kwargs = dict(marker.kwargs) if marker is not None else {}
        if "databases" in kwargs:
            continue
        if marker is None:
            kwargs["transaction"] = bool(fixtures & {"transactional_db", "live_server"})
        # First among the item's own markers, so it is the closest one (a test's own
        # @pytest.mark.django_db would otherwise be found before it).
        item.add_marker(
            pytest.mark.django_db(*(marker.args if marker else ()), databases="__all__", **kwargs),
            append=False,
        )


def pytest_report_header(config) -> str:
    return f"gvrs database engine: {getattr(config, '_gvrs_engine', '?')}"


def require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"test data missing: {path} (the shared/ folder sits beside the checkout)")
    return path


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Tests create many users; a deliberately slow hash would dominate the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    """Each test's web uploads in its own folder, so none sees another's."""
    settings.UPLOAD_ROOT = tmp_path / "uploads"


@pytest.fixture(autouse=True)
def _fixed_disclosure_key(settings):
    """Every run perturbs with the same deployment key, so a test that reads perturbed
    figures sees the same ones on every machine: derived from each run's fresh secret key,
    a test that needs some count moved would pass or fail by the draw of that key."""
    settings.GVRS_DISCLOSURE_KEY = "the test suite's deployment key"


@pytest.fixture(autouse=True)
def _california_deployment(settings):
    """The suite's files name no state unless a test says otherwise: a California
    deployment (GVRS_DEFAULT_STATE=CA), as the bundled data are."""
    settings.GVRS_DEFAULT_STATE = "CA"
