"""Aggregates of partner work: the only thing that leaves an organization.

Inside an organization its own figures are exact (counted in the database by grouped queries,
never a loop over participants). Outside it (the city's page, another partner's page, the
council report, equity of access) every count is perturbed by the disclosure policy
(``gvrs.partners.outside``, docs/disclosure.md) and only participants who consented to
aggregate reporting are counted: every view is a sum of one set of perturbed leaves per
program or per area, so the views agree with each other, nested pages (a county and its
towns) add up, and a page read before and after one enrolment or one service does not say
how many changed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Max, Q

from gvrs.accounts.audience import deployment_policy
from gvrs.analysis.disclosure import Audience, Records
from gvrs.analysis.disclosure.windows import whole_months
from gvrs.analysis.suppression import MISSING, augment
from gvrs.data.metrics import get_metric
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.partners.models import Contact, Participant, Program, Referral, Service
from gvrs.partners.outside import (
    ADDITIVE,
    MEASURES,
    STAGES,
    area_leaves,
    program_leaves,
)
from gvrs.reports.protected import monthly_figures
from gvrs.reports.series import count_expression, covered_incidents

ACTIVE_DAYS = 30  # enrolled, and reached within this many days: "active"
# Contacts that reached the person (an attempt that did not is not a contact for the funnel).
REACHED = [k for k in Contact.Kind.values if k != Contact.Kind.ATTEMPTED]


@dataclass(frozen=True)
class Table:
    """A table as a page shows it: row labels, column labels, cell labels (strings), and
    whether its counts are perturbed (outside the organization)."""

    title: str
    rows: list[str]
    columns: list[str]
    cells: list[list[str]]
    perturbed: bool
    note: str = ""

    def body(self) -> list[tuple[str, list[str]]]:
        return list(zip(self.rows, self.cells, strict=True))

    def as_records(self) -> list[dict]:
        return [
            {"row": row, **dict(zip(self.columns, cells, strict=True))}
            for row, cells in zip(self.rows, self.cells, strict=True)
        ]


def _exact(values: np.ndarray) -> list[list[str]]:
    return [[MISSING if np.isnan(v) else f"{int(v):,}" for v in row] for row in values]


def _empty_table(title, columns, note="") -> Table:
    return Table(title, ["Total"], list(columns), [["0"] * len(columns)], False, note)


def _programs(organization, exclude=None):
    qs = Program.objects.select_related("organization").order_by("organization__name", "name")
    if exclude is not None:
        qs = qs.exclude(organization=exclude)
    return qs.filter(organization=organization) if organization is not None else qs


def _participants(organization):
    """Inside an organization: all its participants, consenting to aggregate reporting or not
    (its own figures never leave it)."""
    qs = Participant.objects.all()
    return qs if organization is None else qs.filter(organization=organization)


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


MEASURE_LABELS = ["alive", "not shot", "not arrested (firearm)", "in school or work"]


@dataclass(frozen=True)
class ProgramFigures:
    """Figures per program (``funnel`` ... ``outcomes``) and, outside an organization, the
    same per organization (``by_organization``: funnel, services, referrals, outcomes)."""

    funnel: Table
    services: Table
    referrals: Table
    outcomes: Table
    contacts_per_week: list[tuple[str, str]]
    scope: str
    by_organization: list[Table] = field(default_factory=list)
    organization_contacts_per_week: list[tuple[str, str]] = field(default_factory=list)
    perturbed_within: int = 0  # the perturbation's bound, outside the organization


def _funnel_counts(people, programs, as_of: dt.date) -> np.ndarray:
    ids = {p.pk: i for i, p in enumerate(programs)}
    funnel = np.zeros((len(programs), len(STAGES)))
    recent = as_of - dt.timedelta(days=ACTIVE_DAYS)
    was_enrolled = Q(enrolled_on__isnull=False)
    rows = people.values("program").annotate(
        identified=Count("pk", distinct=True),
        contacted=Count("pk", filter=Q(contacts__kind__in=REACHED), distinct=True),
        enrolled=Count("pk", filter=was_enrolled, distinct=True),
        active=Count(
            "pk",
            filter=was_enrolled
            & Q(
                status=Participant.Status.ENROLLED,
                contacts__on__gte=recent,
                contacts__on__lte=as_of,
                contacts__kind__in=REACHED,
            ),
            distinct=True,
        ),
        # Completed the program: enrolled, then exited for that reason (someone who leaves
        # the waiting list never completed anything).
        completed=Count(
            "pk",
            filter=was_enrolled & Q(exit_reason=Participant.ExitReason.COMPLETED),
            distinct=True,
        ),
    )
    for row in rows.order_by():
        if row["program"] in ids:
            funnel[ids[row["program"]]] = [row[s] for s in STAGES]
    return funnel


def _outcome_counts(people, programs) -> np.ndarray:
    """Per program and measure, participants whose latest window's answer is yes; NaN where
    nobody's answer is known ("no data", never 0)."""
    ids = {p.pk: i for i, p in enumerate(programs)}
    latest = {}
    for outcome in (
        people.filter(outcomes__isnull=False)
        .values("pk", "program", "outcomes__window_end", *[f"outcomes__{m}" for m in MEASURES])
        .order_by("pk", "outcomes__window_end")
    ):
        latest[outcome["pk"]] = outcome  # the latest window per participant
    yes = np.zeros((len(programs), len(MEASURES)))
    known = np.zeros_like(yes)
    for outcome in latest.values():
        if outcome["program"] in ids:
            for j, m in enumerate(MEASURES):
                answer = outcome[f"outcomes__{m}"]
                yes[ids[outcome["program"]], j] += answer is True
                known[ids[outcome["program"]], j] += answer is not None
    yes[known == 0] = np.nan
    return yes


