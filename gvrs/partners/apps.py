from __future__ import annotations

from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "gvrs.partners"
    verbose_name = "Community partners"
