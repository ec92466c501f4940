"""``gvrs reencrypt``: rewrite every encrypted partner field with the first key of
GVRS_FIELD_KEY, after a key rotation.

Rotation: put the new key first in GVRS_FIELD_KEY and keep the old one after it (values are
read with any key, written with the first), run ``gvrs reencrypt``, then drop the old key.
Idempotent: a run interrupted and started again finishes the job. Each model's rows are
rewritten in batches, each batch in one transaction with its audit event.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand

from gvrs.accounts.audit import audited_transaction, record
from gvrs.partners.crypto import EncryptedTextField

BATCH = 500


def encrypted_fields() -> dict[type, list[str]]:
    """Every model of the partners app with its encrypted fields."""
    found = {}
    for model in apps.get_app_config("partners").get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if names:
            found[model] = names
    return found


class Command(BaseCommand):
    help = "Re-encrypt partners' encrypted fields with the first GVRS_FIELD_KEY (key rotation)."

    def handle(self, *args, **options) -> None:
        total = 0
        for model, names in encrypted_fields().items():
            rows = 0
            last = 0
            while True:
                # Reading decrypts with any of the keys; writing encrypts with the first.
                batch = list(
                    model.objects.filter(pk__gt=last).order_by("pk").only("pk", *names)[:BATCH]
                )
                if not batch:
                    break
                with audited_transaction():
                    model.objects.bulk_update(batch, names)
                    record(
                        None,
                        "partners.reencrypt",
                        object_type=model._meta.label,
                        detail=f"{len(batch)} rows, fields {', '.join(names)}",
                    )
                rows += len(batch)
                last = batch[-1].pk
            total += rows
            self.stdout.write(f"{model._meta.label}: {rows} rows re-encrypted ({', '.join(names)})")
        self.stdout.write(f"{total} rows re-encrypted with the first key of GVRS_FIELD_KEY")
