"""What the registry holds, as one string that changes whenever a figure drawn from it may:
the key that every cached page and figure is stored under."""

from __future__ import annotations

from django.contrib.admin.models import LogEntry
from django.db.models import Count, Max, Sum

from gvrs.incidents.models import ImportRun, Jurisdiction, Population


def registry_version() -> str:
    """Changes whenever an import, a population, a baseline or an edit in the admin (each
    writes a LogEntry) changes what a page shows."""
    edits = LogEntry.objects.aggregate(last=Max("pk"))["last"]
    runs = ImportRun.objects.aggregate(last=Max("pk"), finished=Max("finished_at"))
    people = Population.objects.aggregate(last=Max("pk"), n=Count("pk"))
    baselines = Jurisdiction.objects.aggregate(b=Sum("baseline_year"))
    return (
        f"{runs['last']}-{runs['finished']}-{people['last']}-{people['n']}-{baselines['b']}-{edits}"
    )
