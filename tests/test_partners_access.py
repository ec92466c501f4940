"""The data firewall as a role x view x record matrix: who may open every partner page and
record, and that everyone else gets the same 404 as for a record that does not exist; nothing
of A's in B's lists, search or counts except through a referral; no participant name or ID in
anything a police user can reach."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin, urlparse

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import get_resolver, reverse

from gvrs.partners import actions
from gvrs.partners.models import Participant, Referral
from tests.partner_helpers import make_participant, make_program

pytestmark = pytest.mark.django_db
ROLES = ["admin", "analyst", "police", "partner", "colleague", "outsider", "viewer", "anonymous"]
IN_A = {"partner", "colleague"}
PARTNERS = {"partner", "colleague", "outsider"}
FIGURES = {"admin", "analyst", "partner", "colleague", "outsider", "viewer"}
NAME_A = "Zebediah Quartermaine"
PHONE_A = "661-555-0199"
ADDRESS_A = "77 Juniper Hollow Rd"


@pytest.fixture
def casework(people):
    partner = people["partner"]
    program_a = make_program(partner, "Partner A", contact_standard_days=1)
    program_b = make_program(people["outsider"], "Partner B", name="Mentoring", kind="mentoring")
    person = make_participant(
        partner,
        program_a,
        NAME_A,
        phone=PHONE_A,
        address=ADDRESS_A,
        date_of_birth=dt.date(2003, 4, 17),
        simulated_person=770077,
    )
    actions.log_contact(
        partner,
        person,
        on=dt.date(2026, 1, 6),
        duration_minutes=20,
        kind="in_person",
        place="street",
        note="talked about the funeral",
    )
    plan = actions.start_life_plan(partner, person, [("employment", "welding course", None)])
    actions.record_service(partner, person, kind="employment", delivered_on=dt.date(2026, 1, 7))
    actions.record_outcome(
        partner,
        person,
        window_start=dt.date(2026, 1, 1),
        window_end=dt.date(2026, 3, 31),
        alive=True,
        not_shot=True,
        not_arrested_firearm=True,
        in_school_or_work=None,
    )
    return {"person": person, "plan": plan, "program_a": program_a, "program_b": program_b}


def client_for(people, role) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(people[role])
    return client


def _record_urls(casework, referral=None) -> list[tuple[str, str, str]]:
    """(method, url name, url) for every page that shows or changes one record of A's."""
    pk = casework["person"].pk
    urls = [
        ("get", "partners-participant", reverse("partners-participant", args=[pk])),
        ("get", "partners-participant-edit", reverse("partners-participant-edit", args=[pk])),
        ("get", "partners-plan", reverse("partners-plan", args=[casework["plan"].pk])),
    ]
    for name in (
        "partners-participant-edit",
        "partners-enrol",
        "partners-exit",
        "partners-consent",
        "partners-plan-new",
        "partners-service",
        "partners-outcome",
        "partners-refer",
    ):
        urls.append(("post", name, reverse(name, args=[pk])))
    urls.append(("post", "partners-plan", reverse("partners-plan", args=[casework["plan"].pk])))
    if referral is not None:
        urls.append(("get", "partners-referral", reverse("partners-referral", args=[referral.pk])))
    return urls


def _missing(url: str) -> str:
    """The same URL with a record number nobody has."""
    return re.sub(r"/\d+/", "/987654321/", url, count=1)


def _same_404(client, method, url) -> None:
    real = getattr(client, method)(url, {"reason": "completed", "on": "2026-01-01"})
    ghost = getattr(client, method)(_missing(url), {"reason": "completed", "on": "2026-01-01"})
    assert real.status_code == 404, url
    assert ghost.status_code == 404
    assert real.content == ghost.content, f"{url}: a refused record must look like a missing one"


