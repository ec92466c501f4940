"""Partner figures as a reader sees them across tables and pages: the tables by program and
by organization read together (each organization's row is the sum of its programs'; the
funnel's stages are ordered; outcomes are counted among the people identified), and the
equity pages of a county and its towns read together. No hidden cell may be pinned, on random
case work and on the demo's."""

from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client

from gvrs.accounts.models import Organization
from gvrs.analysis.partnertables import STAGE_ORDER, STAGES
from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.partners import actions
from gvrs.partners.demo import build_partner_demo
from gvrs.partners.figures import equity_of_access, program_figures
from gvrs.partners.models import Participant
from tests.partner_helpers import make_participant, make_program
from tests.personas import make_user
from tests.suppression_reader import Reader

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 3, 1)


def read_program_figures(figures) -> Reader:
    """Everything the page's tables publish, and what they mean, for a reader (the true
    values, kept beside each table, only to check that they lie in the ranges)."""
    reader = Reader()
    tables = {
        "funnel": (figures.funnel, figures.by_organization[0], False),
        "services": (figures.services, figures.by_organization[1], True),
        "referrals": (figures.referrals, figures.by_organization[2], True),
        "outcomes": (figures.outcomes, figures.by_organization[3], False),
    }
    for name, (by_program, by_org, additive) in tables.items():
        known = {}
        assert by_program.rows[-1] == by_org.rows[-1] == "Total"
        assert by_program.cells[-1] == by_org.cells[-1], "one total, shown alike"
        for kind, table in (("p", by_program), ("o", by_org)):
            for i, row in enumerate(table.rows):
                key_row = "Total" if row == "Total" else (kind, row)
                for j, label in enumerate(table.cells[i]):
                    truth_value = table.raw.values[i, j]
                    known[(name, key_row, j)] = reader.see((name, key_row, j), label, truth_value)
        columns = len(by_program.columns)
        programs = [r for r in by_program.rows if r != "Total"]
        orgs = [r for r in by_org.rows if r != "Total"]
        for j in range(columns):
            for org in orgs:
                mine = [(name, ("p", p), j) for p in programs if p.startswith(f"{org}: ")]
                reader.sums(mine, (name, ("o", org), j), known)
            reader.sums([(name, ("o", o), j) for o in orgs], (name, "Total", j), known)
            reader.sums([(name, ("p", p), j) for p in programs], (name, "Total", j), known)
        if additive:
            rows = [("p", p) for p in programs] + [("o", o) for o in orgs] + ["Total"]
            for row in rows:
                reader.sums(
                    [(name, row, j) for j in range(columns - 1)], (name, row, columns - 1), known
                )
        reader.known = {**getattr(reader, "known", {}), **known}
    rows = [("p", p) for p in figures.funnel.rows[:-1]]
    rows += [("o", o) for o in figures.by_organization[0].rows[:-1]] + ["Total"]
    for row in rows:
        for stage, earlier in STAGE_ORDER:
            reader.at_most(
                ("funnel", row, STAGES.index(stage)),
                ("funnel", row, STAGES.index(earlier)),
                reader.known,
            )
        for j in range(4):
            reader.at_most(("outcomes", row, j), ("funnel", row, 0), reader.known)
    return reader


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


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_program_figures_by_program_and_by_organization_read_together_pin_nothing(people, seed):
    _random_casework(people, seed)
    figures = program_figures(None, suppress=True, as_of=AS_OF)
    assert len(figures.by_organization) == 4
    assert [r for r in figures.by_organization[0].rows] == [
        "Partner A",
        "Partner B",
        "Partner C",
        "Total",
    ]
    assert figures.linked.suppressed.any()
    reader = read_program_figures(figures)
    reader.assert_nothing_pinned()


def test_an_organization_row_is_the_sum_of_its_programs_and_hidden_alike(people):
    """Partner A: programs of 3 and 50 people; B: 40 and 60. Suppressed each on its own, the
    table by organization (53, 100) would give A's 3 away as 53 - 50."""
    partner, outsider = people["partner"], people["outsider"]
    for user, org, sizes in ((partner, "Partner A", (3, 50)), (outsider, "Partner B", (40, 60))):
        for k, n in enumerate(sizes):
            program = make_program(user, org, name=f"P{k}", capacity=100, caseload_per_worker=100)
            for i in range(n):
                make_participant(user, program, f"{org} {k} {i}", enrol=False)
    figures = program_figures(None, suppress=True, as_of=AS_OF)
    identified = {row: cells[0] for row, cells in figures.funnel.body()}
    by_org = {row: cells[0] for row, cells in figures.by_organization[0].body()}
    assert identified["Partner A: P0"] == "fewer than 11"
    assert identified["Partner A: P1"] != "50" or by_org["Partner A"] != "53"
    read_program_figures(figures).assert_nothing_pinned()


