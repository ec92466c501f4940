from __future__ import annotations

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "gvrs.api"
    verbose_name = "Read API"