@pytest.mark.parametrize("role", ROLES)
def test_every_record_of_a_is_allowed_in_a_and_the_same_404_for_everyone_else(
    people, casework, role
):
    client = client_for(people, role)
    for method, name, url in _record_urls(casework):
        if role == "anonymous":
            response = getattr(client, method)(url)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        elif role in IN_A:
            if method == "get":
                response = client.get(url)
                assert response.status_code == 200, name
                assert NAME_A in response.content.decode()
        else:
            _same_404(client, method, url)


@pytest.mark.parametrize("role", ROLES)
def test_partner_pages_open_only_to_partner_roles(people, casework, role):
    client = client_for(people, role)
    for name in (
        "partners-list",
        "partners-intake",
        "partners-contact",
        "partners-referrals",
        "partners-field",
        "partners-programs",
    ):
        response = client.get(reverse(name))
        if role == "anonymous":
            assert response.status_code == 302
        elif role in PARTNERS:
            assert response.status_code == 200, (role, name)
            assert (NAME_A in response.content.decode()) == (
                role in IN_A and name in ("partners-list", "partners-contact", "partners-field")
            ), (role, name)
        else:
            assert response.status_code == 404, (role, name)
    for name in ("partners-figures", "partners-equity"):
        response = client.get(reverse(name))
        expected = 302 if role == "anonymous" else 200 if role in FIGURES else 404
        assert response.status_code == expected, (role, name)
        assert NAME_A not in response.content.decode()