def test_inside_the_organization_the_figures_are_exact_and_have_no_table_by_organization(people):
    program = make_program(people["partner"], "Partner A", capacity=50)
    make_participant(people["partner"], program, "Only One")
    own = program_figures(program.organization, suppress=False, as_of=AS_OF)
    assert own.by_organization == [] and own.funnel.cells[0][0] == "1"


def test_the_figures_page_shows_tables_by_organization_outside(people):
    _random_casework(people, 5)
    client = Client()
    client.force_login(people["analyst"])
    page = client.get("/partners/figures/").content.decode()
    assert "By organization" in page and "Funnel" in page
    assert 'data-testid="org-contacts"' in page


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


def test_the_demo_figures_pin_nothing_across_tables_and_across_pages(demo):
    figures = program_figures(None, suppress=True, as_of=AS_OF)
    assert Participant.objects.exists()
    read_program_figures(figures).assert_nothing_pinned()

    # Equity: the county's page and every town's page, read together.
    county = Jurisdiction.objects.get(name=demo.scenario.county)
    towns = list(Jurisdiction.objects.filter(areas__isnull=False).distinct())
    assert towns and all(t.parent_id == county.pk for t in towns)
    reader = Reader()
    known, labels = {}, {}
    for column in range(5):
        pages = {}
        for place in [county, *towns]:
            shown = equity_of_access(place, suppress=True)
            exact = equity_of_access(place, suppress=False)
            truth_by_area = {r.area.pk: r.cells[column] for r in exact.rows}
            for row in shown.rows:
                key = ("area", row.area.pk, column)
                label = row.cells[column]
                # The same area reads the same on every page.
                assert labels.setdefault(key, label) == label, (row.area.name, column)
                known[key] = reader.see(key, label, float(truth_by_area[row.area.pk]))
            key = ("total", place.pk, column)
            known[key] = reader.see(key, shown.total[column], float(exact.total[column]))
            pages[place.pk] = [r.area.pk for r in shown.rows]
        for place, areas in pages.items():
            reader.sums([("area", a, column) for a in areas], ("total", place, column), known)
    assert any(label in ("suppressed", "fewer than 11") for label in labels.values())
    reader.assert_nothing_pinned()
    assert Area.objects.filter(jurisdiction__in=towns).count() == len({k[1] for k in labels})


def test_an_organizations_contact_rate_does_not_give_a_hidden_program_rate_away(people):
    partner = people["partner"]
    small = make_program(partner, "Partner A", name="Small", capacity=50, caseload_per_worker=50)
    large = make_program(partner, "Partner A", name="Large", capacity=50, caseload_per_worker=50)
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
    rates = dict(figures.contacts_per_week)
    assert rates["Partner A: Small"].startswith("suppressed (fewer than 11")
    assert rates["Partner A: Large"] == "0.1"
    assert dict(figures.organization_contacts_per_week)["Partner A"].startswith("suppressed")
    inside = program_figures(small.organization, suppress=False, as_of=AS_OF)
    assert dict(inside.contacts_per_week)["Partner A: Small"] == "0.1"


