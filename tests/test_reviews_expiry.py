"""Designations expire: with time frozen, on the last day a group is everywhere; on the day
after, it is gone from every page, count, figure, export and alert until it is renewed."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gvrs.reviews import actions
from gvrs.reviews.figures import review_figures
from gvrs.reviews.frames import network_inputs
from gvrs.reviews.models import Alert, Review
from tests.review_helpers import county, import_rows, incident, make_group, shooting, town

pytestmark = pytest.mark.django_db
LAST_DAY = dt.datetime(2026, 3, 9, 20, 0, tzinfo=dt.UTC)  # 9 March, noon in California
DAY_AFTER = LAST_DAY + dt.timedelta(days=1)


@pytest.fixture
def audit(tmp_path, people):
    """Eastside and Northside in conflict; Northside designated on 10 March 2025, so its
    designation's last day is 9 March 2026. Two shootings of Eastside victims in East."""
    analyst = people["analyst"]
    with time_machine.travel(LAST_DAY - dt.timedelta(days=2), tick=False):
        import_rows(
            tmp_path,
            [
                shooting("S-1", "2026-03-06", "East", kind="homicide"),
                shooting("S-2", "2026-03-06", "East"),
                shooting("S-3", "2026-03-07", "North"),
            ],
        )
        eastside = make_group(analyst, "Eastside", "East", dt.date(2025, 9, 1))
        northside = make_group(analyst, "Northside", "North", dt.date(2025, 3, 10))
        actions.record_conflict(
            analyst,
            eastside,
            northside,
            kind="conflict",
            started_on=dt.date(2025, 1, 1),
            evidence="Shootings between the two since January 2025",
            incidents=[incident("S-3")],
        )
        review = Review.objects.get(incident=incident("S-3"))
        actions.complete_review(
            analyst,
            review,
            group_involvement="confirmed",
            evidence="The victim's group named by witnesses",
            circumstance="group_conflict",
            victim_groups=[northside],
            suspect_groups=[],
            retaliation_risk="high",
            risk_reason="Ongoing conflict",
        )
    assert northside.designations.get().expires_on == dt.date(2026, 3, 9)
    return {"eastside": eastside, "northside": northside}


def _pages(client, place_slug: str, review_pk: int) -> dict[str, str]:
    reviewed = Review.objects.get(incident=incident("S-3")).pk
    urls = {
        "groups": f"/reviews/groups/?place={place_slug}",
        "csv": f"/reviews/groups/groups.csv?place={place_slug}",
        "review form": f"/reviews/{review_pk}/",
        "reviewed shooting": f"/reviews/{reviewed}/",
        "plan": f"/reviews/{reviewed}/plan/",
        "alerts": f"/reviews/alerts/?place={place_slug}",
        "queue": f"/reviews/?place={place_slug}",
        "figures": f"/reviews/figures/?place={place_slug}",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.content.decode()
    return pages


def test_on_the_day_after_expiry_the_group_is_gone_from_every_view_count_and_figure(
    client, people, audit
):
    client.force_login(people["analyst"])
    place = county()
    open_review = Review.objects.get(incident=incident("S-1"))

    with time_machine.travel(LAST_DAY, tick=False):
        pages = _pages(client, place.slug, open_review.pk)
        for name, text in pages.items():
            if name not in ("figures", "queue", "plan"):  # counts and places, no names
                assert "Northside" in text, name
        assert "Eastside / Northside" in pages["groups"]
        inputs = network_inputs(place, dt.date(2026, 3, 9))
        assert "Northside" in inputs.groups and len(inputs.conflicts) == 1
        shares = review_figures(town(), dt.date(2026, 1, 1), dt.date(2026, 3, 9)).shootings
        assert shares.confirmed == 1
        renewals = client.get(f"/reviews/groups/renewals/?place={place.slug}").content.decode()
        assert "Northside" not in renewals

    with time_machine.travel(DAY_AFTER, tick=False):
        pages = _pages(client, place.slug, open_review.pk)
        for name, text in pages.items():
            assert "Northside" not in text, name
        assert "No group is designated today" not in pages["groups"]  # Eastside still is
        assert "None recorded between designated groups" in pages["groups"]
        inputs = network_inputs(place, dt.date(2026, 3, 10))
        assert "Northside" not in inputs.groups and inputs.conflicts == []
        assert all("Northside" not in g for g in inputs.shootings["groups"])
        shares = review_figures(town(), dt.date(2026, 1, 1), dt.date(2026, 3, 9)).shootings
        assert (shares.reviewed, shares.confirmed) == (1, 0)
        # A shooting of an Eastside victim, suspects unknown: with Northside expired, no
        # rival's area is alerted, only the near-repeat alert of the shooting's own area.
        actions.complete_review(
            people["analyst"],
            open_review,
            group_involvement="suspected",
            evidence="The victim's group claims the block",
            circumstance="group_conflict",
            victim_groups=[audit["eastside"]],
            suspect_groups=[],
            retaliation_risk="medium",
            risk_reason="Eastside has rivals",
        )
        alerts = Alert.objects.filter(review=open_review)
        assert [(a.area.name, a.group) for a in alerts] == [("East", None)]
        # Only the renewal list still names it, so it can be renewed or let go.
        renewals = client.get(f"/reviews/groups/renewals/?place={place.slug}").content.decode()
        assert "Northside" in renewals and "9 Mar 2026" in renewals

        renewed = client.post(
            f"/reviews/groups/{audit['northside'].pk}/designate/",
            {"criteria": "Still claims North", "evidence": "Two shootings in 2026"},
        )
        assert renewed.status_code == 302
        assert "Northside" in client.get(f"/reviews/groups/?place={place.slug}").content.decode()
        assert audit["northside"].designations.first().expires_on == dt.date(2027, 3, 9)


def test_on_the_last_day_a_shooting_of_its_rival_alerts_the_groups_area(people, audit):
    review = Review.objects.get(incident=incident("S-2"))
    with time_machine.travel(LAST_DAY, tick=False):
        actions.complete_review(
            people["analyst"],
            review,
            group_involvement="suspected",
            evidence="The victim's group claims the block",
            circumstance="group_conflict",
            victim_groups=[audit["eastside"]],
            suspect_groups=[],
            retaliation_risk="medium",
            risk_reason="Eastside has rivals",
        )
    found = {(a.area.name, a.group.name if a.group else None, a.level) for a in review.alerts.all()}
    assert found == {("North", "Northside", "medium"), ("East", None, "low")}
