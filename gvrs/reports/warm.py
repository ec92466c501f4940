"""The landing dashboard computed before anyone asks for it.

Sign-in lands on the home place's dashboard, and computing it from the registry (every key
series, the weekly and monthly charts, the area map) is the slowest part of a first visit.
It is pure in the registry's state, so the server computes it into the shared cache before
it listens, and the worker again after each import through the web: the first visitor gets
the cached page.
Every protection level is warmed (``gvrs.reports.protected``: exact, cells, perturbed).
"""

from __future__ import annotations

import logging

from django_tasks import task

log = logging.getLogger(__name__)


def landing_places() -> list:
    """Where sign-in lands: the home place, else the only outermost place, else none."""
    from gvrs.reports.places import home_jurisdiction, outermost

    home = home_jurisdiction()
    if home is not None:
        return [home]
    tops = list(outermost()[:2])
    return tops if len(tops) == 1 else []


@task()
def warm_landing_dashboards() -> int:
    """The worker's warm-up, after an import through the web changed the registry."""
    return warm_now()


def warm_now() -> int:
    """Compute and cache the landing dashboards; returns how many were computed or found.

    `gvrs serve` calls this itself before it listens: queued for the worker at start, the
    warm-up raced the first visit (both computed the page, on a machine busy starting two
    processes), and the bench's first visit took 0.9 s where a cached one takes 0.3 s.
    """
    from gvrs.data.metrics import load_metrics
    from gvrs.reports.protected import CELLS, EXACT, PERTURBED
    from gvrs.reports.views import cached_dashboard

    metrics = load_metrics()
    warmed = 0
    for place in landing_places():
        for level in (CELLS, EXACT, PERTURBED):
            cached_dashboard(place, metrics["homicides"], metrics, None, None, None, level)
            warmed += 1
    log.info("warmed %d landing dashboards", warmed)
    return warmed


def warm_soon(**kwargs) -> None:
    """Queue the warm-up for the worker; never fails the caller (a server start, an import).
    Connected to ``gvrs.incidents.signals.registry_changed``."""
    try:
        warm_landing_dashboards.enqueue()
    except Exception:  # the warm-up is an optimisation: a queue that refuses it costs nothing
        log.exception("could not queue the dashboard warm-up")
