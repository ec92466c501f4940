"""What every endpoint shares: the gate on a role's permission, the place by its slug, the
metric by its name, and the cache that keeps a computed answer per registry version."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from django.core.cache import cache
from django.http import HttpResponse
from ninja.errors import HttpError

import gvrs
from gvrs.cliutil import did_you_mean
from gvrs.data.metrics import Metric, load_metrics
from gvrs.incidents.models import NATION_SLUG, Area, Jurisdiction, national_place
from gvrs.incidents.versions import registry_version

FIGURES = "incidents.view_publishedcount"  # what the overview asks of a role


def require(request, permission: str, what: str) -> None:
    if not request.user.has_perm(permission):
        raise HttpError(403, f"Your role may not read {what}.")


def place_of(slug: str) -> Jurisdiction:
    if slug == NATION_SLUG:
        national_place()  # the place above the states, made the first time it is asked for
    place = Jurisdiction.objects.filter(slug=slug).first()
    if place is None:
        raise HttpError(
            404, f"No place has the slug {slug!r} (GET /api/v1/places?q=NAME finds it)."
        )
    return place


def place_named(name: str) -> Jurisdiction:
    """A place by its name, slug or path ("CA > Fresno"), as the commands take one."""
    try:
        return Jurisdiction.objects.named(name)
    except Jurisdiction.DoesNotExist:
        names = Jurisdiction.objects.values_list("name", flat=True).distinct()
        raise HttpError(404, f"No place is called {name!r}.{did_you_mean(name, names)}") from None
    except Jurisdiction.MultipleObjectsReturned:
        found = "; ".join(f"{j.path} ({j.slug})" for j in Jurisdiction.objects.all_named(name)[:10])
        raise HttpError(400, f"{name!r} could be several places: {found}; give a slug.") from None


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


# The shape of a cached answer: after an upgrade, one kept by the old code is not served.
ANSWERS = f"{gvrs.__version__}-2"
# How long (seconds) a process trusts the registry version it last read: the public pages'
# bound (gvrs.public.views.FRESH_S). A change this process makes shows at once
# (``forget_version``, connected in the app config); another process's within this bound.
FRESH_S = 2.0
_VERSION: list = [0.0, ""]
# Answers already made, per process: a repeated request reads neither the shared cache nor
# the database for them. Keys carry the registry version, so a stale answer is never served.
_RECENT: OrderedDict[str, object] = OrderedDict()
_RECENT_SIZE = 64


def current_version() -> str:
    now = time.monotonic()
    if now - _VERSION[0] >= FRESH_S:
        _VERSION[:] = [now, registry_version()]
    return _VERSION[1]


def forget_version(**kwargs) -> None:
    _VERSION[:] = [0.0, ""]


def cached(kind: str, parts: tuple, compute):
    """``compute()``, kept until the registry changes: in this process and in the shared
    cache. ``parts`` names everything the answer depends on, the role's rights included."""
    key = "|".join(map(str, (kind, ANSWERS, *parts, current_version())))
    key = "api-" + hashlib.sha256(key.encode()).hexdigest()
    found = _RECENT.get(key)
    if found is not None:
        _RECENT.move_to_end(key)
        return found
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found)
    _RECENT[key] = found
    while len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)
    return found


def json_response(body: bytes) -> HttpResponse:
    """An answer already checked against its schema and rendered (``rendered``)."""
    return HttpResponse(body, content_type="application/json; charset=utf-8")


def rendered(schema, answer) -> bytes:
    """``answer`` checked against its response schema and written as JSON, once: a cached
    answer is served as these bytes, not validated again on every request."""
    return schema.model_validate(answer).model_dump_json().encode()
