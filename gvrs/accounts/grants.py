"""Access to partner case work, given and taken away, written to the audit log.

A user reads a partner organization's participants when two things hold at once: they are a
member of that organization (of kind partner) and they have a partner role (partner staff or
partner manager). Either half can be given in the admin, by anyone who may edit users,
themselves included. So every change that opens or closes that access is an audit event
(``access.grant`` / ``access.revoke``) about the organization concerned, shown to its managers
on their access page (``partners-access``), whoever made it and however (the admin, the shell,
a command):

- a membership of a partner organization made, moved or removed;
- a partner role given or taken from a member of a partner organization;
- an organization made a partner organization (its members in partner roles gain access), or
  no longer one.

Changes are caught by model signals, so no path around them exists short of raw SQL. The
user who made the change is the signed-in user of the request being served
(``ActorMiddleware``); outside a request (a command, the shell) the event has no user and says
so.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from gvrs.accounts import roles
from gvrs.accounts.audit import record
from gvrs.accounts.models import Membership, Organization

GRANT = "access.grant"
REVOKE = "access.revoke"
PARTNER_ROLES = (roles.PARTNER_STAFF, roles.PARTNER_MANAGER)
OUTSIDE_A_REQUEST = " (outside the web application: a command or the shell)"
_request: ContextVar = ContextVar("gvrs_request", default=None)


class ActorMiddleware:
    """Remembers the request being served, so that a change caught by a signal is written to
    the audit log under the user who made it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def _actor():
    request = _request.get()
    user = getattr(request, "user", None)
    return user if getattr(user, "is_authenticated", False) else None


def _write(action: str, organization: Organization, detail: str) -> None:
    actor = _actor()
    if actor is None:
        detail += OUTSIDE_A_REQUEST
    record(actor, action, organization, detail)


def _partner_roles(user) -> list[str]:
    return sorted(user.groups.filter(name__in=PARTNER_ROLES).values_list("name", flat=True))


def _is_partner(organization: Organization | None) -> bool:
    return organization is not None and organization.kind == Organization.Kind.PARTNER


def _who(user) -> str:
    return f"{user.get_username()}{' (a superuser)' if user.is_superuser else ''}"


# -- memberships -------------------------------------------------------------------------------


def membership_before_save(sender, instance: Membership, **kwargs) -> None:
    instance._gvrs_was = (
        Membership.objects.filter(pk=instance.pk).values_list("organization_id", flat=True).first()
        if instance.pk
        else None
    )


def membership_saved(sender, instance: Membership, created: bool, **kwargs) -> None:
    before = getattr(instance, "_gvrs_was", None)
    if not created and before == instance.organization_id:
        return
    user = instance.user
    held = _partner_roles(user)
    if before is not None:
        old = Organization.objects.filter(pk=before).first()
        if _is_partner(old):
            _write(
                REVOKE,
                old,
                f"{_who(user)} is no longer a member (moved to {instance.organization})",
            )
    if _is_partner(instance.organization):
        access = (
            f"with the role {', '.join(held)}: reads its participants"
            if held
            else "with no partner role (no access to participants until given one)"
        )
        _write(GRANT, instance.organization, f"{_who(user)} made a member, {access}")


def membership_deleted(sender, instance: Membership, **kwargs) -> None:
    organization = Organization.objects.filter(pk=instance.organization_id).first()
    if _is_partner(organization):
        _write(REVOKE, organization, f"{instance.user.get_username()} is no longer a member")


# -- roles -------------------------------------------------------------------------------------


def _partner_membership(user) -> Organization | None:
    membership = Membership.objects.filter(user=user).select_related("organization").first()
    return membership.organization if membership and _is_partner(membership.organization) else None


def roles_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    """A user's groups changed, from the user's side (``user.groups``) or the group's
    (``group.user_set``)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    user_model = get_user_model()
    if reverse:  # the group's side: instance is a Group, pk_set its users
        if instance.name not in PARTNER_ROLES:
            return
        users = (
            instance.user_set.all()
            if action == "pre_clear"
            else user_model.objects.filter(pk__in=pk_set or ())
        )
        changes = [(user, instance.name) for user in users]
    else:
        if action == "pre_clear":
            names = list(
                instance.groups.filter(name__in=PARTNER_ROLES).values_list("name", flat=True)
            )
        else:
            names = list(
                Group.objects.filter(pk__in=pk_set or (), name__in=PARTNER_ROLES).values_list(
                    "name", flat=True
                )
            )
        changes = [(instance, name) for name in names]
    for user, role in changes:
        organization = _partner_membership(user)
        if action == "post_add":
            if organization is not None:
                _write(
                    GRANT,
                    organization,
                    f"{_who(user)} given the role {role}: reads its participants",
                )
            else:
                record(
                    _actor(),
                    GRANT,
                    user,
                    f"{_who(user)} given the role {role} (a member of no partner organization:"
                    " no access to participants yet)" + ("" if _actor() else OUTSIDE_A_REQUEST),
                )
        elif organization is not None:
            _write(REVOKE, organization, f"{_who(user)} no longer has the role {role}")


# -- organizations -----------------------------------------------------------------------------


def organization_before_save(sender, instance: Organization, **kwargs) -> None:
    instance._gvrs_kind_was = (
        Organization.objects.filter(pk=instance.pk).values_list("kind", flat=True).first()
        if instance.pk
        else None
    )


def organization_saved(sender, instance: Organization, created: bool, **kwargs) -> None:
    before = getattr(instance, "_gvrs_kind_was", None)
    now_partner = instance.kind == Organization.Kind.PARTNER
    was_partner = before == Organization.Kind.PARTNER
    if created or now_partner == was_partner:
        return
    members = [
        m.user.get_username()
        for m in instance.members.select_related("user")
        if m.user.groups.filter(name__in=PARTNER_ROLES).exists()
    ]
    if now_partner:
        detail = f"made a partner organization (was {before}); members in partner roles: "
        _write(GRANT, instance, detail + (", ".join(members) or "none"))
    else:
        _write(REVOKE, instance, f"no longer a partner organization (now {instance.kind})")


def connect() -> None:
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

    user_model = get_user_model()
    pre_save.connect(membership_before_save, sender=Membership, dispatch_uid="gvrs-grant-m0")
    post_save.connect(membership_saved, sender=Membership, dispatch_uid="gvrs-grant-m1")
    post_delete.connect(membership_deleted, sender=Membership, dispatch_uid="gvrs-grant-m2")
    m2m_changed.connect(
        roles_changed, sender=user_model.groups.through, dispatch_uid="gvrs-grant-r"
    )
    pre_save.connect(organization_before_save, sender=Organization, dispatch_uid="gvrs-grant-o0")
    post_save.connect(organization_saved, sender=Organization, dispatch_uid="gvrs-grant-o1")
