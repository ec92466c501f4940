"""Aggregates of partner work: the only thing that leaves an organization.

Each table is counted in the database (grouped queries, never a loop over participants) and
passed through ``gvrs.analysis.suppression`` before it reaches a page, unless the reader is
inside the organization the figures describe. Outside, only participants who consented to
aggregate reporting are counted.

Tables whose columns are not parts of a whole (the funnel's stages, need against reach) are
suppressed column by column, each column with its own total; tables whose columns add up
(services by type, referrals by status) are suppressed as two-way tables with their margins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, F, Max, Q, Sum

from gvrs.analysis.suppression import (
    DEFAULT_THRESHOLD,
    MISSING,
    SuppressedTable,
    suppress_table,
)
from gvrs.data.metrics import get_metric
from gvrs.incidents.models import Area, Incident, Jurisdiction
from gvrs.partners.models import Contact, Participant, Program, Referral, Service
from gvrs.reports.series import metric_filter

ACTIVE_DAYS = 30  # enrolled, and reached within this many days: "active"
# Contacts that reached the person (an attempt that did not is not a contact for the funnel).
REACHED = [k for k in Contact.Kind.values if k != Contact.Kind.ATTEMPTED]


@dataclass(frozen=True)
class Table:
    """A table as a page shows it: row labels, column labels, cell labels (strings), and
    whether it was suppressed."""

    title: str
    rows: list[str]
    columns: list[str]
    cells: list[list[str]]
    suppressed: bool
    note: str = ""
    raw: SuppressedTable | None = field(default=None, repr=False, compare=False)

    def body(self) -> list[tuple[str, list[str]]]:
        return list(zip(self.rows, self.cells, strict=True))

    def as_records(self) -> list[dict]:
        return [
            {"row": row, **dict(zip(self.columns, cells, strict=True))}
            for row, cells in zip(self.rows, self.cells, strict=True)
        ]


def _exact(values: np.ndarray) -> list[list[str]]:
    return [[MISSING if np.isnan(v) else f"{int(v):,}" for v in row] for row in values]


def two_way(title, rows, columns, counts: np.ndarray, suppress: bool, note="") -> Table:
    """A table whose columns add up, with its row and column totals."""
    result = suppress_table(counts, DEFAULT_THRESHOLD)
    cells = result.display() if suppress else _exact(result.values)
    return Table(title, [*rows, "Total"], [*columns, "Total"], cells, suppress, note, result)


def by_column(title, rows, columns, counts: np.ndarray, suppress: bool, note="") -> Table:
    """A table whose columns are separate measures: each suppressed with its own total."""
    n_rows = len(rows)
    cells = [["" for _ in columns] for _ in range(n_rows + 1)]
    for j in range(len(columns)):
        result = suppress_table(counts[:, j], DEFAULT_THRESHOLD)
        labels = result.display() if suppress else _exact(result.values)
        for i in range(n_rows + 1):
            cells[i][j] = labels[i][0]
    return Table(title, [*rows, "Total"], list(columns), cells, suppress, note)


def _participants(organization, suppress: bool, exclude=None):
    qs = Participant.objects.all()
    if organization is not None:
        qs = qs.filter(organization=organization)
    if exclude is not None:
        qs = qs.exclude(organization=exclude)
    return qs.in_aggregates() if suppress else qs


def _programs(organization, exclude=None):
    qs = Program.objects.select_related("organization")
    if exclude is not None:
        qs = qs.exclude(organization=exclude)
    return qs.filter(organization=organization) if organization is not None else qs


def _label(program: Program) -> str:
    return f"{program.organization.name}: {program.name}"


def _grouped(qs, key: str, programs: list[Program], columns: list[str], column_key: str):
    counts = np.zeros((len(programs), len(columns)))
    index = {p.pk: i for i, p in enumerate(programs)}
    position = {c: j for j, c in enumerate(columns)}
    for program_id, column, n in qs.values_list(key, column_key).annotate(n=Count("pk")).order_by():
        if program_id in index and column in position:
            counts[index[program_id], position[column]] = n
    return counts


@dataclass(frozen=True)
class ProgramFigures:
    funnel: Table
    services: Table
    referrals: Table
    outcomes: Table
    contacts_per_week: list[tuple[str, str]]
    scope: str


def program_figures(
    organization=None, *, suppress: bool, as_of: dt.date, exclude=None
) -> ProgramFigures:
    """The funnel, services by type, referrals by status, outcomes and contacts per
    participant per week, per program (of one organization, or of all).

    ``exclude``: an organization left out. A partner reading the other partners' figures
    knows its own counts exactly, and could subtract them from totals that include them; so
    it is shown the others' figures, suppressed among themselves.
    """
    programs = list(_programs(organization, exclude))
    labels = [_label(p) for p in programs]
    people = _participants(organization, suppress, exclude)
    ids = {p.pk: i for i, p in enumerate(programs)}
    stages = ["identified", "contacted", "enrolled", "active", "completed"]
    funnel = np.zeros((len(programs), len(stages)))
    recent = as_of - dt.timedelta(days=ACTIVE_DAYS)
    rows = people.values("program").annotate(
        identified=Count("pk", distinct=True),
        contacted=Count("pk", filter=Q(contacts__kind__in=REACHED), distinct=True),
        enrolled=Count("pk", filter=Q(enrolled_on__isnull=False), distinct=True),
        active=Count(
            "pk",
            filter=Q(
                status=Participant.Status.ENROLLED,
                contacts__on__gte=recent,
                contacts__on__lte=as_of,
                contacts__kind__in=REACHED,
            ),
            distinct=True,
        ),
        completed=Count(
            "pk", filter=Q(exit_reason=Participant.ExitReason.COMPLETED), distinct=True
        ),
    )
    for row in rows.order_by():
        if row["program"] in ids:
            funnel[ids[row["program"]]] = [row[s] for s in stages]
    consented = " (participants who consented to aggregate reporting)" if suppress else ""
    funnel_table = by_column(
        "Funnel" + consented,
        labels,
        stages,
        funnel,
        suppress,
        f"active: enrolled and reached in the last {ACTIVE_DAYS} days to {as_of}",
    )
    service_kinds = list(Service.Kind.values)
    services = _grouped(
        Service.objects.filter(participant__in=people),
        "participant__program",
        programs,
        service_kinds,
        "kind",
    )
    services_table = two_way(
        "Services delivered by type",
        labels,
        [Service.Kind(k).label for k in service_kinds],
        services,
        suppress,
    )
    statuses = list(Referral.Status.values)
    referrals = _grouped(
        Referral.objects.filter(participant__in=people),
        "participant__program",
        programs,
        statuses,
        "status",
    )
    referrals_table = two_way("Referrals sent, by status", labels, statuses, referrals, suppress)
    measures = ["alive", "not_shot", "not_arrested_firearm", "in_school_or_work"]
    latest = {}
    for outcome in (
        people.filter(outcomes__isnull=False)
        .values("pk", "program", "outcomes__window_end", *[f"outcomes__{m}" for m in measures])
        .order_by("pk", "outcomes__window_end")
    ):
        latest[outcome["pk"]] = outcome  # the latest window per participant
    yes = np.zeros((len(programs), len(measures)))
    known = np.zeros_like(yes)
    for outcome in latest.values():
        if outcome["program"] in ids:
            for j, m in enumerate(measures):
                answer = outcome[f"outcomes__{m}"]
                yes[ids[outcome["program"]], j] += answer is True
                known[ids[outcome["program"]], j] += answer is not None
    # A measure nobody's answer is known for is "no data", never 0.
    yes[known == 0] = np.nan
    outcomes_table = by_column(
        "Participants with a good outcome in their latest window",
        labels,
        ["alive", "not shot", "not arrested (firearm)", "in school or work"],
        yes,
        suppress,
    )
    # Contacts per enrolled participant per week over the last 12 weeks; a rate is shown only
    # where the participants it divides by are not a small count.
    since = as_of - dt.timedelta(weeks=12)
    per_week = []
    enrolled = dict(
        people.filter(status=Participant.Status.ENROLLED)
        .values("program")
        .annotate(n=Count("pk"))
        .values_list("program", "n")
        .order_by()
    )
    contacts = dict(
        Contact.objects.filter(
            participant__in=people.filter(status=Participant.Status.ENROLLED),
            on__gt=since,
            on__lte=as_of,
        )
        .exclude(kind=Contact.Kind.ATTEMPTED)
        .values("participant__program")
        .annotate(n=Count("pk"))
        .values_list("participant__program", "n")
        .order_by()
    )
    for program, label in zip(programs, labels, strict=True):
        n = enrolled.get(program.pk, 0)
        if n == 0:
            per_week.append((label, "no enrolled participants"))
        elif suppress and n <= DEFAULT_THRESHOLD:
            per_week.append((label, f"suppressed (fewer than {DEFAULT_THRESHOLD + 1} enrolled)"))
        else:
            per_week.append((label, f"{contacts.get(program.pk, 0) / n / 12:.1f}"))
    scope = (
        "your organization, exact"
        if not suppress
        else "other partners, suppressed"
        if exclude is not None
        else "all partners, suppressed"
    )
    return ProgramFigures(
        funnel_table, services_table, referrals_table, outcomes_table, per_week, scope
    )


@dataclass(frozen=True)
class Compliance:
    """How often a participant was reached against the program's contact standard."""

    participant: Participant
    standard_days: int
    periods: int
    periods_met: int
    last_contact: dt.date | None

    @property
    def share(self) -> float | None:
        return self.periods_met / self.periods if self.periods else None


