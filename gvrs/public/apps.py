from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "gvrs.public"
    verbose_name = "Public dashboard"
