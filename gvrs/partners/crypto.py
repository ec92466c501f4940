"""Partner case data encrypted at rest: a participant's name, date of birth, phone and
address, and every free-text case field (eligibility and priority reasons, notes of contacts,
services, mediations, interrupted retaliations and exits, goals and milestones, a referral's
reason, decline reason and outcome; ``gvrs.partners.models``).

Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package) with the key in
``settings.GVRS_FIELD_KEY``. A database dump, or a backup, alone does not say who the
participants are nor what they told their workers; the key lives outside the database (an
environment variable in production, a file under ``GVRS_HOME`` on a laptop). Several keys may
be given, comma-separated, newest first: values are written with the first and read with any;
``gvrs reencrypt`` rewrites them all with the first, after which an old key can be dropped.

Encryption is randomised, so an encrypted column cannot be searched or sorted in SQL; a
partner's search over its own participants decrypts them in Python (one organization's
caseload is hundreds of people, not millions).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

PREFIX = "fernet:"


@cache
def _fernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()])


def encrypt(text: str) -> str:
    return PREFIX + _fernet(settings.GVRS_FIELD_KEY).encrypt(text.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("an encrypted field holds a value that was not written encrypted")
    try:
        return _fernet(settings.GVRS_FIELD_KEY).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ValueError(
            "an encrypted field cannot be read with GVRS_FIELD_KEY (wrong or rotated-out key)"
        ) from None


class EncryptedTextField(models.TextField):
    """Text stored encrypted; the empty string stays empty (nothing to hide, and purging
    writes it)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedDateField(EncryptedTextField):
    """A date stored encrypted as its ISO text; read back as ``datetime.date``."""

    def from_db_value(self, value, expression, connection):
        text = super().from_db_value(value, expression, connection)
        return dt.date.fromisoformat(text) if text else None

    def to_python(self, value):
        if value is None or value == "" or isinstance(value, dt.date):
            return value or None
        return dt.date.fromisoformat(str(value))

    def get_prep_value(self, value):
        if isinstance(value, dt.date):
            value = value.isoformat()
        return super().get_prep_value(value)

    def formfield(self, **kwargs):
        from django import forms

        return super(models.TextField, self).formfield(form_class=forms.DateField, **kwargs)
