"""Evaluations already run, kept so that the API (and anyone after) can read them without
running a model fit inside a request."""

from __future__ import annotations

from django.db import models


class EvaluationRun(models.Model):
    """One evaluation's JSON record (``gvrs.evaluation.runs.record``), as the evaluation page or
    ``gvrs evaluate`` computed it, with the registry's version at the time: a record made
    before the registry last changed is kept and marked as such, never silently current.

    It lives beside the cache (``accounts.router``): the page writes it while it answers, and
    on SQLite that write must not wait for an import. So it names its place by id, slug and
    name rather than by a foreign key into the registry's database.
    """

    place_id = models.BigIntegerField(db_index=True)
    place_slug = models.CharField(max_length=200)
    place_name = models.CharField(max_length=200)
    metric = models.CharField(max_length=100)
    method = models.CharField(max_length=10)
    start = models.DateField()
    source = models.CharField(max_length=200)
    question = models.CharField(
        max_length=64, help_text="digest of everything the answer depends on"
    )
    record = models.JSONField()
    registry_version = models.CharField(max_length=200)
    computed_at = models.DateTimeField()
    made_by = models.CharField(max_length=150, blank=True, help_text="user name or command")

    class Meta:
        ordering = ["-computed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "registry_version"], name="evaluation_run_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.metric} {self.place_name} from {self.start}"


class Strategy(models.Model):
    """A strategy that began in a place: where, when and what. The registry of starts that
    every evaluation reads: a place whose strategy began before or during an evaluation's
    window is never one of its comparison places, and ``gvrs evaluate --method staggered``
    evaluates every start together."""

    jurisdiction = models.ForeignKey(
        "incidents.Jurisdiction", on_delete=models.PROTECT, related_name="strategies"
    )
    start = models.DateField(help_text="the first day of the strategy")
    description = models.CharField(
        max_length=300, help_text="what began, e.g. 'Ceasefire group violence intervention'"
    )
    added_at = models.DateTimeField(auto_now_add=True)
    added_by = models.CharField(max_length=150, blank=True, help_text="user name or command")

    class Meta:
        ordering = ["start", "jurisdiction__name", "id"]
        verbose_name_plural = "strategies"
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "start", "description"], name="strategy_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.description} in {self.jurisdiction.name} from {self.start}"
