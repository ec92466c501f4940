"""The site's navigation, by role: every item a role is shown opens (no 404), each page has one
name, and the partners' case work is offered only to members of a partner organization (an
administrator holds every permission but has no caseload)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User

from gvrs.accounts import roles
from gvrs.navigation import items_for
from tests.personas import make_user

pytestmark = pytest.mark.django_db

PARTNER_PAGES = {"Participants", "Log contact", "Referrals", "Alert inbox"}


def _superuser_administrator() -> User:
    """As `gvrs demo` and `createsuperuser` make them: staff, superuser, no organization."""
    roles.sync_roles()
    user = User.objects.create_superuser("root", password="correct horse battery staple")
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=roles.ADMINISTRATOR))
    return user


def test_every_item_of_every_role_opens(people, client_for):
    users = {**people, "superuser": _superuser_administrator()}
    for who, user in users.items():
        client = client_for(user)
        shown = items_for(user)
        assert shown, who
        for item in shown:
            page = client.get(_url(item), follow=True)
            assert page.status_code == 200, (who, item.label)
        # The header shows exactly these items, each once, by one name.
        header = client.get("/", follow=True).content.decode()
        nav = re.search(r'<nav id="site-nav".*?</nav>', header, re.S).group(0)
        labels = re.findall(r">([^<]+)</a>", nav)
        assert labels == [item.label for item in shown], who
        assert len(set(labels)) == len(labels), who


def _url(item) -> str:
    from django.urls import reverse

    return reverse(item.url_name)


def test_partner_pages_are_offered_only_to_partner_organizations(people):
    administrator = _superuser_administrator()
    assert not PARTNER_PAGES & {i.label for i in items_for(administrator)}
    assert "Administration" in {i.label for i in items_for(administrator)}
    for who in ("admin", "analyst", "police", "viewer"):
        assert not PARTNER_PAGES & {i.label for i in items_for(people[who])}, who
    for who in ("partner", "colleague", "outsider"):
        labels = {i.label for i in items_for(people[who])}
        assert labels >= PARTNER_PAGES, who
        assert not {"Incidents", "Review queue", "Groups", "Alerts"} & labels, who


def test_the_menu_marks_the_current_page_and_folds_without_a_framework(people, client_for):
    client = client_for(people["analyst"])
    page = client.get("/reviews/groups/").content.decode()
    assert re.search(r'<a href="/reviews/groups/" aria-current="page">Groups</a>', page)
    assert 'aria-current="page">Review queue' not in page
    # The fold: a button and a small script hooked on data-* attributes; without the script
    # the menu is a plain list of links.
    assert "data-menu-button" in page and "gvrs/menu.js" in page


def test_no_navigation_for_someone_signed_out(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'id="site-nav"' not in page


def test_a_user_without_a_role_sees_only_what_everyone_may(db, client):
    user = make_user("nobody", roles.VIEWER, "City")
    user.groups.clear()
    assert [i.label for i in items_for(user)] == ["Overview", "Places"]
