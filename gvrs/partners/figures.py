"""Aggregates of partner work: the only thing that leaves an organization.

Each table is counted in the database (grouped queries, never a loop over participants) and
passed through ``gvrs.analysis.suppression`` before it reaches a page, unless the reader is
inside the organization the figures describe. Outside, only participants who consented to
aggregate reporting are counted.

Tables published side by side are suppressed together, as one linked system
(``LinkedTables``): the figures by program and by organization share each organization's
row and the grand total; the funnel's stages are ordered (no more enrolled than identified);
an area's count appears on its county's page and on its city's page, whose totals add up.
A cell hidden in one of them is hidden in all, and the suppression is audited over the whole
system, so no hidden count can be worked out by combining pages.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, F, Max, Q, Sum

from gvrs.analysis.partnertables import ADDITIVE, MEASURES, STAGES, outside_system
from gvrs.analysis.suppression import (
    DEFAULT_THRESHOLD,
    MISSING,
    LinkedSuppression,
    LinkedTables,
    SuppressedTable,
    augment,
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


def _table(title, rows, columns, ids, result, values, suppress, note="") -> Table:
    """One published table: the cells ``ids`` of the linked system, labelled as suppressed
    (outside) or exact (inside)."""
    if suppress:
        view = result.view(ids)
        cells = view.display()
    else:
        view = None
        cells = _exact(values[ids])
    return Table(title, [*rows, "Total"], list(columns), cells, suppress, note, view)


def _empty_table(title, columns, note="") -> Table:
    return Table(title, ["Total"], list(columns), [["0"] * len(columns)], False, note)


def _programs(organization, exclude=None):
    qs = Program.objects.select_related("organization").order_by("organization__name", "name")
    if exclude is not None:
        qs = qs.exclude(organization=exclude)
    return qs.filter(organization=organization) if organization is not None else qs


def _participants(organization, suppress: bool, exclude=None):
    qs = Participant.objects.all()
    if organization is not None:
        qs = qs.filter(organization=organization)
    if exclude is not None:
        qs = qs.exclude(organization=exclude)
    return qs.in_aggregates() if suppress else qs


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
    same per organization (``by_organization``: funnel, services, referrals, outcomes),
    suppressed together as ``linked``."""

    funnel: Table
    services: Table
    referrals: Table
    outcomes: Table
    contacts_per_week: list[tuple[str, str]]
    scope: str
    by_organization: list[Table] = field(default_factory=list)
    organization_contacts_per_week: list[tuple[str, str]] = field(default_factory=list)
    linked: LinkedSuppression | None = field(default=None, repr=False, compare=False)


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


def _contact_rates(people, programs, as_of: dt.date, suppress: bool, groups) -> list:
    """Contacts per enrolled participant per week over the last 12 weeks, for each group of
    programs ``groups``: (label, [program indices]). A rate is shown only where the
    participants it divides by are not a small count, and a group's rate is hidden too when
    exactly one of its programs' rates is (with the others shown it would give that one
    away)."""
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

    def small(i: int) -> bool:
        n = enrolled.get(programs[i].pk, 0)
        return suppress and 0 < n <= DEFAULT_THRESHOLD

    out = []
    for label, members in groups:
        n = sum(enrolled.get(programs[i].pk, 0) for i in members)
        reached = sum(contacts.get(programs[i].pk, 0) for i in members)
        if n == 0:
            out.append((label, "no enrolled participants"))
        elif suppress and n <= DEFAULT_THRESHOLD:
            out.append((label, f"suppressed (fewer than {DEFAULT_THRESHOLD + 1} enrolled)"))
        elif len(members) > 1 and sum(small(i) for i in members) == 1:
            out.append((label, "suppressed (it would give a program's rate away)"))
        else:
            out.append((label, f"{reached / n / 12:.1f}"))
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


def _outside_system(as_of: dt.date):
    """Every view outside the organizations is cut from this one decision
    (``gvrs.analysis.partnertables``): programs, organizations and the decided system."""
    programs = list(_programs(None))
    if not programs:
        return None
    organizations = list(dict.fromkeys(p.organization for p in programs))
    org_index = {o.pk: g for g, o in enumerate(organizations)}
    group = np.array([org_index[p.organization_id] for p in programs], dtype=int)
    counts = _counts(_participants(None, True), programs, as_of)
    return programs, organizations, outside_system(counts, group)


