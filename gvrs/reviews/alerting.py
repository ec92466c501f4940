"""From a finished review to the alerts it calls for: the review's groups and place, the
group audit as it stands that day, and the pure rule ``gvrs.analysis.alerts
.retaliation_alerts`` (which areas and groups, what level, what window, why).

What goes in is places, groups and dates; nothing about a person does, so nothing about a
person can come out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gvrs.incidents.models import Area, Jurisdiction
from gvrs.reviews.frames import area_key, county_of, network_inputs
from gvrs.reviews.models import AreaRisk, Group, Review
from gvrs.reviews.queue import policy_for

FRESH_DAYS = 7  # stored risk older than this before a shooting is not used for its alerts


@dataclass(frozen=True)
class FoundAlert:
    area: Area
    group: Group | None
    level: str
    starts: dt.date
    ends: dt.date
    reason: str


def alert_areas(review: Review) -> list[FoundAlert]:
    from gvrs.analysis.alerts import retaliation_alerts

    incident = review.incident
    if incident.area_id is None:
        return []  # a shooting placed nowhere narrower than its town raises no area's alert
    on = review.reviewed_on or incident.jurisdiction.today()
    county = county_of(incident.jurisdiction)
    inputs = network_inputs(county, on)
    designated = {g.pk for g in inputs.groups.values()}
    areas = {
        area_key(a): a
        for a in Area.objects.filter(jurisdiction_id__in=county.descendant_ids()).select_related(
            "jurisdiction"
        )
    }
    window_days = policy_for(incident.jurisdiction_id).alert_window_days
    found = retaliation_alerts(
        shooting_date=incident.occurred_on,
        shooting_area=area_key(incident.area),
        victim_groups=[g.name for g in review.victim_groups.all() if g.pk in designated],
        suspect_groups=[g.name for g in review.suspect_groups.all() if g.pk in designated],
        group_areas=inputs.group_areas,
        conflicts=inputs.conflicts,
        # The contagion model's expected shootings per area, as `gvrs area_risk` last stored
        # them (None when no fit is recent enough: the rule then stands on the network alone).
        risk_by_area=risk_for_alerts(county, incident.occurred_on, window_days),
        window_days=window_days,
        # The alert opens the day the shooting is reviewed: that is when anyone acts on it.
        opens=max(on, incident.occurred_on),
    )
    return [
        FoundAlert(
            areas[a.area],
            inputs.groups.get(a.group) if a.group else None,
            a.level,
            a.starts,
            a.ends,
            a.reason,
        )
        for a in found
        if a.area in areas
    ]


def risk_for_alerts(place: Jurisdiction, shooting_date: dt.date, horizon_days: int) -> dict:
    """The latest stored expected shootings per area key for this window length, if the fit
    ran on data up to no more than FRESH_DAYS before the shooting; else None."""
    areas = Area.objects.filter(jurisdiction_id__in=place.descendant_ids())
    stored = AreaRisk.objects.filter(
        area__in=areas,
        horizon_days=horizon_days,
        as_of__gte=shooting_date - dt.timedelta(days=FRESH_DAYS),
        as_of__lte=shooting_date,
    )
    latest = stored.order_by("-as_of").values_list("as_of", flat=True).first()
    if latest is None:
        return None
    return {
        area_key(r.area): r.expected_shootings
        for r in stored.filter(as_of=latest).select_related("area__jurisdiction")
    }
