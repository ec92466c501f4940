"""Partner figures as a reader sees them across tables and pages (docs/disclosure.md): every
count outside an organization is a perturbed leaf (a program's, or an area's), every row and
total a sum of leaves shown, so the views agree; a reader writing down everything they say,
with a partner's own counts known exactly, pins no small count of another organization, on
random case work and on the demo's."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from gvrs.accounts.models import Organization
from gvrs.analysis.disclosure import Audience, NoiseTable
from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.partners import actions
from gvrs.partners.demo import build_partner_demo
from gvrs.partners.figures import equity_of_access, program_figures
from gvrs.partners.models import Participant
from gvrs.partners.outside import program_leaves
from tests.partner_helpers import make_participant, make_program
from tests.personas import make_user
from tests.suppression_reader import Reader

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 3, 1)
CAP = NoiseTable().cap
TABLES = ("funnel", "services", "referrals", "outcomes")
ADDITIVE = ("services", "referrals")
# What every reader knows of the funnel: (stage, the stage it cannot outnumber), by column.
STAGE_ORDER = [(1, 0), (2, 0), (3, 2), (4, 2)]


def _random_casework(people, seed: int) -> None:
    rng = np.random.default_rng(seed)
    third = make_user("tia", "partner staff", "Partner C", "partner")
    users = {"Partner A": people["partner"], "Partner B": people["outsider"], "Partner C": third}
    for org, user in users.items():
        for k in range(int(rng.integers(1, 4))):
            program = make_program(user, org, name=f"P{k}", capacity=200, caseload_per_worker=50)
            for i in range(int(rng.integers(0, 25))):
                person = make_participant(
                    user, program, f"{org} {k} {i}", enrol=bool(rng.random() < 0.7)
                )
                if rng.random() < 0.5:
                    actions.log_contact(
                        user,
                        person,
                        on=AS_OF - dt.timedelta(days=int(rng.integers(0, 60))),
                        duration_minutes=10,
                        kind="in_person",
                        place="street",
                    )
                for _ in range(int(rng.integers(0, 3))):
                    actions.record_service(
                        user,
                        person,
                        kind=str(rng.choice(["housing", "legal", "education", "stipend"])),
                        delivered_on=dt.date(2026, 2, 1),
                    )
                if rng.random() < 0.4:
                    actions.record_outcome(
                        user,
                        person,
                        window_start=dt.date(2026, 1, 1),
                        window_end=dt.date(2026, 2, 1),
                        alive=True,
                        not_shot=bool(rng.random() < 0.8),
                        not_arrested_firearm=None if rng.random() < 0.3 else True,
                        in_school_or_work=bool(rng.random() < 0.5),
                    )
                if person.status == "enrolled" and rng.random() < 0.2:
                    actions.exit_participant(user, person, "completed", dt.date(2026, 2, 20))
                if rng.random() < 0.15:
                    other = next(o for o in users if o != org)
                    actions.send_referral(
                        user, person, Organization.objects.get(name=other), reason="jobs"
                    )


def _exact_cells() -> dict:
    """The truth: each program's exact counts, from inside its organization (every
    participant of the random case work consented to aggregate reporting)."""
    truth = {}
    for organization in Organization.objects.filter(kind="partner"):
        inside = program_figures(organization, suppress=False, as_of=AS_OF)
        for name, table in zip(
            TABLES, (inside.funnel, inside.services, inside.referrals, inside.outcomes), strict=True
        ):
            for row, cells in table.body():
                if row != "Total":
                    for j, label in enumerate(cells):
                        truth[(name, row, j)] = (
                            np.nan if label == "no data" else float(label.replace(",", ""))
                        )
    return truth


def read_every_view(views: dict, insider: str | None) -> Reader:
    """One reader of every view outside the organizations at once: all partners (the city's
    page), the partners other than ``insider`` (its own page), each organization on its own
    (the council report). Program cells are perturbed figures (within the page's bound); rows
    of organizations, "the other partners" and totals are sums of the figures shown, as the
    page says; ``insider``'s own program cells are known exactly, as its staff know them."""
    truth = _exact_cells()
    reader = Reader()
    known: dict = {}
    shown: dict = {}
    for figures in views.values():
        within = figures.perturbed_within
        for name, table in zip(
            TABLES,
            (figures.funnel, figures.services, figures.referrals, figures.outcomes),
            strict=True,
        ):
            for row, cells in table.body():
                if row == "Total":
                    continue
                for j, label in enumerate(cells):
                    key = (name, row, j)
                    assert shown.setdefault(key, label) == label, f"{key}: {shown[key]}, {label}"
                    if insider is not None and row.startswith(f"{insider}: "):
                        known[key] = None if np.isnan(truth[key]) else truth[key]
                    elif key not in known and key not in reader.unknown:
                        # A program's Total column (services, referrals) is the sum of the
                        # figures shown beside it, each within the bound: within that many
                        # bounds of its count, not within one (with some keys it strays 7).
                        total = name in ADDITIVE and j == len(cells) - 1
                        bound = within * (len(cells) - 1) if total else within
                        known[key] = reader.see(key, label, truth[key], bound)
    # What the rows mean: each column of a program is a count; a program's Total column is
    # the sum of its other columns; the funnel's stages and the outcomes are ordered.
    programs = sorted({k[1] for k in shown})
    for name in TABLES:
        columns = 1 + max(k[2] for k in shown if k[0] == name)
        if name in ADDITIVE:
            for row in programs:
                parts = [(name, row, j) for j in range(columns - 1)]
                reader.sums(parts, (name, row, columns - 1), known)
    for row in programs:
        for stage, earlier in STAGE_ORDER:
            reader.at_most(("funnel", row, stage), ("funnel", row, earlier), known)
        for j in range(4):
            reader.at_most(("outcomes", row, j), ("funnel", row, 0), known)
    return reader


def _sums_are_of_the_figures_shown(figures) -> None:
    for table, by_org in zip(
        (figures.funnel, figures.services, figures.referrals, figures.outcomes),
        figures.by_organization or [None] * 4,
        strict=True,
    ):
        body = dict(table.body())

        def value(label: str) -> float:
            return np.nan if label == "no data" else float(label.replace(",", ""))

        rows = [r for r in body if r != "Total"]
        for j in range(len(table.columns)):
            column = [value(body[r][j]) for r in rows]
            total = value(body["Total"][j])
            assert (np.isnan(total) and all(np.isnan(column))) or total == np.nansum(column)
            if by_org is not None:
                for org, cells in by_org.body():
                    if org != "Total":
                        mine = [value(body[r][j]) for r in rows if r.startswith(f"{org}: ")]
                        assert value(cells[j]) == np.nansum(mine) or np.isnan(value(cells[j]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_partner_reading_every_view_with_its_own_counts_pins_nothing_of_the_others(people, seed):
    """The city's page (all partners), the partner's own page (the other partners) and the
    council report (each organization on its own), read together by a partner that knows its
    own counts exactly: no other organization's small count may be pinned."""
    _random_casework(people, seed)
    organizations = list(Organization.objects.filter(name__startswith="Partner ").order_by("name"))
    every = {("org", o.name): program_figures(o, suppress=True, as_of=AS_OF) for o in organizations}
    every["all"] = program_figures(None, suppress=True, as_of=AS_OF)
    _sums_are_of_the_figures_shown(every["all"])
    read_every_view(every, None).assert_nothing_pinned()
    for insider in organizations:
        views = {
            **every,
            "others": program_figures(None, suppress=True, as_of=AS_OF, exclude=insider),
        }
        read_every_view(views, insider.name).assert_no_small_count_pinned()


def test_a_small_count_of_the_others_is_not_given_away_by_the_all_partners_total(people):
    """Partner A with 40 and 50 people, B with 7: exact, the city's total of 97 less A's own
    90 would give B's 7 away, and so would "the other partners" on A's page."""
    for user, org, sizes in (
        (people["partner"], "Partner A", (40, 50)),
        (people["outsider"], "Partner B", (7,)),
    ):
        for k, n in enumerate(sizes):
            program = make_program(user, org, name=f"P{k}", capacity=100, caseload_per_worker=100)
            for i in range(n):
                make_participant(user, program, f"{org} {k} {i}", enrol=False)
    everyone = program_figures(None, suppress=True, as_of=AS_OF)
    a = Organization.objects.get(name="Partner A")
    others = program_figures(None, suppress=True, as_of=AS_OF, exclude=a)
    # A knows its own 90: what it reads of B is B's perturbed figure and nothing closer.
    total = int(everyone.funnel.cells[-1][0])
    shown_a = sum(int(c[0]) for r, c in everyone.funnel.body() if r.startswith("Partner A: "))
    b = int(dict(others.funnel.body())["Partner B: P0"][0])
    assert total - shown_a == b == int(others.funnel.cells[-1][0])
    assert abs(b - 7) <= CAP


def test_inside_the_organization_the_figures_are_exact_and_have_no_table_by_organization(people):
    program = make_program(people["partner"], "Partner A", capacity=50)
    make_participant(people["partner"], program, "Only One")
    own = program_figures(program.organization, suppress=False, as_of=AS_OF)
    assert own.by_organization == [] and own.funnel.cells[0][0] == "1"
    assert own.perturbed_within == 0


def test_the_figures_page_shows_tables_by_organization_outside(people):
    _random_casework(people, 5)
    client = Client()
    client.force_login(people["analyst"])
    page = client.get("/partners/figures/").content.decode()
    assert "By organization" in page and "Funnel" in page
    assert 'data-testid="org-contacts"' in page and 'data-perturbed-within="5"' in page


def test_contact_rates_outside_divide_perturbed_figures(people):
    partner = people["partner"]
    small = make_program(partner, "Partner A", name="Small", capacity=50, caseload_per_worker=50)
    large = make_program(partner, "Partner A", name="Large", capacity=50, caseload_per_worker=50)
    make_program(partner, "Partner A", name="Empty", capacity=50, caseload_per_worker=50)
    for program, n in ((small, 4), (large, 20)):
        for i in range(n):
            person = make_participant(partner, program, f"{program.name} {i}")
            actions.log_contact(
                partner,
                person,
                on=AS_OF - dt.timedelta(days=3),
                duration_minutes=10,
                kind="in_person",
                place="street",
            )
    figures = program_figures(None, suppress=True, as_of=AS_OF)
    leaves = program_leaves(_policy(), AS_OF)
    rates = dict(figures.contacts_per_week)
    for i, program in enumerate(leaves.programs):
        label = f"Partner A: {program.name}"
        if leaves.enrolled[i] == 0:
            assert rates[label] == "no enrolled participants"
        else:
            assert rates[label] == f"{leaves.contacts[i] / leaves.enrolled[i] / 12:.1f}"
    inside = program_figures(small.organization, suppress=False, as_of=AS_OF)
    assert dict(inside.contacts_per_week)["Partner A: Small"] == "0.1"


def _policy():
    from gvrs.accounts.audience import deployment_policy

    return deployment_policy()


def test_the_figures_change_whenever_the_case_work_does(people):
    """What the council report's cache keys on: the leaves' digest moves with a new
    participant, and only then."""
    _random_casework(people, 4)
    before = program_leaves(_policy(), AS_OF).digest()
    assert program_leaves(_policy(), AS_OF).digest() == before
    program = make_program(people["partner"], "Partner A", name="New", capacity=50)
    make_participant(people["partner"], program, "Someone New")
    assert program_leaves(_policy(), AS_OF).digest() != before


@pytest.fixture
def demo(tmp_path):
    city = simulate("small-town", years=(2019, 2024), seed=3)
    paths = write_city(city, tmp_path / "sim")
    assert import_file(paths["incidents.csv"], load_format("gvrs")).ok
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        stdout=io.StringIO(),
    )
    build_partner_demo(paths["truth.json"].parent, county=city.scenario.county, password="x" * 16)
    return city


def test_the_demo_equity_pages_agree_and_pin_nothing(demo):
    """Equity: the county's page and every town's page, read together by the public (need
    perturbed too): an area reads the same on every page, every total is the sum of the
    areas shown, and no area's count is pinned."""
    assert Participant.objects.exists()
    county = Jurisdiction.objects.get(name=demo.scenario.county)
    towns = list(Jurisdiction.objects.filter(areas__isnull=False).distinct())
    assert towns and all(t.parent_id == county.pk for t in towns)
    viewer = Audience(incidents=True)
    reader = Reader()
    known, labels = {}, {}
    for place in [county, *towns]:
        shown = equity_of_access(place, audience=Audience())
        exact = equity_of_access(place, audience=viewer)
        for column in range(5):
            total = 0
            for row in shown.rows:
                key = ("area", row.area.pk, column)
                label = row.cells[column]
                assert labels.setdefault(key, label) == label, (row.area.name, column)
                total += int(label.replace(",", ""))
                if column < 2 and key not in reader.unknown:
                    # Need: the truth is what a reader of incident records sees.
                    truth = next(r for r in exact.rows if r.area.pk == row.area.pk).cells[column]
                    known[key] = reader.see(key, label, float(truth.replace(",", "")), CAP)
            assert shown.total[column] == f"{total:,}"
    reader.assert_nothing_pinned()
    assert Area.objects.filter(jurisdiction__in=towns).count() == len({k[1] for k in labels})
