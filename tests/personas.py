"""The people the web tests act as (STYLE.md): an analyst, a partner worker at organization
A, a colleague at A, an outsider at B, a police analyst, a viewer, and an administrator."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User

from gvrs.accounts import roles
from gvrs.accounts.models import Membership, Organization

PASSWORD = "correct horse battery staple"


def make_user(name: str, role: str, organization: str, kind: str = "city") -> User:
    roles.sync_roles()
    org, _ = Organization.objects.get_or_create(name=organization, defaults={"kind": kind})
    user = User.objects.create_user(name, password=PASSWORD)
    user.groups.add(Group.objects.get(name=role))
    Membership.objects.create(user=user, organization=org)
    return user


@pytest.fixture
def people(db) -> dict[str, User]:
    return {
        "admin": make_user("ada", roles.ADMINISTRATOR, "City of Testville"),
        "analyst": make_user("ana", roles.STRATEGY_ANALYST, "City of Testville"),
        "police": make_user("pat", roles.POLICE_ANALYST, "Testville Police", "police"),
        "partner": make_user("pia", roles.PARTNER_STAFF, "Partner A", "partner"),
        "colleague": make_user("col", roles.PARTNER_MANAGER, "Partner A", "partner"),
        "outsider": make_user("out", roles.PARTNER_STAFF, "Partner B", "partner"),
        "viewer": make_user("vic", roles.VIEWER, "City of Testville"),
    }


@pytest.fixture
def client_for():
    """A test client signed in as the given user."""
    from django.test import Client

    def signed_in(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return signed_in
