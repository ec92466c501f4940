from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gvrs.accounts"
    verbose_name = "Accounts, roles and audit"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        post_migrate.connect(_sync_roles, sender=self)
        from gvrs.accounts.router import move_to_activity

        post_migrate.connect(move_to_activity, sender=self, dispatch_uid="gvrs-move-activity")
        from django.db.backends.signals import connection_created

        connection_created.connect(_private_sqlite_files, dispatch_uid="gvrs-private-sqlite")
        from django.contrib.auth.signals import user_logged_in

        from gvrs.accounts.signin import update_last_login

        # Django's receiver would wait for an import to end on SQLite (gvrs.accounts.signin).
        user_logged_in.disconnect(dispatch_uid="update_last_login")
        user_logged_in.connect(update_last_login, dispatch_uid="gvrs-update-last-login")
        from gvrs.accounts import grants

        grants.connect()  # partner access given or taken away is an audit event
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete

        from gvrs.accounts.tokens import forget_user

        post_delete.connect(forget_user, sender=get_user_model(), dispatch_uid="gvrs-tokens")


def _sync_roles(using: str = "default", **kwargs) -> None:
    from gvrs.accounts.roles import sync_roles
    from gvrs.accounts.router import ACTIVITY

    if using == ACTIVITY:  # roles and permissions live in the registry's database
        return
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
