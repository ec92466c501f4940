"""Expected shootings per area from the contagion model, stored for the alert rule.

``compute_area_risk`` fits the self-exciting model (``gvrs.analysis.contagion``) on a place's
shootings with coordinates inside their sources' recorded coverage, draws its risk surface
for the alert window after the data's last day, and sums it per area
(``gvrs.analysis.arearisk``). ``gvrs area_risk`` runs it as periodic work; finishing a
review reads the latest stored figures (``gvrs.reviews.alerting.risk_for_alerts``), never fits
in the request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import transaction
from django.utils import timezone

from gvrs.analysis.arearisk import expected_by_area
from gvrs.analysis.contagion import fit_contagion, risk_surface
from gvrs.analysis.geo import project
from gvrs.analysis.hotspots import Grid
from gvrs.data.metrics import get_metric
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.reports.series import covered_incidents
from gvrs.reviews.frames import area_key
from gvrs.reviews.models import AreaRisk
from gvrs.reviews.queue import policy_for

CELL_M = 150.0


@dataclass(frozen=True)
class AreaRiskResult:
    as_of: dt.date  # the last day the shootings' sources cover
    horizon_days: int
    expected: dict[str, float]  # area key -> expected shootings over the horizon
    surface_total: float  # the whole surface, areas or not
    shootings: int  # fitted on
    branching_ratio: float


class AreaRiskError(ValueError):
    """The place has too little to fit the model on; the message says what."""


def compute_area_risk(
    place: Jurisdiction,
    *,
    horizon_days: int | None = None,
    history_days: int = 730,
    threads: int | None = None,
) -> AreaRiskResult:
    """Fit, draw and store the expected shootings per area after the data's last day;
    ``threads``: the fit's threads (None: every core; the result does not depend on it)."""
    horizon_days = horizon_days or policy_for(place.pk).alert_window_days
    covered = covered_incidents(get_metric("shootings"), place)
    if covered is None:
        raise AreaRiskError(f"no shootings data for {place}")
    incidents, _, last = covered
    incidents = incidents.filter(
        occurred_on__gt=last - dt.timedelta(days=history_days),
        latitude__isnull=False,
        longitude__isnull=False,
    )
    frame = pd.DataFrame(
        list(
            incidents.values_list("longitude", "latitude", "occurred_on", "occurred_time", "area")
        ),
        columns=["lon", "lat", "day", "time", "area"],
    )
    if len(frame) < 30:
        raise AreaRiskError(f"{len(frame)} shootings with coordinates in {place}: too few to fit")
    day = pd.to_datetime(frame["day"])
    seconds = pd.to_timedelta(frame["time"].astype(str).where(frame["time"].notna(), "12:00:00"))
    t = ((day - day.min()) + seconds).dt.total_seconds().to_numpy() / 86_400
    points = project(frame["lon"].to_numpy(dtype=float), frame["lat"].to_numpy(dtype=float))
    order = np.argsort(t[points.kept], kind="stable")
    x, y, t = points.x_m[order], points.y_m[order], t[points.kept][order]
    fit = fit_contagion(x, y, t, threads=threads)
    grid = Grid.around(x, y, CELL_M, pad_m=500)
    surface = risk_surface(fit, grid, horizon_days)
    areas = {
        a.pk: a
        for a in Area.objects.filter(jurisdiction_id__in=place.descendant_ids()).select_related(
            "jurisdiction"
        )
    }
    area_ids = frame["area"].to_numpy()[points.kept][order]
    labels = [area_key(areas[a]) if a in areas else "" for a in area_ids]
    expected = expected_by_area(surface, grid, x, y, labels)
    by_key = {area_key(a): a for a in areas.values()}
    now = timezone.now()
    with transaction.atomic():
        AreaRisk.objects.filter(
            area__in=list(areas.values()), as_of=last, horizon_days=horizon_days
        ).delete()
        AreaRisk.objects.bulk_create(
            AreaRisk(
                area=by_key[key],
                as_of=last,
                horizon_days=horizon_days,
                expected_shootings=value,
                computed_at=now,
            )
            for key, value in expected.items()
        )
    return AreaRiskResult(
        last, horizon_days, expected, float(surface.sum()), len(x), float(fit.branching_ratio)
    )