def contact_compliance(participant: Participant, as_of: dt.date, weeks: int = 12) -> Compliance:
    """Of the standard's periods (e.g. days for a daily standard, weeks for a weekly one) in
    the last ``weeks`` weeks since enrolment, how many had at least one contact that reached
    the participant."""
    standard = participant.program.contact_standard_days
    start = max(participant.enrolled_on or as_of, as_of - dt.timedelta(weeks=weeks))
    end = min(as_of, participant.exited_on or as_of)
    days = (end - start).days + 1
    periods = max(days // standard, 0)
    contacted = set(
        participant.contacts.exclude(kind=Contact.Kind.ATTEMPTED)
        .filter(on__gte=start, on__lte=end)
        .values_list("on", flat=True)
    )
    met = sum(
        any(start + dt.timedelta(days=k * standard + d) in contacted for d in range(standard))
        for k in range(periods)
    )
    last = participant.contacts.exclude(kind=Contact.Kind.ATTEMPTED).aggregate(m=Max("on"))["m"]
    return Compliance(participant, standard, periods, met, last)


@dataclass(frozen=True)
class EquityRow:
    area: Area
    cells: list[str]
    gap: float
    rank: int = 0


@dataclass(frozen=True)
class Equity:
    jurisdiction: Jurisdiction
    since: dt.date
    until: dt.date
    columns: list[str]
    rows: list[EquityRow]
    total: list[str]
    suppressed: bool


def equity_of_access(
    jurisdiction: Jurisdiction, *, suppress: bool, organization=None, exclude=None
) -> Equity:
    """Need (people shot, homicides, over the last 12 months of incident data) against reach
    (participants enrolled, contacts and services in those months) per area, ranked by unmet
    need: the area's share of people shot minus its share of enrolled participants, both as
    shown. A suppressed figure counts as 0 in the ranking, so the order never depends on a
    hidden number."""
    places = jurisdiction.descendant_ids()
    areas = list(Area.objects.filter(jurisdiction_id__in=places).select_related("jurisdiction"))
    incidents = Incident.objects.filter(jurisdiction_id__in=places)
    until = incidents.aggregate(m=Max("occurred_on"))["m"] or dt.date.today()
    since = until - dt.timedelta(days=365) + dt.timedelta(days=1)
    window = incidents.filter(occurred_on__gte=since, occurred_on__lte=until, area__isnull=False)
    index = {a.pk: i for i, a in enumerate(areas)}
    counts = np.zeros((len(areas), 5))
    shot = (
        window.filter(metric_filter(get_metric("shootings")))
        .values("area")
        .annotate(n=Sum(F("killed") + F("injured")))
    )
    killed = (
        window.filter(metric_filter(get_metric("homicides")))
        .values("area")
        .annotate(n=Sum("killed"))
    )
    people = _participants(organization, suppress, exclude).filter(area_id__in=index)
    enrolled = (
        people.filter(status=Participant.Status.ENROLLED).values("area").annotate(n=Count("pk"))
    )
    contacts = (
        Contact.objects.filter(participant__in=people, on__gte=since, on__lte=until)
        .exclude(kind=Contact.Kind.ATTEMPTED)
        .values("participant__area")
        .annotate(n=Count("pk"))
    )
    services = (
        Service.objects.filter(
            participant__in=people, delivered_on__gte=since, delivered_on__lte=until
        )
        .values("participant__area")
        .annotate(n=Count("pk"))
    )
    for j, (qs, key) in enumerate(
        [
            (shot, "area"),
            (killed, "area"),
            (enrolled, "area"),
            (contacts, "participant__area"),
            (services, "participant__area"),
        ]
    ):
        for area_id, n in qs.values_list(key, "n").order_by():
            if area_id in index and n:
                counts[index[area_id], j] = n
    columns = ["people shot", "homicides", "enrolled participants", "contacts", "services"]
    labels = [[""] * 5 for _ in range(len(areas) + 1)]
    shown = np.zeros_like(counts)
    for j in range(5):
        result = suppress_table(counts[:, j], DEFAULT_THRESHOLD)
        column = result.display() if suppress else _exact(result.values)
        visible = np.nan_to_num(result.shown()[:, 0]) if suppress else result.values[:, 0]
        shown[:, j] = visible[: len(areas)]
        for i in range(len(areas) + 1):
            labels[i][j] = column[i][0]
    need = shown[:, 0] / shown[:, 0].sum() if shown[:, 0].sum() else np.zeros(len(areas))
    reach = shown[:, 2] / shown[:, 2].sum() if shown[:, 2].sum() else np.zeros(len(areas))
    gap = need - reach
    order = np.argsort(-gap, kind="stable")
    rows = [
        EquityRow(areas[i], labels[i], float(gap[i]), rank) for rank, i in enumerate(order, start=1)
    ]
    return Equity(jurisdiction, since, until, columns, rows, labels[-1], suppress)
