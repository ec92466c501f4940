"""Personal API tokens: made by a user for a spreadsheet, a BI tool or a script, shown once,
stored as a SHA-256 digest, read-only, with an expiry, revocable.

A token is 32 random bytes (``secrets.token_urlsafe``) behind the prefix ``gvrs_``, so a
leaked one is recognisable in a log or a repository. Its digest is a plain SHA-256: the token
is random and long, so no slow password hash is needed against guessing, and a digest can
be looked up by an index. A token acts as its user with that user's current roles: a role
taken away is taken away from the token too, and a deactivated user's tokens stop working.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.utils import timezone

from gvrs.accounts.audit import record
from gvrs.accounts.models import ApiToken

PREFIX = "gvrs_"
# The lifetimes a user may choose (days); a token never outlives a year.
LIFETIMES_DAYS = (7, 30, 90, 365)
MAX_PER_USER = 20  # live tokens: a script that makes one per run is refused, not stored
# ``last_used_at`` is written at most this often per token (one write per request would make
# every API call a write).
TOUCH_EVERY = dt.timedelta(minutes=5)


class TokenError(ValueError):
    """A token that cannot be made (the message says why, for the page)."""


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown to its user once, never stored


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def live(user):
    """The user's tokens that still work: neither revoked nor expired."""
    return ApiToken.objects.filter(
        user_id=user.pk, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )


def create_token(user, name: str, lifetime_days: int) -> NewToken:
    """A new read-only token for ``user``, written to the audit log."""
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name that says what it is for.")
    if lifetime_days not in LIFETIMES_DAYS:
        raise TokenError(f"A token lasts one of {', '.join(map(str, LIFETIMES_DAYS))} days.")
    if live(user).count() >= MAX_PER_USER:
        raise TokenError(
            f"You have {MAX_PER_USER} tokens that still work: revoke one you no longer use."
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user_id=user.pk,
        name=name[:100],
        prefix=secret[: len(PREFIX) + 6],
        digest=digest_of(secret),
        expires_at=timezone.now() + dt.timedelta(days=lifetime_days),
    )
    record(user, "token-create", token, f"{token.name}: read only, {lifetime_days} days")
    return NewToken(token, secret)


def revoke_token(user, pk: int) -> ApiToken | None:
    """Revoke one of ``user``'s own tokens (None: no such token of theirs)."""
    token = ApiToken.objects.filter(user_id=user.pk, pk=pk, revoked_at__isnull=True).first()
    if token is None:
        return None
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record(user, "token-revoke", token, token.name)
    return token


def authenticate(secret: str):
    """The active user whose live token this is, with the token; None for anything else
    (unknown, revoked, expired, a deactivated user). Every refusal looks the same."""
    from django.contrib.auth import get_user_model

    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    now = timezone.now()
    token = ApiToken.objects.filter(
        digest=digest_of(secret), revoked_at__isnull=True, expires_at__gt=now
    ).first()
    if token is None:
        return None
    user = get_user_model().objects.filter(pk=token.user_id, is_active=True).first()
    if user is None:
        return None
    if token.last_used_at is None or now - token.last_used_at > TOUCH_EVERY:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return user, token


def forget_user(sender, instance, **kwargs) -> None:
    """A deleted user's tokens go with them (connected to the user model's post_delete: the
    tokens' table has no database constraint to cascade, see ``ApiToken``)."""
    ApiToken.objects.filter(user_id=instance.pk).delete()
