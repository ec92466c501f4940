"""A role that may not see a page gets the same answer for every method (issue 24).

A page a role may not see answers it 404 (or 403, or the sign-in page for an anonymous
visitor), as a page that does not exist would. A wrong method used to get 405 "Method Not
Allowed" on some of them (``require_POST`` checked before the role), which says the page is
there. Every page of the site is tried here, as every persona, with real objects behind it: a
405 may only ever reach someone the page is for.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from gvrs.accounts import tokens
from gvrs.accounts.models import Organization
from gvrs.incidents.models import ImportJob, ImportRun, Incident
from gvrs.notifications.models import Kind, Subscription
from gvrs.partners import actions as partner_actions
from gvrs.public.models import PublicDashboard
from gvrs.reviews import actions
from gvrs.reviews.models import AlertDelivery, Group, Response, Review
from tests.partner_helpers import make_participant, make_program
from tests.review_helpers import area, county, import_rows, incident, make_group, shooting

pytestmark = pytest.mark.django_db
SHOT = "2026-03-06"


@pytest.fixture
def world(tmp_path, people):
    """One of everything a page can be about: a reviewed shooting with a response and an
    alert delivered to Partner A, designated groups, a published place, an import, and
    Partner A's participant with a plan and a referral to Partner B."""
    analyst = people["analyst"]
    with time_machine.travel(dt.datetime(2026, 3, 7, 18, tzinfo=dt.UTC), tick=False):
        import_rows(
            tmp_path,
            [shooting("S-1", SHOT, "East"), shooting("W-0", "2025-11-20", "West")],
        )
        eastside = make_group(analyst, "Eastside", "East", dt.date(2025, 9, 1))
        westside = make_group(analyst, "Westside", "West", dt.date(2025, 9, 1))
        actions.record_conflict(
            analyst, eastside, westside, kind="conflict", started_on=dt.date(2025, 1, 1)
        )
        actions.set_coverage(analyst, Organization.objects.get(name="Partner A"), [area("West")])
    review = Review.objects.get(incident=incident("S-1"))
    with time_machine.travel(dt.datetime(2026, 3, 9, 18, tzinfo=dt.UTC), tick=False):
        actions.complete_review(
            analyst,
            review,
            group_involvement="confirmed",
            evidence="Both groups named by witnesses",
            circumstance="group_conflict",
            victim_groups=[eastside],
            suspect_groups=[westside],
            retaliation_risk="high",
            risk_reason="Eastside has struck back within days before",
        )
        response = actions.add_response(
            analyst,
            review,
            kind=Response.Kind.OUTREACH_VISIT,
            owner="Partner A",
            due_at=dt.datetime(2026, 3, 10, 18, tzinfo=dt.UTC),
        )
    PublicDashboard.objects.create(jurisdiction=county(), enabled=True)
    program = make_program(people["partner"], "Partner A")
    make_program(people["outsider"], "Partner B", name="Mentoring", kind="mentoring")
    person = make_participant(people["partner"], program, "Dana Example")
    plan = partner_actions.start_life_plan(people["partner"], person, [("education", "GED", None)])
    referral = partner_actions.send_referral(
        people["partner"], person, Organization.objects.get(name="Partner B"), reason="housing"
    )
    run = ImportRun.objects.first()
    job = ImportJob.objects.create(
        user=analyst, folder=str(tmp_path), file_name="x.csv", state=ImportJob.State.FAILED
    )
    place = county().slug
    pk = {
        "incidents-detail": Incident.objects.first().pk,
        "incidents-import-job": job.pk,
        "incidents-import-detail": run.pk,
        "partners-plan": plan.pk,
        "partners-referral": referral.pk,
        "reviews-response": response.pk,
        "reviews-designate": Group.objects.get(name="Westside").pk,
        "reviews-inbox-read": AlertDelivery.objects.get().pk,
        "accounts-token-revoke": tokens.create_token(analyst, "reports", 30).token.pk,
        "notifications-unsubscribe": Subscription.objects.create(
            user=analyst, place=county(), kind=Kind.OVERDUE_REVIEW
        ).pk,
    }
    return {"pk": pk, "person": person.pk, "review": review.pk, "place": place}


def _patterns(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    """Every named page of the site, as (name for ``reverse``, pattern)."""
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":  # Django's admin: staff only, its own sign-in page
                continue
            if entry.namespace == "api":
                # The read API's operations are listed in its public OpenAPI schema: its 405
                # says nothing the schema does not (and it answers 401 without a token).
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _patterns(entry, inner)
        elif entry.name:
            found.append((namespace + entry.name, entry))
    return found


def _url(name: str, pattern: URLPattern, world) -> str:
    """The page ``name`` about the world's object of its kind (and its place, if it asks)."""
    keys = set(pattern.pattern.converters)
    if not keys:
        kwargs = {}
    elif keys == {"slug"}:
        kwargs = {"slug": world["place"]}
    elif keys == {"name"}:
        kwargs = {"name": "index"}
    elif keys == {"code"}:
        kwargs = {"code": "es"}  # the public pages' language switch
    elif name.startswith("partners-"):
        kwargs = {"pk": world["pk"].get(name, world["person"])}
    elif name in ("reviews-review", "reviews-response-add", "reviews-plan"):
        kwargs = {"pk": world["review"]}
    else:
        # A page about an object the world does not hold is tried with one that does not
        # exist: it must then answer 404 to every method (the object before the method).
        kwargs = {"pk": world["pk"].get(name, 2**31 - 1)}
    return reverse(name, kwargs=kwargs) + f"?place={world['place']}"


def _refused(response) -> bool:
    """The answer a page that does not exist, or is not yours, gives."""
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "")
    return response.status_code == 302 and location.startswith(reverse("accounts-login") + "?next=")


PERSONAS = ["anonymous", "admin", "analyst", "police", "partner", "colleague", "outsider"]
PERSONAS += ["viewer", "superuser"]


@pytest.mark.parametrize("who", PERSONAS)
def test_a_wrong_method_on_a_page_you_may_not_see_gets_the_same_refusal(world, people, who):
    user = people.get(who)
    if who == "superuser":
        user = User.objects.create_superuser("root", password="x" * 20)
    client = Client()
    leaks, seen = [], 0
    for name, pattern in _patterns(get_resolver()):
        if user is not None:
            client.force_login(user)  # again: the sign-out page, posted to, signs out
        url = _url(name, pattern, world)
        first = client.get(url)
        seen += not _refused(first) and first.status_code != 405
        if first.status_code == 405:
            # A page for POST only: a 405 is right only for someone the page is for.
            if _refused(client.post(url)):
                leaks.append(f"{name}: GET 405, POST {client.post(url).status_code}")
        elif _refused(first):
            for method in ("post", "put", "delete"):
                answer = getattr(client, method)(url)
                if answer.status_code == 405:
                    leaks.append(f"{name}: GET {first.status_code}, {method.upper()} 405")
    assert not leaks, f"{who}: {leaks}"
    assert seen >= (3 if who == "anonymous" else 8), f"{who} saw only {seen} pages"
