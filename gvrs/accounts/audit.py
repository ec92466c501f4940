"""The one way to write the audit log."""

from __future__ import annotations

from gvrs.accounts.models import AuditEvent


def record(user, action: str, obj=None, detail: str = "") -> None:
    AuditEvent.objects.create(
        user=user if getattr(user, "is_authenticated", False) else None,
        action=action,
        object_type="" if obj is None else obj._meta.label,
        object_id="" if obj is None else str(obj.pk),
        detail=detail[:300],
    )