def test_b_sees_nothing_of_a_before_a_referral_and_only_what_it_carries_after(people, casework):
    outsider = client_for(people, "outsider")
    person = casework["person"]
    for url in (
        reverse("partners-list"),
        reverse("partners-list") + "?q=Zeb",
        reverse("partners-referrals"),
        reverse("partners-contact"),
        reverse("partners-figures"),
    ):
        assert NAME_A not in outsider.get(url).content.decode(), url
    assert (
        reverse("partners-participant", args=[person.pk])
        not in outsider.get(reverse("partners-list")).content.decode()
    )
    # B's exact section counts nothing of A's.
    figures = outsider.get(reverse("partners-figures")).content.decode()
    own = figures.split('data-scope="other partners')[0]
    assert 'data-scope="other partners' in figures
    assert "Partner A" not in own

    referral = actions.send_referral(
        people["partner"],
        person,
        person.program.organization.__class__.objects.get(name="Partner B"),
        reason="needs a mentor",
        needs="a job",
    )
    page = outsider.get(reverse("partners-referral", args=[referral.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert NAME_A in text and PHONE_A in text  # the consent covered name and phone
    assert ADDRESS_A not in text and "a job" not in text
    assert "2003-04-17" not in text and "17 Apr 2003" not in text  # either date style
    assert "funeral" not in text and "welding" not in text
    # Still the same 404 on A's own records.
    for method, _name, url in _record_urls(casework):
        _same_404(outsider, method, url)
    # The police, the analyst and the viewer still see neither.
    for role in ("police", "analyst", "viewer", "admin"):
        _same_404(client_for(people, role), "get", reverse("partners-referral", args=[referral.pk]))


def test_a_referral_without_consent_sends_nothing(people, casework):
    person = make_participant(
        people["partner"], casework["program_a"], "Nobody Shares", refer_fields=()
    )
    with pytest.raises(actions.ActionError, match="not consented"):
        actions.send_referral(
            people["partner"], person, casework["program_b"].organization, reason="x"
        )
    assert not Referral.objects.filter(participant=person).exists()
    # Consent withdrawn after intake is what counts at the moment of sending.
    actions.record_consent(
        people["partner"], casework["person"], "refer_to_partner", False, "2026-02"
    )
    with pytest.raises(actions.ActionError):
        actions.send_referral(
            people["partner"], casework["person"], casework["program_b"].organization, reason="x"
        )


def test_partner_data_is_not_in_the_admin():
    from gvrs.partners import models

    registered = {m._meta.model_name for m in admin.site._registry}
    for name in dir(models):
        model = getattr(models, name)
        if (
            isinstance(model, type)
            and getattr(getattr(model, "_meta", None), "app_label", "") == "partners"
        ):
            assert model._meta.model_name not in registered, name


def _reachable_pages(client, seeds: list[str], limit: int = 400) -> dict[str, str]:
    """Every page reachable by GET from the seeds by following links on the same site."""
    seen, queue, bodies = set(), list(seeds), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url, follow=True)
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = raw.decode(errors="replace")
        bodies[url] = body + "\n" + "\n".join(f"{k}: {v}" for k, v in response.items())
        if "html" not in response.get("Content-Type", ""):
            continue
        for href in re.findall(r'(?:href|action|hx-get)="([^"#]+)"', body):
            target = urljoin(url, href)
            parsed = urlparse(target)
            if (
                parsed.netloc in ("", "testserver")
                and parsed.path.startswith("/")
                and ("/static/" not in parsed.path and "logout" not in parsed.path)
            ):
                queue.append(parsed.path + (f"?{parsed.query}" if parsed.query else ""))
    return bodies


def _every_route(casework, referral) -> list[str]:
    """Every URL pattern of the site, filled with the records' numbers where it takes one."""
    urls = []
    for pattern in get_resolver().reverse_dict:
        if not isinstance(pattern, str):
            continue
        for args in ([], [casework["person"].pk], [casework["plan"].pk], [referral.pk]):
            try:
                urls.append(reverse(pattern, args=args))
            except Exception:
                continue
    return sorted(set(urls))


def test_no_participant_name_or_id_in_any_page_a_police_user_can_reach(people, casework):
    person = casework["person"]
    referral = actions.send_referral(
        people["partner"], person, casework["program_b"].organization, reason="mentor"
    )
    police = client_for(people, "police")
    bodies = _reachable_pages(police, ["/", *_every_route(casework, referral)])
    assert len(bodies) > 10, len(bodies)
    print(f"police scan: {len(bodies)} pages")
    secrets = [
        NAME_A,
        PHONE_A,
        ADDRESS_A,
        "2003-04-17",
        "770077",
        "Quartermaine",
        f"/partners/p/{person.pk}/",
        f"participant {person.pk}",
        "welding",
        "funeral",
    ]
    for url, body in bodies.items():
        for secret in secrets:
            assert secret not in body, f"{secret!r} leaked to police at {url}"
    # And the partner pages themselves were all among the refused.
    assert police.get(reverse("partners-participant", args=[person.pk])).status_code == 404


def test_the_scan_would_see_a_leak(people, casework):
    """The scan is not blind: the partner, crawling the same way, finds the name."""
    bodies = _reachable_pages(client_for(people, "partner"), ["/partners/"])
    assert any(NAME_A in body for body in bodies.values())


def test_a_participant_of_a_is_not_counted_in_b_exact_figures(people, casework):
    from gvrs.partners.figures import program_figures

    b = casework["program_b"].organization
    exact_b = program_figures(b, suppress=False, as_of=dt.date(2026, 2, 1))
    assert all("Partner A" not in row for row in exact_b.funnel.rows)
    exact_a = program_figures(
        casework["program_a"].organization, suppress=False, as_of=dt.date(2026, 2, 1)
    )
    assert exact_a.funnel.cells[0][:3] == ["1", "1", "1"]  # identified, contacted, enrolled
    everyone = program_figures(None, suppress=True, as_of=dt.date(2026, 2, 1))
    # Outside the organization the one participant is a perturbed figure (docs/disclosure.md).
    assert 0 <= int(everyone.funnel.cells[0][0]) <= 6 and everyone.perturbed_within == 5
    assert Participant.objects.visible_to(people["outsider"]).count() == 0
    assert Participant.objects.visible_to(people["police"]).count() == 0
    assert Participant.objects.visible_to(people["admin"]).count() == 0


def test_a_superuser_is_refused_like_everyone_outside_the_organization(people, casework):
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", password="x" * 20)
    client = Client()
    client.force_login(root)
    for method, _name, url in _record_urls(casework):
        _same_404(client, method, url)
    assert client.get(reverse("partners-list")).status_code == 404
    assert Participant.objects.visible_to(root).count() == 0
