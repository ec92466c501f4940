"""What every endpoint shares: the gate on a role's permission, the place by its slug, the
metric by its name, and the cache that keeps a computed answer per registry version."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from ninja.errors import HttpError

from gvrs.cliutil import did_you_mean
from gvrs.data.metrics import Metric, load_metrics
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.incidents.versions import registry_version

FIGURES = "incidents.view_publishedcount"  # what the overview asks of a role


def require(request, permission: str, what: str) -> None:
    if not request.user.has_perm(permission):
        raise HttpError(403, f"Your role may not read {what}.")


def place_of(slug: str) -> Jurisdiction:
    place = Jurisdiction.objects.filter(slug=slug).first()
    if place is None:
        raise HttpError(
            404, f"No place has the slug {slug!r} (GET /api/v1/places?q=NAME finds it)."
        )
    return place


def metric_of(name: str) -> Metric:
    metrics = load_metrics()
    if name not in metrics:
        hint = did_you_mean(name, list(metrics))
        raise HttpError(400, f"Unknown metric {name!r}.{hint} Metrics: {', '.join(metrics)}.")
    return metrics[name]


def area_of(place: Jurisdiction, name: str | None) -> Area | None:
    if not name:
        return None
    area = Area.objects.filter(
        jurisdiction_id__in=place.descendant_ids(), name__iexact=name
    ).first()
    if area is None:
        raise HttpError(404, f"No area {name!r} in {place.name}.")
    return area


def cached(kind: str, parts: tuple, compute):
    """``compute()``, kept in the shared cache until the registry changes. ``parts`` names
    everything the answer depends on, the role's rights included."""
    key = "|".join(map(str, (kind, *parts, registry_version())))
    key = "api-" + hashlib.sha256(key.encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found)
    return found
