"""What the API answers, as typed schemas: they are the OpenAPI document's components, and
every response is checked against them (schemathesis in the suite). Keys follow the commands'
JSON records (docs/statistics.md), so a script can move between the two."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from ninja import Schema
from pydantic import Field, field_validator

# A day asked about: the pages' own bounds (reports.views.FilterForm). Outside them a date is a
# typing slip, and a window reaching one cannot be compared with the window before it.
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2100, 12, 31))]

# A wall-clock time in the place's own zone, "21:15:00": no UTC offset, so not an RFC 3339
# time (a JSON Schema "time" must carry one).
LocalTime = Annotated[str, Field(pattern=r"^\d{2}:\d{2}:\d{2}$")]


class Message(Schema):
    detail: str


class Invalid(Schema):
    """A parameter that is not valid: where and why (pydantic's error list)."""

    detail: list[dict]


ERRORS = {400: Message, 401: Message, 403: Message, 404: Message, 422: Invalid, 429: Message}
PUBLIC_ERRORS = {400: Message, 404: Message, 422: Invalid}


class Place(Schema):
    slug: str
    name: str
    level: str
    path: str  # the places above it, outermost first: "California > Kern County"


class Inside(Schema):
    slug: str
    name: str
    level: str
    published_year: int | None
    published_homicides: int | None
    incidents_12_months: int | None
    # Where the place publishes none of its own: "sum of 12 places inside".
    published_note: str = ""


class Children(Schema):
    place: Place
    incidents_through: dt.date | None
    children: list[Inside]


class SourceCoverage(Schema):
    source: str
    first: dt.date
    last: dt.date
    kinds: list[str]
    recorded: bool  # false: no import recorded it; taken from the source's own incidents
    warnings: list[str]


class PublishedSeries(Schema):
    metric: str
    source: str
    first_year: int
    last_year: int


class Coverage(Schema):
    place: Place
    incident_sources: list[SourceCoverage]
    published: list[PublishedSeries]


class PlaceDetail(Place):
    state: str
    parent: str | None  # the slug of the place it lies in
    ori: str
    geoid: str
    baseline_year: int | None
    areas: list[str]
    public_dashboard: bool


class SeriesRow(Schema):
    """One period, as ``gvrs stats --format json`` gives it."""

    metric: str
    jurisdiction: str
    source: str
    period: str
    period_start: dt.date
    period_end: dt.date
    count: int | None
    rate_per_100k: float | None
    ci_low: float | None
    ci_high: float | None
    complete: bool
    data_from: dt.date
    data_through: dt.date
    coverage: str
    change: int | None = None
    change_pct: float | None = None
    p_value: float | None = None
    sentence: str | None = None
    vs_period: str | None = None
    vs_count: int | None = None
    compared_window: str | None = None
    history: str | None = None


class Series(Schema):
    place: str
    metric: str
    label: str
    unit: str
    by: str
    source: str
    sources: list[str]  # every source of this metric here; the first is the default
    definition: str
    coverage: str
    rows: list[SeriesRow]


class Comparison(Schema):
    """One change, as ``gvrs compare --format json`` gives it."""

    metric: str
    jurisdiction: str
    source: str
    period: str
    period_start: dt.date
    period_end: dt.date
    count: int
    rate_per_100k: float | None
    ci_low: float | None
    ci_high: float | None
    vs_period: str
    vs_count: int
    change: int
    change_pct: float | None
    p_value: float
    sentence: str
    data_from: dt.date
    data_through: dt.date
    coverage: str


class Comparisons(Schema):
    comparisons: list[Comparison]
    not_compared: list[str]  # sources that could not be compared, with why


class Projection(Schema):
    """The year-end projection, as ``gvrs project --format json`` gives it."""

    metric: str
    jurisdiction: str
    source: str
    period: str
    as_of: dt.date
    count: int
    projected: float
    pi_low: int
    pi_high: int
    level: float
    share_elapsed: float
    prior_years: list[int]
    record_high: int | None
    record_high_year: int | None
    p_exceed_record: float | None
    p_lowest_in: dict[str, float]
    sentence: str
    model: str
    data_through: dt.date
    coverage: str


class Cell(Schema):
    lon: float  # the cell's centre, never an incident's own coordinate
    lat: float
    count: int


class Hotspots(Schema):
    place: str
    metric: str
    since: dt.date
    until: dt.date
    cell_m: int
    exact: bool  # false: perturbed cells of one whole year, under the threshold left out
    threshold: int
    note: str
    cells: list[Cell]
    # The whole calendar year the cells count when not exact (docs/disclosure.md).
    cells_year: int | None = None


class AreaRow(Schema):
    name: str
    count: int | None  # null when suppressed
    before: int | None
    change_pct: float | None
    p_value: float | None
    rate_per_100k: float | None
    suppressed: bool


class AreaRanking(Schema):
    place: str
    metric: str
    since: dt.date
    until: dt.date
    window: str
    window_before: str
    note: str
    areas: list[AreaRow]


class EvaluationRun(Schema):
    id: int
    place: str
    metric: str
    method: str
    start: dt.date
    source: str
    computed_at: dt.datetime
    current: bool  # false: the registry changed since; run it again for today's answer
    made_by: str
    record: dict


class Incident(Schema):
    id: int
    source: str
    source_id: str
    kind: str
    weapon: str
    occurred_on: dt.date
    occurred_time: LocalTime | None  # local time in the place's zone, when known
    jurisdiction: str
    area: str | None
    killed: int
    injured: int
    group_involvement: str
    circumstance: str
    case_status: str
    latitude: float | None
    longitude: float | None
    block_address: str

    @field_validator("occurred_time", mode="before")
    @classmethod
    def _wall_clock(cls, value):
        return value.strftime("%H:%M:%S") if isinstance(value, dt.time) else value


class Person(Schema):
    role: str
    age: int | None
    age_group: str
    sex: str
    race_ethnicity: str
    killed: bool
    injured: bool


class IncidentDetail(Incident):
    people: list[Person]


class IncidentPage(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    results: list[Incident]


class PublicCell(Schema):
    text: str  # as the public page shows it: a number, "fewer than 11", "suppressed", "no data"
    value: int | None  # the number, only when it is shown
    state: str  # shown | fewer | suppressed | missing


class PublicRow(Schema):
    label: str
    cells: list[PublicCell]


class PublicTable(Schema):
    key: str
    title: str
    row_header: str
    columns: list[str]
    rows: list[PublicRow]
    note: str


class PublicFigures(Schema):
    place: str
    slug: str
    metric: str
    label: str
    threshold: int
    # Every figure is its count moved by at most this much (docs/disclosure.md).
    perturbed_within: int
    coverage: str
    published_from: dt.date | None
    published_through: dt.date | None
    last_imported: dt.datetime | None
    sources: list[str]
    made_at: dt.datetime
    year_to_date: str
    breakdown_year: int | None
    breakdown_years: list[int]
    no_data: str
    tables: list[PublicTable]


class PublicPlace(Schema):
    slug: str
    name: str
    metric: str
