from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gvrs.accounts"
    verbose_name = "Accounts, roles and audit"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_roles, sender=self)


def _sync_roles(**kwargs) -> None:
    from gvrs.accounts.roles import sync_roles

    sync_roles()