def _contact_rates(people, programs, as_of: dt.date, groups) -> list:
    """Inside an organization: contacts that reached its enrolled participants, per enrolled
    participant per week over the last 12 weeks, for each group of programs ``groups``:
    (label, [program indices])."""
    since = as_of - dt.timedelta(weeks=12)
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
    out = []
    for label, members in groups:
        n = sum(enrolled.get(programs[i].pk, 0) for i in members)
        reached = sum(contacts.get(programs[i].pk, 0) for i in members)
        out.append((label, "no enrolled participants" if n == 0 else f"{reached / n / 12:.1f}"))
    return out


def _counts(people, programs, as_of: dt.date) -> dict[str, np.ndarray]:
    def by_program(model, column: str, values) -> np.ndarray:
        rows = model.objects.filter(participant__in=people)
        return _grouped(rows, "participant__program", programs, list(values), column)

    return {
        "funnel": _funnel_counts(people, programs, as_of),
        "services": by_program(Service, "kind", Service.Kind.values),
        "referrals": by_program(Referral, "status", Referral.Status.values),
        "outcomes": _outcome_counts(people, programs),
    }


CONSENTED = " (participants who consented to aggregate reporting)"


def program_figures(
    organization=None, *, suppress: bool, as_of: dt.date, exclude=None
) -> ProgramFigures:
    """The funnel, services by type, referrals by status, outcomes and contacts per
    participant per week, per program and per organization (of one organization, or of all).

    Inside an organization (``suppress=False``) its own figures, exact. Outside
    (``suppress=True``: all partners; one organization; ``exclude``: the partners other than
    the reader's own), every count perturbed and every row and total a sum of the same
    perturbed leaves (``gvrs.partners.outside``), so the views agree and no two of them
    together tell a count exactly.
    """
    titles = {
        "funnel": "Funnel" + (CONSENTED if suppress else ""),
        "services": "Services delivered by type",
        "referrals": "Referrals sent, by status",
        "outcomes": "Participants with a good outcome in their latest window",
    }
    columns = {
        "funnel": STAGES,
        "services": [*[Service.Kind(k).label for k in Service.Kind.values], "Total"],
        "referrals": [*Referral.Status.values, "Total"],
        "outcomes": MEASURE_LABELS,
    }
    notes = {"funnel": f"active: enrolled and reached in the last {ACTIVE_DAYS} days to {as_of}"}
    scope = _scope(suppress, exclude)

    def empty() -> ProgramFigures:
        tables = {k: _empty_table(titles[k], columns[k], notes.get(k, "")) for k in titles}
        return ProgramFigures(*tables.values(), [], scope)

    if not suppress:
        people = _participants(organization)
        programs = list(_programs(organization))
        if not programs:
            return empty()
        counts = _counts(people, programs, as_of)
        labels = [_label(p) for p in programs]
        # The tables with their totals (a measure nobody answered has no total either); the
        # measures' tables keep no column of row totals.
        values = {k: augment(c) if k in ADDITIVE else augment(c)[:, :-1] for k, c in counts.items()}
        tables = {
            k: Table(
                titles[k],
                [*labels, "Total"],
                list(columns[k]),
                _exact(values[k]),
                False,
                notes.get(k, ""),
            )
            for k in titles
        }
        return ProgramFigures(
            *tables.values(),
            _contact_rates(
                people, programs, as_of, [(label, [i]) for i, label in enumerate(labels)]
            ),
            scope,
        )
    policy = deployment_policy()
    leaves = program_leaves(policy, as_of)
    keep = [
        i
        for i, p in enumerate(leaves.programs)
        if (organization is None or p.organization_id == organization.pk)
        and (exclude is None or p.organization_id != exclude.pk)
    ]
    if not keep:
        return empty()
    programs = [leaves.programs[i] for i in keep]
    labels = [_label(p) for p in programs]
    organizations = list(dict.fromkeys(p.organization for p in programs))

    def rows_of(k: str, which: list[int]) -> np.ndarray:
        block = leaves.tables[k][which].astype(float)
        if k in ADDITIVE:
            block = np.column_stack([block, block.sum(axis=1)])
        return block

    def summed(block: np.ndarray) -> np.ndarray:
        """Column sums; a column with no data at all has no sum either."""
        has = ~np.isnan(block)
        return np.where(has.any(axis=0), np.nansum(block, axis=0), np.nan)

    def table(k: str, which: str) -> Table:
        block = rows_of(k, keep)
        total = summed(block)
        if which == "rows":
            body, names, suffix = block, labels, ""
        else:
            body = np.vstack(
                [
                    summed(block[[j for j, p in enumerate(programs) if p.organization_id == o.pk]])
                    for o in organizations
                ]
            )
            names, suffix = [o.name for o in organizations], ", by organization"
        return Table(
            titles[k] + suffix,
            [*names, "Total"],
            list(columns[k]),
            _exact(np.vstack([body, total])),
            True,
            notes.get(k, ""),
        )

    def rates(groups) -> list[tuple[str, str]]:
        out = []
        for label, members in groups:
            n = int(sum(leaves.enrolled[keep[i]] for i in members))
            reached = int(sum(leaves.contacts[keep[i]] for i in members))
            out.append((label, "no enrolled participants" if n == 0 else f"{reached / n / 12:.1f}"))
        return out

    per_org = organization is None
    members = [
        (o.name, [i for i, p in enumerate(programs) if p.organization_id == o.pk])
        for o in organizations
    ]
    return ProgramFigures(
        *[table(k, "rows") for k in titles],
        rates([(label, [i]) for i, label in enumerate(labels)]),
        scope,
        [table(k, "groups") for k in titles] if per_org else [],
        rates(members) if per_org else [],
        policy.noise.cap,
    )


