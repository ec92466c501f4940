"""The review queue: every new homicide and nonfatal shooting an import brings enters it, due
a deadline after the shooting; older shootings (a back-fill) and other kinds do not."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gvrs.reviews.models import Review, ReviewPolicy
from gvrs.reviews.queue import add_months, queue_new_shootings
from tests.review_helpers import county, import_rows, incident, shooting

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@time_machine.travel(NOW, tick=False)
def test_an_import_queues_its_new_homicides_and_shootings_with_their_deadline(tmp_path):
    import_rows(
        tmp_path,
        [
            shooting("H-1", "2026-03-08", "East", kind="homicide"),
            shooting("S-1", "2026-03-01", "West"),
            shooting("F-1", "2026-03-08", "East", kind="shots_fired", killed="0", injured="0"),
            shooting("OLD-1", "2025-12-01", "East"),  # a back-fill: history, not a case
        ],
    )
    queued = {r.incident.source_id: r for r in Review.objects.select_related("incident")}
    assert set(queued) == {"H-1", "S-1"}
    assert queued["H-1"].due_on == dt.date(2026, 3, 15)  # 7 days after the shooting
    assert queued["S-1"].due_on == dt.date(2026, 3, 8)  # already late when it arrived
    assert {r.status for r in queued.values()} == {"open"}
    # The queue takes the circumstance the police recorded until the review says otherwise.
    assert queued["H-1"].circumstance == "unknown"


@time_machine.travel(NOW, tick=False)
def test_a_reimport_or_a_second_run_never_queues_a_shooting_twice(tmp_path):
    rows = [shooting("H-1", "2026-03-08", "East", kind="homicide")]
    import_rows(tmp_path, rows)
    import_rows(tmp_path, [*rows, shooting("S-2", "2026-03-09", "East")], name="again.csv")
    assert queue_new_shootings() == 0
    assert sorted(Review.objects.values_list("incident__source_id", flat=True)) == ["H-1", "S-2"]


@time_machine.travel(NOW, tick=False)
def test_a_county_policy_sets_the_deadline_of_its_towns(tmp_path, settings):
    settings.GVRS_REVIEW_DEADLINE_DAYS = 5
    import_rows(tmp_path, [shooting("S-1", "2026-03-08", "East")])
    assert Review.objects.get().due_on == dt.date(2026, 3, 13)  # the setting's default
    ReviewPolicy.objects.create(
        jurisdiction=county(),
        deadline_days=3,
        queue_back_days=60,
        designation_months=12,
        alert_window_days=14,
    )
    import_rows(
        tmp_path,
        [shooting("S-2", "2026-03-08", "West"), shooting("S-3", "2026-01-20", "West")],
        name="more.csv",
    )
    assert Review.objects.get(incident=incident("S-2")).due_on == dt.date(2026, 3, 11)
    # Its 60 days look further back than the default 30.
    assert Review.objects.filter(incident=incident("S-3")).exists()


def test_twelve_months_on_from_a_month_end_is_the_last_day_of_that_month():
    assert add_months(dt.date(2025, 3, 10), 12) == dt.date(2026, 3, 10)
    assert add_months(dt.date(2024, 2, 29), 12) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2025, 11, 30), 3) == dt.date(2026, 2, 28)


@time_machine.travel(NOW, tick=False)
def test_review_queue_takes_a_backfill_into_the_review_on_purpose_once(tmp_path):
    import io

    from django.core.management import call_command

    import_rows(
        tmp_path, [shooting("OLD-1", "2025-12-01", "East"), shooting("OLD-2", "2025-11-01", "East")]
    )
    assert not Review.objects.exists()
    out = io.StringIO()
    call_command("review_queue", since=dt.date(2025, 11, 15), stdout=out)
    assert out.getvalue().strip() == "1 shootings entered the review queue; 1 open in all"
    assert Review.objects.get().due_on == dt.date(2025, 12, 8)  # overdue: honestly so
    out = io.StringIO()
    call_command("review_queue", since=dt.date(2025, 11, 15), stdout=out)
    assert out.getvalue().startswith("0 shootings entered")