def read_every_view(figures_by_view: dict, insider: str | None) -> Reader:
    """One reader of every view outside the organizations at once: all partners (the city's
    page), the partners other than ``insider`` (its own page), each organization on its own
    (the council report); ``insider``'s own cells known exactly, as its staff know them."""
    reader = Reader()
    known: dict = {}
    shown: dict = {}

    def name_of(view, row):
        if row != "Total":
            return ("p", row) if ": " in row else ("o", row)
        if view == "all":
            return "Total"
        if view == "others":
            return ("others", insider)
        return ("o", view[1])

    for view, figures in figures_by_view.items():
        for table_name, table in (
            ("funnel", figures.funnel),
            ("services", figures.services),
            ("referrals", figures.referrals),
            ("outcomes", figures.outcomes),
            *[
                (n, t)
                for n, t in zip(
                    ("funnel", "services", "referrals", "outcomes"),
                    figures.by_organization,
                    strict=False,
                )
            ],
        ):
            for i, row in enumerate(table.rows):
                for j, label in enumerate(table.cells[i]):
                    key = (table_name, name_of(view, row), j)
                    truth = table.raw.values[i, j]
                    mine = insider is not None and (
                        key[1] == ("o", insider)
                        or (key[1][0] == "p" and key[1][1].startswith(f"{insider}: "))
                    )
                    if key in shown:
                        assert shown[key] == label, f"{key} is {shown[key]} and {label}"
                    shown[key] = label
                    if mine:
                        reader.unknown.pop(key, None)
                        known[key] = None if np.isnan(truth) else float(truth)
                    elif key not in known:
                        known[key] = reader.see(key, label, truth)
    rows = {k[1] for k in known}
    programs = sorted(r for r in rows if r != "Total" and r[0] == "p")
    orgs = sorted(r for r in rows if r != "Total" and r[0] == "o")
    for table_name, columns, additive in (
        ("funnel", 5, False),
        ("services", len(figures_by_view["all"].services.columns), True),
        ("referrals", len(figures_by_view["all"].referrals.columns), True),
        ("outcomes", 4, False),
    ):
        for j in range(columns):
            for org in orgs:
                mine = [(table_name, p, j) for p in programs if p[1].startswith(f"{org[1]}: ")]
                reader.sums(mine, (table_name, org, j), known)
            reader.sums([(table_name, o, j) for o in orgs], (table_name, "Total", j), known)
            if insider is not None:
                others = [(table_name, o, j) for o in orgs if o != ("o", insider)]
                reader.sums(others, (table_name, ("others", insider), j), known)
        if additive:
            for row in [*programs, *orgs, "Total", ("others", insider)]:
                reader.sums(
                    [(table_name, row, j) for j in range(columns - 1)],
                    (table_name, row, columns - 1),
                    known,
                )
    for row in [*programs, *orgs, "Total", ("others", insider)]:
        for stage, earlier in STAGE_ORDER:
            reader.at_most(
                ("funnel", row, STAGES.index(stage)), ("funnel", row, STAGES.index(earlier)), known
            )
        for j in range(4):
            reader.at_most(("outcomes", row, j), ("funnel", row, 0), known)
    return reader


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_partner_reading_every_view_with_its_own_counts_pins_nothing_of_the_others(people, seed):
    """The city's page (all partners), the partner's own page (the other partners) and the
    council report (each organization on its own), read together by a partner that knows its
    own counts exactly: no other organization's hidden cell may be pinned."""
    _random_casework(people, seed)
    organizations = list(Organization.objects.filter(name__startswith="Partner ").order_by("name"))
    every = {("org", o.name): program_figures(o, suppress=True, as_of=AS_OF) for o in organizations}
    every["all"] = program_figures(None, suppress=True, as_of=AS_OF)
    read_every_view(every, None).assert_nothing_pinned()
    for insider in organizations:
        views = {
            **every,
            "others": program_figures(None, suppress=True, as_of=AS_OF, exclude=insider),
        }
        read_every_view(views, insider.name).assert_no_small_count_pinned()


def test_a_small_count_of_the_others_is_not_given_away_by_the_all_partners_total(people):
    """Partner A with 40 and 50 people, B with 7: the city's total of 97 less A's own 90 would
    give B's 7 away, and so would "the other partners" on A's page."""
    for user, org, sizes in (
        (people["partner"], "Partner A", (40, 50)),
        (people["outsider"], "Partner B", (7,)),
    ):
        for k, n in enumerate(sizes):
            program = make_program(user, org, name=f"P{k}", capacity=100, caseload_per_worker=100)
            for i in range(n):
                make_participant(user, program, f"{org} {k} {i}", enrol=False)
    everyone = program_figures(None, suppress=True, as_of=AS_OF)
    assert everyone.funnel.cells[-1][0] != "97"  # the grand total of people identified
    a = Organization.objects.get(name="Partner A")
    others = program_figures(None, suppress=True, as_of=AS_OF, exclude=a)
    assert others.funnel.cells[-1][0] == "fewer than 11"


def test_the_views_of_one_day_share_one_decision_until_the_counts_change(people, monkeypatch):
    """The figures page (the other partners), the city's page and the council report's
    tables per organization are cut from one decision; a new participant makes a new one."""
    from gvrs.analysis import partnertables

    _random_casework(people, 4)
    decided = []
    real = partnertables._decide
    monkeypatch.setattr(partnertables, "_decide", lambda *a: decided.append(1) or real(*a))
    partnertables._DECIDED.clear()
    a = Organization.objects.get(name="Partner A")
    program_figures(None, suppress=True, as_of=AS_OF)
    program_figures(None, suppress=True, as_of=AS_OF, exclude=a)
    program_figures(a, suppress=True, as_of=AS_OF)
    assert len(decided) == 1
    program = make_program(people["partner"], "Partner A", name="New", capacity=50)
    make_participant(people["partner"], program, "Someone New")
    program_figures(None, suppress=True, as_of=AS_OF)
    assert len(decided) == 2
