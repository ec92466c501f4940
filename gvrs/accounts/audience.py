"""A signed-in user (or an anonymous visitor) as the disclosure policy sees them, and the
deployment's policy.

``audience_of(user)`` says which records the user may read one by one: incident records
(``incidents.view_incident``) and their locations (``incidents.view_restricted_fields``).
The partner organization whose case records the user may read is added by the partners app
(``gvrs.partners.models.partner_organization``), the one gate to case work.
"""

from __future__ import annotations

import hashlib

from django.conf import settings

from gvrs.analysis.disclosure import PUBLIC, Audience, Policy


def audience_of(user) -> Audience:
    """The records ``user`` may read record by record, as an ``Audience``; the public for an
    anonymous visitor or an inactive account."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return PUBLIC
    return Audience(
        incidents=user.has_perm("incidents.view_incident"),
        locations=user.has_perm("incidents.view_restricted_fields"),
    )


def disclosure_key() -> bytes:
    """The deployment's secret for record keys: ``GVRS_DISCLOSURE_KEY`` when set, otherwise
    derived from the secret key (so every app server of a deployment shares it). Rotating
    the secret key without setting this changes every perturbation once."""
    if settings.GVRS_DISCLOSURE_KEY:
        return settings.GVRS_DISCLOSURE_KEY.encode()
    return hashlib.blake2b(
        settings.SECRET_KEY.encode(), person=b"gvrs-disclosure", digest_size=32
    ).digest()


def deployment_policy() -> Policy:
    """The disclosure policy every face of this deployment applies."""
    return Policy(key=disclosure_key(), map_minimum=max(settings.GVRS_SUPPRESS_BELOW, 1))
