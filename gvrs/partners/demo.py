"""The partners' part of ``gvrs demo``: two partner organizations in the simulated Kern-like
county, with the simulator's enrolled members (``participants.csv``) as their participants,
and their contacts, services, outcomes and a referral, all written through the audited
actions. Names, phones and addresses are made up from a seeded generator and say so.

Outcomes come from the simulator's truth (``victims.csv``): a participant shot after
enrolment is "not shot: no" for that window, killed is "alive: no". Arrests are not
simulated, so "not arrested for a firearm offence" and "in school or work" stay unknown.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
from django.contrib.auth.models import Group, User
from django.utils import timezone

from gvrs.accounts import roles
from gvrs.accounts.audit import audited_transaction
from gvrs.accounts.models import Membership, Organization
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.partners import actions
from gvrs.partners.models import Consent, Participant

ORGANIZATIONS = {  # the simulator's organization -> (name, program, kind, contact standard)
    "Partner A": ("Kern-like Peacekeepers", "Peacekeeper Fellowship", "fellowship", 2),
    "Partner B": ("Valley Youth Mentoring", "Street Mentoring", "mentoring", 7),
}
_FIRST = (
    "Alex",
    "Jordan",
    "Marcus",
    "Luis",
    "Andre",
    "Jose",
    "Darnell",
    "Miguel",
    "Tyrell",
    "Carlos",
    "Isaiah",
    "Angel",
    "Deshawn",
    "Jesus",
    "Malik",
    "Adrian",
    "Tariq",
    "Noel",
)
_LAST = (
    "Rivera",
    "Johnson",
    "Garcia",
    "Washington",
    "Lopez",
    "Brooks",
    "Hernandez",
    "Hayes",
    "Martinez",
    "Coleman",
    "Flores",
    "Jenkins",
    "Ramirez",
    "Price",
    "Torres",
    "Simmons",
)
CONTACT_WEEKS = 26  # contacts are generated for the last half year of the simulation


def _area_lookup(county: str) -> dict[tuple[str, str], Area]:
    top = Jurisdiction.objects.filter(name=county).first()
    if top is None:
        return {}
    return {
        (a.jurisdiction.name, a.name): a
        for a in Area.objects.filter(jurisdiction_id__in=top.descendant_ids()).select_related(
            "jurisdiction"
        )
    }


def _user(name: str, role: str, organization: Organization, password: str | None) -> User:
    user = User.objects.create_user(name, password=password)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=role))
    Membership.objects.create(user=user, organization=organization)
    return user


@audited_transaction()
def build_partner_demo(folder: Path, *, county: str, password: str, seed: int = 1) -> list[str]:
    """Create the organizations, programs, users and case work; return lines to print."""
    roles.sync_roles()
    rng = np.random.default_rng(seed)
    participants = pd.read_csv(folder / "participants.csv", parse_dates=["enrolled_on"])
    members = pd.read_csv(folder / "memberships.csv").set_index("person_id")
    groups = pd.read_csv(folder / "groups.csv").set_index("group_id")
    victims = pd.read_csv(folder / "victims.csv")
    events = pd.read_csv(folder / "events.csv", usecols=["event_id", "t"])
    truth_end = dt.date.fromisoformat(pd.read_json(folder / "truth.json", typ="series")["end"])
    start = dt.date.fromisoformat(pd.read_json(folder / "truth.json", typ="series")["start"])
    shot_on = victims.merge(events, on="event_id")
    shot_on["day"] = pd.Timestamp(start) + pd.to_timedelta(shot_on["t"], unit="D")
    areas = _area_lookup(county)
    lines = []
    made: dict[str, tuple[Organization, list[Participant], User]] = {}
    for sim_name, (org_name, program_name, kind, standard) in ORGANIZATIONS.items():
        rows = participants[participants["organization"] == sim_name]
        org = Organization.objects.create(name=org_name, kind=Organization.Kind.PARTNER)
        login = "partner" if sim_name == "Partner A" else "partner-b"
        user = (
            User.objects.get(username=login)
            if User.objects.filter(username=login).exists()
            else None
        )
        if user is None:
            user = _user(login, roles.PARTNER_STAFF, org, password)
        else:
            Membership.objects.update_or_create(user=user, defaults={"organization": org})
        program = actions.create_program(
            user,
            org,
            name=program_name,
            kind=kind,
            capacity=len(rows) + 10,
            caseload_per_worker=15,
            contact_standard_days=standard,
        )
        workers = [user] + [
            _user(f"{login}-worker-{k}", roles.PARTNER_STAFF, org, None)
            for k in range(1, math.ceil(len(rows) / 15))
        ]
        people = []
        for position, row in enumerate(rows.itertuples()):
            member = members.loc[row.person_id]
            group = groups.loc[row.group_id]
            enrolled_on = row.enrolled_on.date()
            # Identified some weeks before the enrolment, the intake conversation in between.
            identified_on = enrolled_on - dt.timedelta(days=int(rng.integers(7, 60)))
            intake_on = identified_on + dt.timedelta(
                days=int(rng.integers(0, (enrolled_on - identified_on).days + 1))
            )
            consent_refer = rng.random() < 0.6
            person = actions.record_intake(
                user,
                org,
                program,
                name=f"{_FIRST[rng.integers(len(_FIRST))]} {_LAST[rng.integers(len(_LAST))]}"
                f" (simulated {row.person_id})",
                date_of_birth=dt.date(
                    enrolled_on.year - int(member["age"]),
                    1 + int(rng.integers(12)),
                    1 + int(rng.integers(28)),
                ),
                phone=f"661-555-{int(rng.integers(100, 10000)):04d}",
                address=f"{int(rng.integers(100, 9999))} {group['turf']} (simulated)",
                area=areas.get((group["town"], group["turf"])),
                eligibility_reason="Member of a group in an active conflict; recently shot at"
                " (simulated)",
                priority_reason="Named at the shooting review (simulated)",
                consents={
                    Consent.Kind.REFER_TO_PARTNER: (
                        consent_refer,
                        ["name", "phone", "needs"] if consent_refer else [],
                    ),
                    Consent.Kind.AGGREGATE_REPORTING: (bool(rng.random() < 0.9), []),
                },
                consent_text_version="2026-01",
                identified_on=identified_on,
                simulated_person=int(row.person_id),
                worker=workers[position // 15],
                intake_on=intake_on,
            )
            # The outreach worker reached them at the intake, before the enrolment: the
            # funnel (identified, contacted, enrolled) never rises.
            actions.log_contact(
                user, person, on=intake_on, duration_minutes=45, kind="in_person", place="street"
            )
            person = actions.enrol_participant(user, person, on=enrolled_on)
            people.append(person)
            _work(user, person, rng, truth_end, shot_on)
        made[sim_name] = (org, people, user)
        lines.append(
            f"  {org_name}: {len(people)} participants in {program_name} (log in as {login})"
        )
    org_a, people_a, user_a = made["Partner A"]
    org_b, _, user_b = made["Partner B"]
    consenting = [p for p in people_a if p.referral_fields()]
    if consenting:
        referral = actions.send_referral(
            user_a,
            consenting[0],
            org_b,
            reason="Wants a mentor and job training",
            needs="ID documents, job training",
        )
        actions.accept_referral(user_b, referral, org_b.programs.get())
        lines.append(f"  A referral from {org_a} to {org_b}, accepted")
    return lines


def _work(user, person: Participant, rng, end: dt.date, shot_on: pd.DataFrame) -> None:
    """Contacts over the last weeks to today (the work goes on after the simulated incident
    data end), a few services, a life plan and yearly outcomes over the simulated years."""
    today = timezone.localdate()
    first = max(person.enrolled_on, today - dt.timedelta(weeks=CONTACT_WEEKS))
    mine = shot_on[
        (shot_on["person_id"] == person.simulated_person)
        & (shot_on["day"].dt.date >= person.enrolled_on)
    ]
    killed = mine[mine["killed"]]
    died = killed["day"].min().date() if len(killed) else None
    last = min(today, died) if died else today
    day = first
    while day <= last:
        actions.log_contact(
            user,
            person,
            on=day,
            duration_minutes=int(rng.integers(5, 60)),
            kind=str(rng.choice(["in_person", "in_person", "phone", "text", "attempted"])),
            place=str(rng.choice(["street", "home", "office", "school"])),
        )
        day += dt.timedelta(days=int(rng.integers(1, 6)))
    for _ in range(int(rng.integers(0, 4))):
        actions.record_service(
            user,
            person,
            kind=str(
                rng.choice(
                    [
                        "employment",
                        "education",
                        "mental_health",
                        "legal",
                        "id_documents",
                        "relocation",
                    ]
                )
            ),
            delivered_on=person.enrolled_on
            + dt.timedelta(days=int(rng.integers(0, max((last - person.enrolled_on).days, 1)))),
        )
    actions.start_life_plan(
        user,
        person,
        [
            ("safety", "Stay out of the conflict (simulated)", None),
            ("employment", "Finish a job training course", None),
        ],
    )
    window = person.enrolled_on
    while window + dt.timedelta(days=364) <= end:
        until = window + dt.timedelta(days=364)
        inside = mine[(mine["day"].dt.date >= window) & (mine["day"].dt.date <= until)]
        actions.record_outcome(
            user,
            person,
            window_start=window,
            window_end=until,
            alive=not bool(inside["killed"].any()),
            not_shot=inside.empty,
            not_arrested_firearm=None,
            in_school_or_work=None,
        )
        if inside["killed"].any():
            break
        window = until + dt.timedelta(days=1)
    if died:
        actions.exit_participant(user, person, Participant.ExitReason.DIED, on=min(died, end))
