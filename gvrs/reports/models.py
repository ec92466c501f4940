"""Site-wide choices an administrator makes in the admin, kept in the database so that every
stateless app server sees the same."""

from __future__ import annotations

from django.db import models


class SiteSettings(models.Model):
    """One row: the place this deployment serves. It overrides ``GVRS_HOME_JURISDICTION``."""

    home_jurisdiction = models.ForeignKey(
        "incidents.Jurisdiction",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the city or county this deployment serves: users land on its overview",
    )

    class Meta:
        verbose_name = "site settings"
        verbose_name_plural = "site settings"
        # Site-wide actions of the reports app hang their permissions here.
        permissions = [("make_council_report", "Can make the council report (HTML and PDF)")]

    def __str__(self) -> str:
        return "Site settings"

    def save(self, *args, **kwargs) -> None:
        self.pk = 1  # a single row, whatever the admin asks
        super().save(*args, **kwargs)
