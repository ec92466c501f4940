"""The one way to write the audit log.

``record(user, action, obj=None, detail="")`` stores who (user name, roles and organization as
they are now), what (the object's model label and primary key) and when. The row is written on
its own connection's autocommit when no transaction is open, and inside the caller's
transaction otherwise. A change and its event commit or roll back together inside
``audited_transaction``: on SQLite the audit log is a file of its own (``accounts.router``),
so a transaction of the registry alone would not hold the event.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.db import transaction
from django.db.models import Q

from gvrs.accounts.models import AuditEvent
from gvrs.accounts.router import activity_alias

SUPERUSER = "superuser"
# What counts as a partner organization's case work in the audit log, registered by the app
# that owns it (partners, above this floor): (object type prefix, action prefixes).
_CASE_WORK: list[tuple[str, tuple[str, ...]]] = []
CASE_DETAIL_HIDDEN = "(case detail: shown to the organization's managers)"


def register_case_work(object_type_prefix: str, action_prefixes: tuple[str, ...]) -> None:
    """Declare events about these objects, or with these actions, a partner organization's
    case work: their details (outcomes, consents, services, free text) are the
    organization's, shown to its managers and not in the admin."""
    entry = (object_type_prefix, tuple(action_prefixes))
    if entry not in _CASE_WORK:
        _CASE_WORK.append(entry)


def case_work() -> Q:
    """The case-work events (a filter on ``AuditEvent``)."""
    q = Q(pk__in=[])
    for object_type_prefix, action_prefixes in _CASE_WORK:
        q |= Q(object_type__startswith=object_type_prefix)
        for prefix in action_prefixes:
            q |= Q(action__startswith=prefix)
    return q


def is_case_work(event: AuditEvent) -> bool:
    return any(
        event.object_type.startswith(object_type_prefix) or event.action.startswith(action_prefixes)
        for object_type_prefix, action_prefixes in _CASE_WORK
    )


@contextmanager
def audited_transaction():
    """A transaction of the registry and of the audit log together (one and the same on
    PostgreSQL): an error inside rolls back both the change and its event. Usable as a
    decorator. The registry is locked first, then the audit log, always in that order."""
    with transaction.atomic(), transaction.atomic(using=activity_alias()):
        yield


def user_roles(user) -> str:
    """The user's role (group) names, sorted and "; "-separated; "superuser" is added for a
    superuser, whose rights come from the flag rather than a group."""
    cached = getattr(user, "_gvrs_roles", None)
    if cached is not None:  # a request's or a command's user: asked once, then remembered
        return cached
    names = sorted(user.groups.values_list("name", flat=True))
    if user.is_superuser:
        names.append(SUPERUSER)
    user._gvrs_roles = "; ".join(names)
    return user._gvrs_roles


def user_organization(user) -> str:
    # A missing Membership raises RelatedObjectDoesNotExist, an AttributeError.
    membership = getattr(user, "membership", None)
    return membership.organization.name if membership is not None else ""


def record(user, action: str, obj=None, detail: str = "", *, object_type: str = "") -> AuditEvent:
    """Write one audit event and return it.

    ``user`` may be anonymous (a failed sign-in): the event then has no user. ``obj`` is any
    model instance; ``object_type`` names something that is not one (e.g. a file).
    """
    known = getattr(user, "is_authenticated", False)
    return AuditEvent.objects.create(
        user=user if known else None,
        username=user.get_username()[:150] if known else "",
        roles=user_roles(user)[:300] if known else "",
        organization=user_organization(user)[:200] if known else "",
        action=action[:40],
        object_type=(obj._meta.label if obj is not None else object_type)[:60],
        object_id="" if obj is None else str(obj.pk)[:60],
        detail=str(detail)[:300],
    )
