"""The registry of strategy starts: ``gvrs strategies add/list/remove``, the administration,
and every design leaving out a place whose own strategy began inside its window."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.evaluation.models import Strategy
from tests.test_evaluate_command import county  # noqa: F401 - the simulated county fixture

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def evaluate(method: str) -> dict:
    return json.loads(
        run(
            "evaluate",
            "--jurisdiction=Treated City",
            "--metric=shootings",
            "--start=2022-01-01",
            f"--method={method}",
            "--format=json",
        )
    )


def test_a_place_whose_strategy_began_in_the_window_is_never_a_comparison(county):  # noqa: F811
    before = evaluate("did")
    assert "Comparison Town 1" in before["donors"]
    said = run(
        "strategies",
        "add",
        "--jurisdiction=Comparison Town 1",
        "--start=2021-06-01",
        "--what=Group violence intervention",
    )
    assert said.startswith("Added (id ")
    again = run(
        "strategies",
        "add",
        "--jurisdiction=Comparison Town 1",
        "--start=2021-06-01",
        "--what=Group violence intervention",
    )
    assert again.startswith("Already recorded") and Strategy.objects.count() == 1
    for method in ("did", "synth"):
        after = evaluate(method)
        assert "Comparison Town 1" not in after["donors"]
        assert after["donors_left_out"]["Comparison Town 1"] == (
            "its own strategy began 2021-06-01, inside the window"
        )
    # The treated place's own start never removes it.
    run("strategies", "add", "--jurisdiction=Treated City", "--start=2022-01-01", "--what=GVI")
    assert evaluate("did")["jurisdiction"] == "Treated City"
    listed = json.loads(run("strategies", "list", "--format=json"))
    assert [row["jurisdiction"] for row in listed] == ["Comparison Town 1", "Treated City"]
    assert listed[0]["start"] == "2021-06-01" and listed[0]["what"] == "Group violence intervention"
    run("strategies", "remove", str(listed[0]["id"]))
    assert "Comparison Town 1" in evaluate("did")["donors"]


def test_strategies_errors_name_the_problem(county):  # noqa: F811
    with pytest.raises(CommandError) as caught:
        run("strategies", "add", "--jurisdiction=Atlantis", "--start=2021-01-01", "--what=x")
    assert caught.value.returncode == 2 and "Atlantis" in str(caught.value)
    with pytest.raises(CommandError, match="no strategy start with id 999"):
        run("strategies", "remove", "999")


def test_the_administration_lists_and_adds_strategies(county):  # noqa: F811
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from gvrs.incidents.models import Jurisdiction

    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x" * 20))
    place = Jurisdiction.objects.get(name="Comparison Town 2")
    response = client.post(
        reverse("admin:evaluation_strategy_add"),
        {"jurisdiction": place.pk, "start": "2020-03-01", "description": "Ceasefire"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Strategy.objects.get().jurisdiction == place
    listing = client.get(reverse("admin:evaluation_strategy_changelist"))
    assert "Ceasefire" in listing.content.decode()


def test_registry_staggered_evaluates_every_recorded_start_and_the_page_draws_it(county):  # noqa: F811
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from gvrs.incidents.models import Jurisdiction

    run("strategies", "add", "--jurisdiction=Comparison Town 3", "--start=2021-01-01", "--what=x")
    out = evaluate("staggered")
    assert out["method"] == "staggered" and out["treated_places"] == 2
    assert [c["start"] for c in out["cohorts"]] == ["2021-01-01", "2022-01-01"]
    later = next(c for c in out["controls"] if c["start"] == "2022-01-01")["places"]
    assert "Comparison Town 3" not in later  # began 2021: never a control of the 2022 cohort
    earlier = next(c for c in out["controls"] if c["start"] == "2021-01-01")["places"]
    assert earlier["Treated City"]["through"] == "2021-12"  # not yet treated until 2022
    assert "only 2 treated places" in out["sentence"] and not out["claims_effect"]
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="x" * 20))
    place = Jurisdiction.objects.get(name="Treated City")
    url = reverse("evaluation-jurisdiction", kwargs={"slug": place.slug})
    page = client.get(url, {"metric": "shootings", "start": "2022-01-01", "method": "staggered"})
    html = page.content.decode()
    assert 'id="chart-events"' in html and "Adoption cohorts" in html
