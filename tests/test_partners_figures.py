"""Figures that leave an organization: equity of access per area (need against reach, ranked)
and program figures, perturbed outside the organization (docs/disclosure.md) and exact inside
it, checked against the exact counts by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from gvrs.analysis.disclosure import PUBLIC, Audience, NoiseTable
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.partners import actions
from gvrs.partners.figures import equity_of_access, program_figures
from tests.importing_helpers import row, write_csv
from tests.partner_helpers import make_participant, make_program

pytestmark = pytest.mark.django_db
CAP = NoiseTable().cap
VIEWER = Audience(incidents=True)


@pytest.fixture
def city(tmp_path):
    """East: 30 people shot in 2022; West: 12; North: 3 (all killed); the data cover 2022."""
    rows = []
    for area, n, kind in (
        ("East", 30, "nonfatal_shooting"),
        ("West", 12, "nonfatal_shooting"),
        ("North", 3, "homicide"),
    ):
        for i in range(n):
            killed = "1" if kind == "homicide" else "0"
            rows.append(
                row(
                    f"{area}-{i}",
                    area=area,
                    kind=kind,
                    killed=killed,
                    injured="0" if killed == "1" else "1",
                    occurred_at=f"2022-{1 + i % 12:02d}-10",
                )
            )
    path = write_csv(tmp_path / "c.csv", rows)
    report = import_file(
        path,
        load_format("gvrs"),
        covers_from=dt.date(2022, 1, 1),
        covers_through=dt.date(2022, 12, 31),
    )
    assert report.ok
    return Jurisdiction.objects.get(name="Bakersfield")


def _near(shown: str, truth: int) -> bool:
    """A perturbed figure: within the table's bound of the count, and never above 0 for a
    count of 0."""
    value = int(shown.replace(",", ""))
    return abs(value - truth) <= CAP and (truth > 0 or value == 0)


def test_equity_ranks_areas_by_unmet_need_and_perturbs_partners_work(people, city):
    partner = people["partner"]
    program = make_program(partner, "Partner A", capacity=100, caseload_per_worker=50)
    west = Area.objects.get(name="West")
    for i in range(14):
        make_participant(partner, program, f"W{i}", area=west)
    make_participant(partner, program, "No consent", area=west, aggregate=False)
    result = equity_of_access(city, audience=VIEWER)
    # The 12 whole months to the end of the coverage, the same on every page of the county.
    assert (result.since, result.until) == (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    by_area = {r.area.name: r for r in result.rows}
    # A viewer may read incident records: need is exact. Reach is perturbed, and the
    # participant who did not consent is not counted.
    assert (by_area["East"].cells[0], by_area["North"].cells[1]) == ("30", "3")
    assert _near(by_area["West"].cells[2], 14)
    assert by_area["East"].cells[2] == "0"  # no participant there: never more than 0
    # Totals add up the figures shown.
    for j in range(5):
        shown = sum(int(r.cells[j].replace(",", "")) for r in result.rows)
        assert result.total[j] == f"{shown:,}"
    # East has 67% of people shot and no participants: first. West has 27% and all of them.
    assert [r.area.name for r in result.rows][:1] == ["East"]
    assert by_area["West"].rank == 3
    # A reader who may not read incident records sees need perturbed too.
    public = {r.area.name: r for r in equity_of_access(city, audience=PUBLIC).rows}
    assert _near(public["East"].cells[0], 30) and _near(public["North"].cells[1], 3)


def test_the_equity_window_ends_with_the_datas_coverage_not_a_stray_record(people, city, tmp_path):
    stray = [row("Stray-1", area="East", occurred_at="2025-11-26")]
    report = import_file(
        write_csv(tmp_path / "stray.csv", stray),
        load_format("gvrs"),
        covers_from=dt.date(2022, 1, 1),
        covers_through=dt.date(2022, 12, 31),
    )
    assert report.ok
    result = equity_of_access(city, audience=VIEWER)
    assert (result.since, result.until) == (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert {r.area.name: r.cells[0] for r in result.rows}["East"] == "30"


def _cells(table) -> dict[tuple[str, str], str]:
    return {
        (label, column): value
        for label, cells in table.body()
        for column, value in zip(table.columns, cells, strict=True)
    }


def test_program_figures_outside_are_perturbed_leaves_that_add_up_on_every_view(people):
    partner, outsider = people["partner"], people["outsider"]
    programs = [
        make_program(partner, "Partner A", name=f"P{k}", capacity=100, caseload_per_worker=50)
        for k in range(3)
    ]
    programs.append(
        make_program(outsider, "Partner B", name="B", capacity=100, caseload_per_worker=50)
    )
    rng = np.random.default_rng(4)
    for program in programs:
        user = partner if program.organization.name == "Partner A" else outsider
        for i in range(int(rng.integers(1, 16))):
            person = make_participant(user, program, f"{program.name}-{i}")
            for _ in range(int(rng.integers(0, 4))):
                actions.record_service(
                    user,
                    person,
                    kind=str(rng.choice(["housing", "legal", "education"])),
                    delivered_on=dt.date(2026, 2, 1),
                )
    as_of = dt.date(2026, 3, 1)
    everyone = program_figures(None, suppress=True, as_of=as_of)
    assert everyone.scope == "all partners, perturbed" and everyone.perturbed_within == CAP
    exact = {}
    for organization in {p.organization for p in programs}:
        own = program_figures(organization, suppress=False, as_of=as_of)
        exact.update({k: v for k, v in _cells(own.services).items() if k[0] != "Total"})
        assert "fewer than" not in str(own.funnel.cells)
    shown = _cells(everyone.services)
    for key, truth in exact.items():
        assert _near(shown[key], int(truth.replace(",", ""))), key
    assert any(shown[key] != truth for key, truth in exact.items())  # perturbed, not copied
    # Every row's Total is the sum of its cells; organizations and the Total row are sums of
    # the programs shown.
    columns = everyone.services.columns
    for _label, cells in everyone.services.body():
        values = [int(c.replace(",", "")) for c in cells]
        assert values[-1] == sum(values[:-1])
    by_org = _cells(everyone.by_organization[1])
    for column in columns:
        for org in ("Partner A", "Partner B"):
            mine = [v for (r, c), v in shown.items() if c == column and r.startswith(f"{org}: ")]
            assert int(by_org[(org, column)]) == sum(int(v) for v in mine)
    # One organization's own view (the council report's) and the others' view show the same
    # leaves as the all-partners view.
    a = programs[0].organization
    only_a = _cells(program_figures(a, suppress=True, as_of=as_of).services)
    others = _cells(program_figures(None, suppress=True, as_of=as_of, exclude=a).services)
    for key, value in {**only_a, **others}.items():
        if key[0] != "Total":
            assert shown[key] == value


def test_a_partner_reads_the_others_figures_without_its_own_and_unknown_is_no_data(people):
    partner, outsider = people["partner"], people["outsider"]
    a = make_program(partner, "Partner A", capacity=100, caseload_per_worker=50)
    b = make_program(outsider, "Partner B", name="B", capacity=100, caseload_per_worker=50)
    for user, program in ((partner, a), (outsider, b)):
        person = make_participant(user, program, f"{program.name} person")
        actions.record_outcome(
            user,
            person,
            window_start=dt.date(2026, 1, 1),
            window_end=dt.date(2026, 2, 1),
            alive=True,
            not_shot=True,
            not_arrested_firearm=None,
            in_school_or_work=None,
        )
    as_of = dt.date(2026, 3, 1)
    others = program_figures(None, suppress=True, as_of=as_of, exclude=a.organization)
    assert others.scope == "other partners, perturbed"
    assert [r for r in others.funnel.rows if r != "Total"] == ["Partner B: B"]
    everyone = program_figures(None, suppress=True, as_of=as_of)
    assert len(everyone.funnel.rows) == 3
    own = program_figures(a.organization, suppress=False, as_of=as_of)
    assert own.outcomes.cells[0] == ["1", "1", "no data", "no data"]
    assert everyone.outcomes.cells[0][2] == "no data"
