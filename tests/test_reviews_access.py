"""Who sees the review: police, analysts and administrators review; partners only read the
alerts their organization received; a viewer sees the figures (counts) and nothing else."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from gvrs.reviews.models import Review
from tests.review_helpers import county, import_rows, shooting

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(tmp_path):
    with time_machine.travel(dt.datetime(2026, 3, 7, 18, tzinfo=dt.UTC), tick=False):
        import_rows(tmp_path, [shooting("S-1", "2026-03-06", "East")])
    return Review.objects.get()


def _status(client, user, url: str) -> int:
    client.force_login(user)
    return client.get(url).status_code


@pytest.mark.parametrize("who", ["admin", "analyst", "police"])
def test_reviewers_open_the_queue_the_review_the_plan_the_groups_and_the_alerts(
    client, people, review, who
):
    slug = county().slug
    for url in (
        "/reviews/",
        f"/reviews/{review.pk}/",
        f"/reviews/{review.pk}/plan/",
        f"/reviews/groups/?place={slug}",
        f"/reviews/groups/groups.csv?place={slug}",
        f"/reviews/alerts/?place={slug}",
        f"/reviews/figures/?place={slug}",
    ):
        assert _status(client, people[who], url) == 200, url
    # The partners' inbox is not theirs: the same 404 as a page that does not exist.
    assert _status(client, people[who], "/reviews/inbox/") == 404


@pytest.mark.parametrize("who", ["partner", "colleague", "outsider", "viewer"])
def test_everyone_else_gets_a_404_for_the_review_pages(client, people, review, who):
    slug = county().slug
    for url in (
        "/reviews/",
        f"/reviews/{review.pk}/",
        f"/reviews/{review.pk}/plan/",
        f"/reviews/groups/?place={slug}",
        f"/reviews/groups/groups.csv?place={slug}",
        f"/reviews/alerts/?place={slug}",
    ):
        assert _status(client, people[who], url) == 404, url
    client.force_login(people[who])
    assert client.post(f"/reviews/{review.pk}/", {"group_involvement": "none"}).status_code == 404


def test_partners_read_their_inbox_and_the_viewer_reads_the_figures(client, people, review):
    assert _status(client, people["partner"], "/reviews/inbox/") == 200
    assert _status(client, people["viewer"], "/reviews/inbox/") == 404
    assert _status(client, people["viewer"], f"/reviews/figures/?place={county().slug}") == 200
    assert _status(client, people["partner"], f"/reviews/figures/?place={county().slug}") == 404


def test_a_review_form_missing_its_reasons_is_refused_with_the_field_named(client, people, review):
    client.force_login(people["police"])
    response = client.post(
        f"/reviews/{review.pk}/",
        {
            "group_involvement": "confirmed",
            "circumstance": "group_conflict",
            "retaliation_risk": "high",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"victim_groups", "evidence", "risk_reason"}
    review.refresh_from_db()
    assert review.status == "open"


def _a_response(review, people):
    from gvrs.reviews import actions

    return actions.add_response(
        people["police"],
        review,
        kind="custom_notification",
        owner="Team",
        due_at=dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC),
    )


def test_a_response_update_with_a_bad_status_says_so_and_changes_nothing(client, people, review):
    response = _a_response(review, people)
    client.force_login(people["police"])
    page = client.post(
        f"/reviews/responses/{response.pk}/", {"status": "finished-ish"}, follow=True
    )
    text = page.content.decode()
    assert "Response not updated: status:" in text
    response.refresh_from_db()
    assert response.status == "planned"


def test_a_response_update_changes_the_status_and_goes_back_to_the_plan(client, people, review):
    response = _a_response(review, people)
    client.force_login(people["police"])
    plan = f"/reviews/{review.pk}/plan/"
    page = client.post(
        f"/reviews/responses/{response.pk}/",
        {"status": "done", "follow_up": "met the family", "next": plan},
    )
    assert page.status_code == 302 and page["Location"] == plan
    response.refresh_from_db()
    assert (response.status, response.follow_up) == ("done", "met the family")
    offsite = client.post(
        f"/reviews/responses/{response.pk}/", {"status": "done", "next": "https://evil.example/"}
    )
    assert offsite["Location"] == f"/reviews/{review.pk}/"


def test_the_incident_page_links_its_review_for_reviewers_only(client, people, review):
    url = f"/incidents/{review.incident_id}/"
    client.force_login(people["police"])
    page = client.get(url).content.decode()
    assert f'href="/reviews/{review.pk}/" data-testid="incident-review"' in page
    assert ">Open, due 13 Mar 2026</a>" in page  # the house date style
    client.force_login(people["viewer"])
    viewer_page = client.get(url)
    assert viewer_page.status_code in (200, 404)
    assert "incident-review" not in viewer_page.content.decode()


def test_a_response_due_time_is_the_places_local_time_in_and_out(client, people, review):
    """Oakdale is in California: 18:00 typed on the plan is 18:00 Pacific (01:00 UTC the
    next day), and the review page shows it back as 18:00 and says which zone."""
    client.force_login(people["police"])
    client.post(
        f"/reviews/{review.pk}/responses/",
        {"kind": "custom_notification", "owner": "Team", "due_at": "2026-03-09T18:00"},
    )
    response = review.responses.get()
    assert response.due_at == dt.datetime(2026, 3, 10, 1, 0, tzinfo=dt.UTC)  # PDT: UTC-7
    page = client.get(f"/reviews/{review.pk}/").content.decode()
    assert "Times in America/Los_Angeles." in page
    assert "Mon 18:00" in page
