"""Named presets of the synthetic city, calibrated to public figures, and their parameters.

Every parameter is written to ``truth.json`` beside the data, so an analysis method can be
checked against the values that generated it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace


@dataclass(frozen=True)
class Town:
    """A city or town of the county: its name, residents in the first year, and grid size."""

    name: str
    population: int
    grid: tuple[int, int]  # neighborhoods across x and y
    cell_m: float = 1_500.0  # neighborhood side, metres
    risk: float = 1.0  # multiplies the background shooting rate per resident
    # Share of residents in groups, where the town differs from its scenario (None: the same).
    group_member_share: float | None = None
    # Whether the strategy runs here: partners enrol only in such towns, and the demo reviews
    # only their shootings. A comparison town (False) has none of it.
    strategy: bool = True


@dataclass(frozen=True)
class Scenario:
    name: str
    county: str
    towns: tuple[Town, ...]
    # Background (untriggered) shooting incidents per 100,000 residents per year, before any
    # trend or intervention; summer peak and weekend/night effects multiply it.
    background_per_100k: float = 40.0
    season_amplitude: float = 0.30  # peak-to-mean ratio - 1, peaking on `season_peak_day`
    season_peak_day: int = 196  # mid-July
    weekend_factor: float = 1.35
    population_growth: float = 0.01  # per year
    # Triggering (self-excitation): each shooting triggers on average `near_repeat_ratio`
    # near-repeat shootings, Gaussian in space (sd `spatial_scale_m`) and exponential in time
    # (mean `decay_days`); a group-involved one also triggers `retaliation_ratio` retaliations
    # against the rival group, exponential in time with mean `retaliation_decay_days`.
    near_repeat_ratio: float = 0.15
    retaliation_ratio: float = 0.30
    decay_days: float = 7.0
    retaliation_decay_days: float = 10.0
    spatial_scale_m: float = 200.0
    # Who is involved.
    group_member_share: float = 0.003  # of residents, well under 1%
    members_per_group: int = 40
    rivalry_density: float = 0.25  # chance that two groups sharing a town are rivals
    alliance_density: float = 0.10
    background_group_share: float = 0.35  # of untriggered shootings, group-involved
    recorded_unknown_share: float = 0.30  # group involvement the police record as unknown
    # Outcomes.
    shots_fired_share: float = 0.35  # incidents nobody is hit in
    extra_victim_rate: float = 0.15  # victims per incident hit = 1 + Poisson(rate)
    lethality: float = 0.22  # share of people shot who die
    officer_involved_per_100k: float = 0.5  # per year
    # Strategy.
    strategy_start: dt.date = dt.date(2022, 1, 1)
    intervention_effect: float = 0.6  # enrolled members' triggering and victimization x
    partner_capacity: tuple[int, ...] = (60, 40)  # participants per partner organization
    enrolment_window_days: int = 180
    # Citywide trend independent of the strategy: rate multiplier per year from this year.
    trend_start_year: int = 2022
    trend_per_year: float = -0.08  # the national decline after 2021
    extra: dict = field(default_factory=dict)
    # A known citywide effect, for evaluating evaluations (gvrs.analysis.evaluation): from
    # `strategy_start` every untriggered shooting in `effect_town` happens with this rate
    # ratio. Triggering is linear in its parents, so every shooting there (and every person
    # shot or killed) then falls by the same ratio once the first generations have passed.
    citywide_effect: float = 1.0
    effect_town: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["strategy_start"] = self.strategy_start.isoformat()
        # Written only when set, so the older scenarios' truth.json keeps its bytes.
        if self.citywide_effect == 1.0 and not self.effect_town:
            del data["citywide_effect"], data["effect_town"]
        for town in data["towns"]:
            if town["group_member_share"] is None:
                del town["group_member_share"]
            if town["strategy"]:
                del town["strategy"]
        return data

    def scaled(self, size: float) -> Scenario:
        """The same city with ``size`` times the residents (and so about the events)."""
        towns = tuple(replace(t, population=round(t.population * size)) for t in self.towns)
        return replace(self, towns=towns)


SCENARIOS: dict[str, Scenario] = {
    # ~400,000 residents, 40-60 homicides a year before the strategy, in a county of 900,000.
    "bakersfield-like": Scenario(
        name="bakersfield-like",
        county="Kern-like County",
        towns=(
            Town("Bakersfield-like", 400_000, (6, 5), risk=1.0),
            Town("Delano-like", 52_000, (2, 2), risk=0.9),
            Town("Arvin-like", 20_000, (1, 2), risk=0.8),
            Town("Shafter-like", 20_000, (1, 2), risk=0.5),
        ),
        background_per_100k=50.0,
    ),
    # ~320,000 residents, 35-70 homicides a year.
    "stockton-like": Scenario(
        name="stockton-like",
        county="San-Joaquin-like County",
        towns=(
            Town("Stockton-like", 320_000, (5, 5), risk=1.2),
            Town("Lodi-like", 67_000, (2, 2), risk=0.5),
        ),
        background_per_100k=55.0,
    ),
    # ~50,000 residents and a handful of homicides a year: small numbers everywhere.
    "small-town": Scenario(
        name="small-town",
        county="Small County",
        towns=(Town("Small Town", 50_000, (2, 2), risk=0.8),),
        background_per_100k=30.0,
        partner_capacity=(15,),
    ),
    # The demo's county (``gvrs demo``): the Bakersfield-like county, whose strategy cuts
    # every shooting in Bakersfield-like to 0.8 times its rate from 2022 (on top of what the
    # partners do for their participants), and nine comparison towns of the same county
    # (Kern has towns of that size only in this made-up version) that run no strategy: no
    # partners, no citywide effect, fewer groups. They are the comparison places every
    # evaluation design needs, nine so that an in-space placebo rank can reach p = 0.1
    # (docs/simulator.md).
    "kern-like-demo": Scenario(
        name="kern-like-demo",
        county="Kern-like County",
        towns=(
            Town("Bakersfield-like", 400_000, (6, 5), risk=1.0),
            Town("Delano-like", 52_000, (2, 2), risk=0.9),
            Town("Arvin-like", 20_000, (1, 2), risk=0.8),
            Town("Shafter-like", 20_000, (1, 2), risk=0.5),
            *(
                Town(
                    name,
                    people,
                    (2, 2),
                    risk=risk,
                    group_member_share=0.0004,
                    strategy=False,
                )
                for name, people, risk in (
                    ("Oildale-like", 240_000, 1.2),
                    ("Lamont-like", 210_000, 0.8),
                    ("Wasco-like", 190_000, 1.0),
                    ("Tehachapi-like", 175_000, 0.7),
                    ("Ridgecrest-like", 165_000, 0.9),
                    ("Taft-like", 155_000, 1.3),
                    ("McFarland-like", 150_000, 1.1),
                    ("Mojave-like", 145_000, 0.6),
                    ("Lost-Hills-like", 140_000, 1.4),
                )
            ),
        ),
        background_per_100k=50.0,
        citywide_effect=0.8,
        effect_town="Bakersfield-like",
    ),
    # For checking evaluation methods against a known answer: one city whose strategy cuts
    # every shooting to 0.7 times its rate from 2022, and fourteen comparison towns of
    # 60,000-300,000 residents sharing its seasons and a national decline of 3% a year from
    # 2015 (simulate from 2015, so the pre-period trend is the one that continues). Partners
    # have no separate effect on their participants here: the citywide ratio is the truth.
    "evaluation": Scenario(
        name="evaluation",
        county="Evaluation County",
        towns=(
            Town("Treated City", 400_000, (5, 5), risk=1.0),
            *(
                Town(f"Comparison Town {i + 1}", people, (2, 2), risk=risk)
                for i, (people, risk) in enumerate(
                    [
                        (300_000, 0.8),
                        (280_000, 1.2),
                        (250_000, 1.0),
                        (220_000, 1.3),
                        (200_000, 0.7),
                        (180_000, 1.1),
                        (160_000, 0.9),
                        (150_000, 1.4),
                        (140_000, 1.0),
                        (120_000, 1.2),
                        (100_000, 0.8),
                        (90_000, 1.5),
                        (75_000, 1.0),
                        (60_000, 1.3),
                    ]
                )
            ),
        ),
        background_per_100k=50.0,
        trend_start_year=2015,
        trend_per_year=-0.03,
        intervention_effect=1.0,
        citywide_effect=0.7,
        effect_town="Treated City",
    ),
}