def _scope(suppress: bool, exclude) -> str:
    return (
        "your organization, exact"
        if not suppress
        else "other partners, perturbed"
        if exclude is not None
        else "all partners, perturbed"
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
    # The county (usually) whose pages all count the same months and add up.
    linked_with: Jurisdiction | None = None


def equity_root(jurisdiction: Jurisdiction) -> Jurisdiction:
    """The highest page of areas above ``jurisdiction`` (its county, usually): every page
    under it shares areas or totals with it, so they count the same months."""
    root = jurisdiction
    while root.parent_id is not None:
        parent = root.parent
        is_page = Area.objects.filter(Q(jurisdiction=parent) | Q(jurisdiction__parent=parent))
        if not is_page.exists():
            break
        root = parent
    return root


def _incident_counts(root, areas, since, until, audience, policy) -> np.ndarray:
    """Per area, people shot and homicides from ``since`` to ``until`` (whole months): exact
    for a reader who may read incident records, otherwise the sums of the perturbed monthly
    figures the overview shows for the same areas and months."""
    out = np.zeros((len(areas), 2))
    for j, name in enumerate(("shootings", "homicides")):
        metric = get_metric(name)
        if audience is not None and audience.knows(Records.INCIDENTS):
            index = {a.pk: i for i, a in enumerate(areas)}
            covered = covered_incidents(metric, root)  # the primary source: never two summed
            if covered is None:
                continue
            rows = (
                covered[0]
                .filter(occurred_on__gte=since, occurred_on__lte=until, area_id__in=index)
                .values("area")
                .annotate(n=count_expression(metric))
                .values_list("area", "n")
                .order_by()
            )
            for area_id, n in rows:
                out[index[area_id], j] = n or 0
            continue
        figures = monthly_figures(metric, root, policy)
        if figures is None:
            continue
        for i, area in enumerate(areas):
            if area.pk in figures.areas:
                out[i, j] = figures.total(figures.areas[area.pk], since, until)
    return out


def _pages(root: Jurisdiction, areas: list[Area]) -> dict[int, list[int]]:
    """Each place with areas below it under ``root``: the indices of those areas."""
    tree = dict(
        Jurisdiction.objects.filter(pk__in=root.descendant_ids()).values_list("pk", "parent_id")
    )
    pages: dict[int, list[int]] = {}
    for i, area in enumerate(areas):
        node = area.jurisdiction_id
        while node is not None:
            pages.setdefault(node, []).append(i)
            node = tree.get(node) if node != root.pk else None
    return pages


def _data_end(place_ids) -> dt.date:
    """The end of the incident sources' recorded coverage (issue 10), never the latest
    incident: a stray record dated past the data would put the window in months with no
    data, and a quiet last month would cut it short."""
    from gvrs.incidents.coverage import place_coverage

    covered = place_coverage(place_ids)
    return max((c.last for c in covered), default=None) or dt.date.today()


def equity_of_access(
    jurisdiction: Jurisdiction,
    *,
    exclude=None,
    audience: Audience | None = None,
) -> Equity:
    """Need (people shot, homicides) against reach (participants enrolled now, contacts and
    services) per area, over the 12 whole months to the end of the incident data's coverage,
    ranked by unmet need: the area's share of people shot minus its share of enrolled
    participants, both as shown.

    Reach is counted over consenting participants of every organization but ``exclude`` (a
    partner's own counts would let it subtract), each count perturbed (``gvrs.partners
    .outside``); need exactly for a reader who may read incident records (``audience``),
    perturbed otherwise. Every page under the same county (``equity_root``) counts the same
    months, and every total is a sum of the areas' figures, so the county's page and its
    towns' agree and add up."""
    root = equity_root(jurisdiction)
    place_ids = root.descendant_ids()
    all_areas = list(
        Area.objects.filter(jurisdiction_id__in=place_ids)
        .select_related("jurisdiction")
        .order_by("pk")
    )
    end = _data_end(place_ids)
    months = whole_months(end.replace(day=1) - dt.timedelta(days=400), end)
    until = months[1] if months else end
    since = until.replace(day=1)
    for _ in range(11):  # twelve whole months in all
        since = (since - dt.timedelta(days=1)).replace(day=1)
    columns = ["people shot", "homicides", "enrolled participants", "contacts", "services"]
    pages = _pages(root, all_areas)
    if jurisdiction.pk not in pages:
        return Equity(jurisdiction, since, until, columns, [], ["0"] * 5, root)
    policy = deployment_policy()
    need = _incident_counts(root, all_areas, since, until, audience, policy)
    reach = area_leaves(policy, [a.pk for a in all_areas], since, until, exclude=exclude)
    values = np.column_stack([need, reach]).astype(float)
    below = sorted(pages[jurisdiction.pk], key=lambda i: all_areas[i].name)
    areas = [all_areas[i] for i in below]
    shown = values[below]
    total = shown.sum(axis=0)
    labels = _exact(np.vstack([shown, total]))
    need_share = shown[:, 0] / total[0] if total[0] else np.zeros(len(areas))
    reach_share = shown[:, 2] / total[2] if total[2] else np.zeros(len(areas))
    gap = need_share - reach_share
    order = np.argsort(-gap, kind="stable")
    rows = [
        EquityRow(areas[i], labels[i], float(gap[i]), rank) for rank, i in enumerate(order, start=1)
    ]
    return Equity(jurisdiction, since, until, columns, rows, labels[-1], root)