CONSENTED = " (participants who consented to aggregate reporting)"


def program_figures(
    organization=None, *, suppress: bool, as_of: dt.date, exclude=None
) -> ProgramFigures:
    """The funnel, services by type, referrals by status, outcomes and contacts per
    participant per week, per program and per organization (of one organization, or of all).

    Inside an organization (``suppress=False``) its own figures, exact. Outside, every view
    (all partners; one organization; ``exclude``: the partners other than the reader's own,
    which it knows exactly) is cut from one decision (``_outside_system``), so no two views
    together give away what either hides.
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
    people = _participants(organization, suppress, exclude)

    def empty() -> ProgramFigures:
        tables = {k: _empty_table(titles[k], columns[k], notes.get(k, "")) for k in titles}
        return ProgramFigures(*tables.values(), [], scope)

    if not suppress:
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
                people, programs, as_of, False, [(label, [i]) for i, label in enumerate(labels)]
            ),
            scope,
        )
    outside = _outside_system(as_of)
    if outside is None:
        return empty()
    all_programs, organizations, built = outside
    keep = [
        g
        for g, o in enumerate(organizations)
        if (organization is None or o.pk == organization.pk)
        and (exclude is None or o.pk != exclude.pk)
    ]
    if not keep:
        return empty()
    rows = np.flatnonzero(np.isin(built.group, keep))
    programs = [all_programs[i] for i in rows]
    labels = [_label(p) for p in programs]
    org_labels = [organizations[g].name for g in keep]
    excluded = (
        None
        if exclude is None
        else next((g for g, o in enumerate(organizations) if o.pk == exclude.pk), None)
    )

    def total(k):
        _, groups, grand = built.ids[k]
        if organization is not None:
            return groups[keep[0]]
        if excluded is not None:
            return built.others[k][excluded]
        return grand

    def table(k, which):
        cells, groups, _ = built.ids[k]
        block = np.vstack([cells[rows] if which == "rows" else groups[keep], total(k)[None, :]])
        suffix = "" if which == "rows" else ", by organization"
        return _table(
            titles[k] + suffix,
            labels if which == "rows" else org_labels,
            columns[k],
            block,
            built.result,
            built.values,
            True,
            notes.get(k, ""),
        )

    per_org = organization is None
    by_program = {k: table(k, "rows") for k in titles}
    members = [
        (
            organizations[g].name,
            [i for i, p in enumerate(programs) if p.organization_id == organizations[g].pk],
        )
        for g in keep
    ]
    return ProgramFigures(
        *by_program.values(),
        _contact_rates(
            people, programs, as_of, True, [(label, [i]) for i, label in enumerate(labels)]
        ),
        scope,
        [table(k, "groups") for k in titles] if per_org else [],
        _contact_rates(people, programs, as_of, True, members) if per_org else [],
        built.result,
    )


def _scope(suppress: bool, exclude) -> str:
    return (
        "your organization, exact"
        if not suppress
        else "other partners, suppressed"
        if exclude is not None
        else "all partners, suppressed"
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
    # The county (usually) whose pages are counted over the same months and suppressed
    # together with this one.
    linked_with: Jurisdiction | None = None


def equity_root(jurisdiction: Jurisdiction) -> Jurisdiction:
    """The highest page of areas above ``jurisdiction`` (its county, usually): every page
    under it shares areas or totals with it, so they are suppressed as one system."""
    root = jurisdiction
    while root.parent_id is not None:
        parent = root.parent
        is_page = Area.objects.filter(Q(jurisdiction=parent) | Q(jurisdiction__parent=parent))
        if not is_page.exists():
            break
        root = parent
    return root


def _area_counts(areas, incidents, people, since, until) -> np.ndarray:
    """Per area: people shot and killed in incidents of the window, participants enrolled
    now, and their contacts and services in the window."""
    index = {a.pk: i for i, a in enumerate(areas)}
    window = incidents.filter(occurred_on__gte=since, occurred_on__lte=until, area__isnull=False)
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
    people = people.filter(area_id__in=index)
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
    counts = np.zeros((len(areas), 5))
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
    return counts


def _area_system(root: Jurisdiction, areas: list[Area], counts: np.ndarray):
    """The linked system of every page under ``root``: each page lists the areas below it
    above its total, and its total is the sum of its sub-pages' totals and its own areas.
    Returns the system, the area cells (A, 5) and, per jurisdiction with areas below, (its
    total's cells, the indices of its areas)."""
    tree = dict(
        Jurisdiction.objects.filter(pk__in=root.descendant_ids()).values_list("pk", "parent_id")
    )
    children: dict[int, list[int]] = {}
    for pk, parent in tree.items():
        if pk != root.pk:
            children.setdefault(parent, []).append(pk)
    direct: dict[int, list[int]] = {}
    for i, area in enumerate(areas):
        direct.setdefault(area.jurisdiction_id, []).append(i)
    system = LinkedTables()
    cells = system.cells(counts)
    pages: dict[int, tuple[np.ndarray, list[int]]] = {}

    def build(node: int):
        below, parts = [], []
        for child in sorted(children.get(node, [])):
            built = build(child)
            if built is not None:
                parts.append(built[0])
                below.extend(built[1])
        parts.extend(cells[i] for i in direct.get(node, []))
        below.extend(direct.get(node, []))
        if not parts:
            return None
        total = system.sums(np.vstack(parts), axis=0)
        system.relate(np.vstack([*parts, total]), lines="columns")
        if len(below) != len(parts):  # the page itself lists every area below
            system.relate(np.vstack([cells[sorted(below)], total]), lines="columns")
        pages[node] = (total, sorted(below))
        return total, below

    build(root.pk)
    return system, cells, pages


def _data_end(place_ids) -> dt.date:
    """The end of the incident sources' recorded coverage (issue 10), never the latest
    incident: a stray record dated past the data would put the window in months with no
    data, and a quiet last month would cut it short."""
    from gvrs.incidents.coverage import place_coverage

    covered = place_coverage(place_ids)
    return max((c.last for c in covered), default=None) or dt.date.today()


def equity_of_access(
    jurisdiction: Jurisdiction, *, suppress: bool, organization=None, exclude=None
) -> Equity:
    """Need (people shot, homicides, over the 12 months to the end of the incident data's
    coverage) against reach
    (participants enrolled, contacts and services in those months) per area, ranked by unmet
    need: the area's share of people shot minus its share of enrolled participants, both as
    shown. A suppressed figure counts as 0 in the ranking, so the order never depends on a
    hidden number.

    Every page under the same county (``equity_root``) is counted over the same 12 months
    and suppressed as one linked system, so an area hidden on the city's page is hidden on
    the county's too, and no hidden count can be worked out by comparing the pages."""
    root = equity_root(jurisdiction)
    place_ids = root.descendant_ids()
    all_areas = list(
        Area.objects.filter(jurisdiction_id__in=place_ids).select_related("jurisdiction")
    )
    incidents = Incident.objects.filter(jurisdiction_id__in=place_ids)
    until = _data_end(place_ids)
    since = until - dt.timedelta(days=365) + dt.timedelta(days=1)
    people = _participants(organization, suppress, exclude)
    counts = _area_counts(all_areas, incidents, people, since, until)
    columns = ["people shot", "homicides", "enrolled participants", "contacts", "services"]
    if not all_areas:
        return Equity(jurisdiction, since, until, columns, [], ["0"] * 5, suppress, root)
    system, cells, pages = _area_system(root, all_areas, counts)
    if jurisdiction.pk not in pages:
        return Equity(jurisdiction, since, until, columns, [], ["0"] * 5, suppress, root)
    total, below = pages[jurisdiction.pk]
    areas = [all_areas[i] for i in below]
    block = np.vstack([cells[below], total[None, :]])
    values = system.values(block)
    if suppress:
        result = system.suppress(DEFAULT_THRESHOLD)
        labels = result.view(block).display()
        shown = np.nan_to_num(np.where(result.suppressed[block], np.nan, values))[:-1]
    else:
        labels = _exact(values)
        shown = values[:-1]
    need = shown[:, 0] / shown[:, 0].sum() if shown[:, 0].sum() else np.zeros(len(areas))
    reach = shown[:, 2] / shown[:, 2].sum() if shown[:, 2].sum() else np.zeros(len(areas))
    gap = need - reach
    order = np.argsort(-gap, kind="stable")
    rows = [
        EquityRow(areas[i], labels[i], float(gap[i]), rank) for rank, i in enumerate(order, start=1)
    ]
    return Equity(jurisdiction, since, until, columns, rows, labels[-1], suppress, root)
