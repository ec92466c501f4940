"""Figures that leave an organization: equity of access per area (need against reach, ranked,
suppressed) and program figures, checked by hand and by the linear-programming audit."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.partners import actions
from gvrs.partners.figures import equity_of_access, program_figures
from tests.importing_helpers import row, write_csv
from tests.partner_helpers import make_participant, make_program
from tests.test_suppression import _range_of_hidden_cells

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(tmp_path):
    """East: 30 people shot in 2022; West: 12; North: 3 (all killed)."""
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
    assert import_file(write_csv(tmp_path / "c.csv", rows), load_format("gvrs")).ok
    return Jurisdiction.objects.get(name="Bakersfield")


def test_equity_ranks_areas_by_unmet_need_and_suppresses_small_counts(people, city):
    partner = people["partner"]
    program = make_program(partner, "Partner A", capacity=100, caseload_per_worker=50)
    west = Area.objects.get(name="West")
    for i in range(14):
        make_participant(partner, program, f"W{i}", area=west)
    make_participant(partner, program, "No consent", area=west, aggregate=False)
    result = equity_of_access(city, suppress=True)
    assert result.until == dt.date(2022, 12, 10)
    by_area = {r.area.name: r for r in result.rows}
    assert by_area["East"].cells[0] == "30"
    assert by_area["West"].cells[2] == "14"  # the participant who did not consent is not counted
    # North's 3 homicides are hidden, and so is the total they would be read from; the zeros
    # of the other areas are shown (a zero identifies nobody).
    assert by_area["North"].cells[1] == "fewer than 11"
    assert result.total[1] == "fewer than 11"
    assert by_area["East"].cells[1] == "0"
    # East has 67% of people shot and no participants: first. West has 27% and all of them.
    assert [r.area.name for r in result.rows][:1] == ["East"]
    assert by_area["West"].rank == 3
    exact = equity_of_access(city, suppress=False)
    assert {r.area.name: r.cells[2] for r in exact.rows}["West"] == "15"


def test_the_equity_window_ends_with_the_datas_coverage_not_a_stray_record(people, city, tmp_path):
    stray = [row("Stray-1", area="East", occurred_at="2025-11-26")]
    report = import_file(
        write_csv(tmp_path / "stray.csv", stray),
        load_format("gvrs"),
        covers_from=dt.date(2022, 1, 1),
        covers_through=dt.date(2022, 12, 31),
    )
    assert report.ok
    result = equity_of_access(city, suppress=False)
    assert (result.since, result.until) == (dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    assert {r.area.name: r.cells[0] for r in result.rows}["East"] == "30"


def test_program_figures_outside_pass_the_linear_programming_audit(people):
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
    figures = program_figures(None, suppress=True, as_of=dt.date(2026, 3, 1))
    table = figures.services.raw
    assert table.suppressed.any()
    for (i, j), (low, high) in _range_of_hidden_cells(table).items():
        assert high - low > 1e-6, (i, j)
    # Inside A, its own figures are exact and hold nothing of B's.
    own = program_figures(programs[0].organization, suppress=False, as_of=dt.date(2026, 3, 1))
    assert len(own.funnel.rows) == 4 and all("Partner B" not in r for r in own.funnel.rows)
    assert "fewer than" not in str(own.funnel.cells)


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
    assert others.scope == "other partners, suppressed"
    assert [r for r in others.funnel.rows if r != "Total"] == ["Partner B: B"]
    everyone = program_figures(None, suppress=True, as_of=as_of)
    assert len(everyone.funnel.rows) == 3
    own = program_figures(a.organization, suppress=False, as_of=as_of)
    assert own.outcomes.cells[0] == ["1", "1", "no data", "no data"]
    assert everyone.outcomes.cells[0][2] == "no data"
