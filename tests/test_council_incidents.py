"""The council report of a place counted from incidents: a year still running (year to date
and projection), the group-involved share, counts by area suppressed for publication, and the
partners' program figures, perturbed (docs/disclosure.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from gvrs.analysis.inference import binomial_interval
from gvrs.council.build import ReportError, ReportRequest, build_report
from gvrs.incidents.models import Area
from tests.council_helpers import PER_YEAR, make_town, town_rows
from tests.partner_helpers import make_participant, make_program

pytestmark = pytest.mark.django_db


@pytest.fixture
def town(tmp_path):
    return make_town(tmp_path)


def _section(report, slug: str):
    (section,) = [s for s in report.sections if s.slug == slug]
    return section


def _texts(section) -> list[str]:
    return [b.text for b in section.blocks if b.kind == "paragraph"]


def test_a_running_year_is_compared_window_for_window_and_projected(town):
    report = build_report(
        ReportRequest(jurisdiction=town, period="2023", baseline=2019, today=dt.date(2023, 7, 9))
    )
    summary = _texts(_section(report, "summary"))
    assert summary[0].startswith("Homicides")  # the first measure leads
    assert "in 2022 (1 Jan–30 Jun) to" in summary[0] and "in 2023 (1 Jan–30 Jun)" in summary[0]
    assert any("in 2019 (1 Jan–30 Jun)" in s for s in summary)
    ytd = _texts(_section(report, "ytd"))
    assert ytd[0].startswith("2023 is still running: every comparison in this report is over")
    assert any(s.startswith("10 homicides so far in 2023 (to 30 June); on track for") for s in ytd)
    assert all("prediction interval" in s for s in ytd[1:])


def test_a_year_that_is_over_but_not_wholly_covered_is_refused(town):
    with pytest.raises(ReportError, match=r"data through 30 Jun 2023"):
        build_report(ReportRequest(jurisdiction=town, period="2023", today=dt.date(2024, 2, 1)))


def test_the_group_involved_share_counts_recorded_incidents_only(town):
    report = build_report(ReportRequest(jurisdiction=town, period="2022"))
    (sentence, note) = _texts(_section(report, "groups"))
    rows = [r for r in town_rows() if r["occurred_at"].startswith("2022")]
    yes = sum(r["group_involvement"] == "yes" for r in rows)
    no = sum(r["group_involvement"] == "no" for r in rows)
    unknown = len(rows) - yes - no
    interval = binomial_interval(yes, yes + no)
    assert sentence == (
        f"Of the {yes + no} shooting incidents in 2022 whose group involvement is recorded, "
        f"{yes} ({yes / (yes + no):.0%}; exact 95% interval {interval.low:.0%}–"
        f"{interval.high:.0%}) were group-involved; {unknown} more are not yet recorded either "
        "way, so the share may move."
    )
    assert note.startswith("Source: Incident records.")


def test_counts_by_area_hide_a_small_count_and_the_cell_that_would_reveal_it(town):
    report = build_report(ReportRequest(jurisdiction=town, period="2022"))
    section = _section(report, "areas")
    (table,) = [b for b in section.blocks if b.kind == "table"]
    by_area = {r[0]: r[1:] for r in table.rows}
    # Oleander's 4 is "fewer than 11"; East Bakersfield's count would be the total minus
    # it, so it is hidden too; the total is shown.
    assert by_area["Oleander"][0] == "fewer than 11"
    assert by_area["East Bakersfield"][0] == "suppressed"
    assert by_area["Total"][0] == f"{PER_YEAR[2022]:,}"
    assert table.header == ["Area", "2022", "2021"]
    (figure,) = [b for b in section.blocks if b.kind == "figure"]
    assert figure.svg.lstrip().startswith("<?xml") and "<svg" in figure.svg
    assert all(
        n.startswith("Source: Counted from incident records") for n in table.notes + figure.notes
    )


def test_partner_figures_are_perturbed_and_count_only_who_consented(town, people):
    make_program(people["colleague"], "Partner A")
    program = make_program(people["colleague"], "Partner A", name="Mentoring")
    area = Area.objects.get(name="Oleander")
    for i in range(12):
        make_participant(people["partner"], program, f"Person {i}", area=area)
    make_participant(people["partner"], program, "No consent", area=area, aggregate=False)
    report = build_report(ReportRequest(jurisdiction=town, period="2022"))
    section = _section(report, "partners")
    assert _texts(section)[0].startswith(
        "Program figures from one community partner, counting only participants who consented"
    )
    funnel = next(b for b in section.blocks if b.kind == "table" and "Funnel" in b.caption)
    mentoring = next(r for r in funnel.rows if r[0] == "Mentoring")
    # identified, contacted, enrolled: 12 consented, each figure within 5 of its count; the
    # three stages of the same twelve people read alike (the same records, the same figure).
    identified, contacted, enrolled = (int(v) for v in mentoring[1:4])
    assert abs(identified - 12) <= 5 and contacted == 0 and enrolled == identified
    assert funnel.notes[0].endswith(f"Coverage: every participant on record on {dt.date.today()}.")
    fellowship = next(r for r in funnel.rows if r[0] == "Fellowship")
    assert fellowship[1] == "0"
    assert "Partner A:" not in " ".join(r[0] for r in funnel.rows)


def test_a_deployment_without_partners_says_so(town):
    report = build_report(ReportRequest(jurisdiction=town, period="2022"))
    assert _texts(_section(report, "partners")) == [
        "No community partner has a program recorded: no program figures are shown."
    ]


def test_the_report_has_every_section_in_order_and_a_note_under_every_table_and_figure(town):
    report = build_report(ReportRequest(jurisdiction=town, period="2022", baseline=2019))
    assert [s.title for s in report.sections] == [
        "Summary",
        "What these figures do not show",
        "The place in history",
        "Year to date and projection",
        "Rates per 100,000 residents",
        "Group involvement",
        "Police workload",
        "Maps by area",
        "Who was killed or shot",
        "Community partners",
        "Sources, definitions and coverage",
        "Methods",
    ]
    assert report.sections[-1].new_page
    shown = [b for s in report.sections for b in s.blocks if b.kind in ("table", "figure")]
    assert len(shown) >= 5
    for block in shown:
        assert any(n.startswith("Source: ") and "Coverage: " in n for n in block.notes), (
            block.caption
        )


def test_a_running_period_that_is_not_a_year_is_compared_but_not_projected(town):
    report = build_report(
        ReportRequest(jurisdiction=town, period="2023-04-01..2023-09-30", today=dt.date(2023, 7, 9))
    )
    summary = _texts(_section(report, "summary"))
    assert "to 5 in 2023-04-01..2023-09-30 (1 Apr–30 Jun)" in summary[0]
    assert _texts(_section(report, "ytd")) == [
        "2023-04-01..2023-09-30 is still running: every comparison in this report is over the "
        "same window of each period, 1 Apr–30 Jun.",
        "No year-end projection for 2023: 2023-04-01..2023-09-30 is not a calendar year (ask "
        "for 2023 to see one).",
    ]
