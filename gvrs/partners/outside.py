"""Partner figures as they leave the organizations: every count perturbed by the disclosure
policy's cell-key method (``gvrs.analysis.disclosure``, docs/disclosure.md), and every view a
sum of one set of perturbed *leaves*.

A leaf is the count of one program (or one area) in one column: the participants in a stage
of the funnel, the services of one kind, the referrals in one status, the participants with a
good outcome. Each is perturbed by the keys of the records it counts, so the same records give
the same figure on every page and in every release, and a new enrolment or service draws the
leaf's offset afresh. An organization's row, the "all the other partners" row, every total,
the council report's table of one organization and the equity page of a county and of each of
its towns are sums of these leaves: they add up, they agree with each other, and a partner
who knows its own counts exactly learns from them no more than the other partners' leaves.

Only participants who consented to aggregate reporting are counted, and their records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
from django.db.models import Exists, OuterRef, Q

from gvrs.analysis.disclosure import PUBLIC, Policy, Records
from gvrs.partners.models import Contact, Participant, Program, Referral, Service

STAGES = ["identified", "contacted", "enrolled", "active", "completed"]
MEASURES = ["alive", "not_shot", "not_arrested_firearm", "in_school_or_work"]
# Tables whose columns are parts of a whole (each row has a total); the others are measures.
ADDITIVE = ("services", "referrals")
ACTIVE_DAYS = 30
REACHED = [k for k in Contact.Kind.values if k != Contact.Kind.ATTEMPTED]
CONTACT_WEEKS = 12


def _perturbed(policy: Policy, kind: str, ids, groups, n: int) -> np.ndarray:
    """Perturbed counts of records of ``kind`` per group (0..n-1), as every reader outside
    the organizations sees them."""
    if len(ids) == 0:
        return np.zeros(n, dtype=np.int64)
    _, shown = policy.grouped(PUBLIC, Records.CASES, kind, ids, groups, n)
    return shown


@dataclass(frozen=True)
class Leaves:
    """Perturbed counts per program and column, for every program of every organization.

    ``tables[k]``: shape (P, C) for "funnel" (STAGES), "services" (Service.Kind), "referrals"
    (Referral.Status), "outcomes" (MEASURES; NaN where nobody's answer is known);
    ``enrolled``, ``contacts``: per program, participants enrolled now and their contacts
    that reached them in the last 12 weeks (for contacts per participant per week)."""

    programs: list[Program]
    tables: dict[str, np.ndarray]
    enrolled: np.ndarray
    contacts: np.ndarray

    def digest(self) -> str:
        """What changes whenever a figure outside the organizations would change: the key
        a cache of anything made from these figures includes."""
        h = hashlib.sha256()
        for program in self.programs:
            h.update(f"{program.pk}:{program.organization_id}:{program.name}|".encode())
        for name in sorted(self.tables):
            h.update(name.encode())
            h.update(np.ascontiguousarray(self.tables[name], dtype=float).tobytes())
        h.update(self.enrolled.tobytes())
        h.update(self.contacts.tobytes())
        return h.hexdigest()


def program_leaves(policy: Policy, as_of: dt.date) -> Leaves:
    """Every program's leaves, counted over the participants who consented to aggregate
    reporting (their latest consent), perturbed."""
    programs = list(
        Program.objects.select_related("organization").order_by("organization__name", "name")
    )
    index = {p.pk: i for i, p in enumerate(programs)}
    n = len(programs)
    people = Participant.objects.in_aggregates()
    recent = as_of - dt.timedelta(days=ACTIVE_DAYS)
    reached = Contact.objects.filter(participant=OuterRef("pk"), kind__in=REACHED)
    rows = list(
        people.annotate(
            contacted=Exists(reached),
            reached_lately=Exists(reached.filter(on__gte=recent, on__lte=as_of)),
        )
        .values_list(
            "pk", "program", "enrolled_on", "status", "exit_reason", "contacted", "reached_lately"
        )
        .order_by()
    )
    pks = np.array([r[0] for r in rows], dtype=np.int64)
    program = np.array([index.get(r[1], -1) for r in rows], dtype=np.intp)
    enrolled_ever = np.array([r[2] is not None for r in rows], dtype=bool)
    enrolled_now = np.array([r[3] == Participant.Status.ENROLLED for r in rows], dtype=bool)
    stage = {
        "identified": np.ones(len(rows), dtype=bool),
        "contacted": np.array([r[5] for r in rows], dtype=bool),
        "enrolled": enrolled_ever,
        "active": enrolled_ever & enrolled_now & np.array([r[6] for r in rows], dtype=bool),
        "completed": enrolled_ever
        & np.array([r[4] == Participant.ExitReason.COMPLETED for r in rows], dtype=bool),
    }
    known = program >= 0
    funnel = (
        np.column_stack(
            [
                _perturbed(
                    policy, "participant", pks[stage[s] & known], program[stage[s] & known], n
                )
                for s in STAGES
            ]
        )
        if n
        else np.zeros((0, len(STAGES)))
    )

    def by_kind(model, column: str, values: list[str], kind: str) -> np.ndarray:
        records = list(
            model.objects.filter(participant__in=people)
            .values_list("pk", "participant__program", column)
            .order_by()
        )
        out = np.zeros((n, len(values)), dtype=np.int64)
        for j, value in enumerate(values):
            mine = [(pk, index[p]) for pk, p, v in records if v == value and p in index]
            if mine:
                ids, groups = zip(*mine, strict=True)
                out[:, j] = _perturbed(policy, kind, ids, groups, n)
        return out

    services = by_kind(Service, "kind", list(Service.Kind.values), "service")
    referrals = by_kind(Referral, "status", list(Referral.Status.values), "referral")
    outcomes = _outcome_leaves(policy, people, index, n)
    enrolled = _perturbed(
        policy, "participant", pks[enrolled_now & known], program[enrolled_now & known], n
    )
    since = as_of - dt.timedelta(weeks=CONTACT_WEEKS)
    contact_rows = list(
        Contact.objects.filter(
            participant__in=people.filter(status=Participant.Status.ENROLLED),
            on__gt=since,
            on__lte=as_of,
            kind__in=REACHED,
        )
        .values_list("pk", "participant__program")
        .order_by()
    )
    contact_rows = [(pk, index[p]) for pk, p in contact_rows if p in index]
    contacts = (
        _perturbed(policy, "contact", *zip(*contact_rows, strict=True), n)
        if contact_rows
        else np.zeros(n, dtype=np.int64)
    )
    return Leaves(
        programs,
        {"funnel": funnel, "services": services, "referrals": referrals, "outcomes": outcomes},
        enrolled,
        contacts,
    )


def _outcome_leaves(policy: Policy, people, index: dict[int, int], n: int) -> np.ndarray:
    """Per program and measure, participants whose latest window's answer is yes, perturbed;
    NaN where nobody's answer is known ("no data", never 0)."""
    latest = {}
    for outcome in (
        people.filter(outcomes__isnull=False)
        .values("pk", "program", "outcomes__window_end", *[f"outcomes__{m}" for m in MEASURES])
        .order_by("pk", "outcomes__window_end")
    ):
        latest[outcome["pk"]] = outcome  # the latest window per participant
    out = np.zeros((n, len(MEASURES)))
    for j, measure in enumerate(MEASURES):
        yes = [
            (pk, index[o["program"]])
            for pk, o in latest.items()
            if o["program"] in index and o[f"outcomes__{measure}"] is True
        ]
        answered = {
            index[o["program"]]
            for o in latest.values()
            if o["program"] in index and o[f"outcomes__{measure}"] is not None
        }
        if yes:
            ids, groups = zip(*yes, strict=True)
            out[:, j] = _perturbed(policy, "participant", ids, groups, n)
        for i in range(n):
            if i not in answered:
                out[i, j] = np.nan
    return out


def area_leaves(
    policy: Policy, area_ids: list[int], since: dt.date, until: dt.date, exclude=None
) -> np.ndarray:
    """Per area (``area_ids``), perturbed: participants who live there and are enrolled now,
    their contacts that reached them and their services from ``since`` to ``until``
    (shape (A, 3)); consenting participants only, of every organization but ``exclude``."""
    index = {pk: i for i, pk in enumerate(area_ids)}
    n = len(area_ids)
    people = Participant.objects.in_aggregates().filter(area_id__in=index)
    if exclude is not None:
        people = people.exclude(organization=exclude)
    enrolled = list(
        people.filter(status=Participant.Status.ENROLLED).values_list("pk", "area_id").order_by()
    )
    contacts = list(
        Contact.objects.filter(participant__in=people, on__gte=since, on__lte=until)
        .filter(~Q(kind=Contact.Kind.ATTEMPTED))
        .values_list("pk", "participant__area_id")
        .order_by()
    )
    services = list(
        Service.objects.filter(
            participant__in=people, delivered_on__gte=since, delivered_on__lte=until
        )
        .values_list("pk", "participant__area_id")
        .order_by()
    )
    out = np.zeros((n, 3), dtype=np.int64)
    for j, (kind, rows) in enumerate(
        (("participant", enrolled), ("contact", contacts), ("service", services))
    ):
        if rows:
            ids, areas = zip(*rows, strict=True)
            out[:, j] = _perturbed(policy, kind, ids, [index[a] for a in areas], n)
    return out
