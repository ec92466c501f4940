from __future__ import annotations

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "gvrs.partners"
    verbose_name = "Community partners"

    def ready(self) -> None:
        from gvrs.accounts.audit import register_case_work
        from gvrs.partners.audit import CASE_ACTIONS

        # Their details stay out of the admin's audit list (gvrs.accounts.admin).
        register_case_work("partners.", CASE_ACTIONS)
