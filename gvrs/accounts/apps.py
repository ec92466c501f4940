from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gvrs.accounts"
    verbose_name = "Accounts, roles and audit"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_roles, sender=self)
        from django.db.backends.signals import connection_created

        connection_created.connect(_private_sqlite_files, dispatch_uid="gvrs-private-sqlite")


def _sync_roles(**kwargs) -> None:
    from gvrs.accounts.roles import sync_roles

    sync_roles()


def _private_sqlite_files(sender, connection, **kwargs) -> None:
    """The embedded database holds police records: readable by this account only (0600),
    with its write-ahead log and shared-memory files."""
    import os
    from pathlib import Path

    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict["NAME"])
    if name.startswith("file:") or name == ":memory:":
        return
    for suffix in ("", "-wal", "-shm"):
        path = Path(name + suffix)
        if path.exists() and path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
