"""The incident registry: places, incidents, the people involved, imports and published counts.

An incident is unique by (source, source_id): a re-import of the same export updates in place
and never duplicates. ``content_hash`` fingerprints everything an import wrote for an incident
(its fields and its victims), so a re-import can tell unchanged from updated in one SQL pass.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils.text import slugify

from gvrs.data.schema import (
    FIELDS_BY_NAME,
    SOURCE_MAX_LENGTH,
    Circumstance,
    GroupInvolvement,
    Kind,
    Sex,
    Weapon,
)
from gvrs.data.states import state_code


def _longest(field: str) -> int:
    """A column's length, as the canonical schema (and so import validation) states it."""
    return FIELDS_BY_NAME[field].max_length


def _choices(enum) -> list[tuple[str, str]]:
    return [(m.value, m.value.replace("_", " ")) for m in enum]


class JurisdictionQuerySet(models.QuerySet):
    def named(self, name: str) -> Jurisdiction:
        """The jurisdiction called ``name`` (case-insensitive), with that slug, or with that
        path ("California > Fresno", "TX > Fresno": the last names of its path)."""
        found = self.all_named(name)[:2]
        if len(found) == 1:
            return found[0]
        if not found:
            raise Jurisdiction.DoesNotExist(name)
        raise Jurisdiction.MultipleObjectsReturned(name)

    def all_named(self, name: str) -> list[Jurisdiction]:
        """Every jurisdiction ``named`` could mean (a few), with their parents loaded."""
        parts = [p.strip() for p in name.split(">") if p.strip()]
        if len(parts) <= 1:
            text = parts[0] if parts else name
            q = models.Q(name__iexact=text) | models.Q(slug=slugify(text))
            exact = list(self.filter(q).select_related("parent")[:20])
            # A place's own slug, given as it is, is that place, whatever others share its
            # name ("springfield" where there are three Springfields).
            own = [j for j in exact if j.slug == text]
            if own:
                return own
            # "California" is the state, not a county or city that happens to share the name.
            states = [j for j in exact if j.level == Jurisdiction.Level.STATE]
            return states or exact
        code = state_code(parts[0])
        wanted = [p.casefold() for p in (parts[1:] if code else parts)]
        candidates = self.filter(name__iexact=parts[-1])
        if code:
            candidates = candidates.filter(state=code)
        matches, exact = [], []
        for candidate in candidates.select_related("parent__parent__parent")[:50]:
            names = [n.casefold() for n in candidate.path.split(" > ")]
            if names[len(names) - len(wanted) :] == wanted:
                matches.append(candidate)
                # A path from the state ("PA > Philadelphia") is exact, not a suffix.
                if code and names[1:] == wanted:
                    exact.append(candidate)
        return exact or matches


class Jurisdiction(models.Model):
    """A state, county, city, district or reporting agency; counts roll up to the parent.

    Every place belongs to a state (``state``, a USPS code) and is known by its path inside
    it: the state's own node ("California") is the root, its counties below, cities and
    agencies below those. An import matches places by that path, never by a bare name across
    states (``gvrs.incidents.importing.places``).
    """

    class Level(models.TextChoices):
        NATION = "nation"  # "United States": every state inside it (``national_place``)
        STATE = "state"
        COUNTY = "county"
        CITY = "city"
        DISTRICT = "district"
        AGENCY = "agency"

    name = models.CharField(max_length=_longest("jurisdiction"))
    slug = models.SlugField(max_length=200, unique=True)
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.CITY)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    state = models.CharField(
        max_length=2, blank=True, db_index=True, help_text="USPS code of the state it lies in"
    )
    ori = models.CharField(
        max_length=20, blank=True, help_text="FBI Originating Agency Identifier (NCIC code)"
    )
    geoid = models.CharField(max_length=15, blank=True, help_text="Census GEOID")
    time_zone = models.CharField(max_length=64, default=settings.GVRS_DEFAULT_TIME_ZONE)
    baseline_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="the year the strategy's results are measured against"
    )
    import_run = models.ForeignKey(
        "ImportRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_places",
        help_text="the import that created this place",
    )

    objects = JurisdictionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="jurisdiction_unique_name"),
            models.UniqueConstraint(
                fields=["state"], condition=models.Q(level="state"), name="jurisdiction_one_state"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        """'California > Kern County > Bakersfield' (a query per level; for messages)."""
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " > ".join(reversed(names))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def today(self) -> dt.date:
        return dt.datetime.now(self.zone).date()

    def inside(self) -> models.QuerySet:
        """The places directly inside this one: its children; the nation's are the states
        (which stay the roots of their own trees, so paths start at the state)."""
        if self.level == self.Level.NATION:
            return Jurisdiction.objects.filter(level=self.Level.STATE)
        return self.children.all()

    def descendant_ids(self) -> list[int]:
        """This jurisdiction and everything below it, for roll-ups (a few levels deep)."""
        if self.level == self.Level.NATION:
            return list(Jurisdiction.objects.values_list("pk", flat=True))
        ids, frontier = [self.pk], [self.pk]
        while frontier:
            frontier = list(
                Jurisdiction.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
            )
            ids.extend(frontier)
        return ids


NATION_SLUG = "united-states"
NATION_NAMES = {"united-states", "us", "usa", "united-states-of-america", "nation"}


def national_place() -> Jurisdiction | None:
    """The "United States" place above the states (made the first time it is asked for,
    once the registry holds a state): its figures are its states' summed, per source, with
    the coverage rules of any place that holds others. None: no state yet."""
    found = Jurisdiction.objects.filter(level=Jurisdiction.Level.NATION).first()
    if found is not None:
        return found
    if not Jurisdiction.objects.filter(level=Jurisdiction.Level.STATE).exists():
        return None
    found, _ = Jurisdiction.objects.get_or_create(
        slug=NATION_SLUG, defaults={"name": "United States", "level": Jurisdiction.Level.NATION}
    )
    return found


class Population(models.Model):
    """Residents of a jurisdiction in a year, for rates per 100,000."""

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, related_name="populations"
    )
    year = models.PositiveSmallIntegerField()
    population = models.PositiveIntegerField()
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["jurisdiction", "year"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "year"], name="population_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.year}: {self.population:,}"


class Area(models.Model):
    """A neighborhood, beat or borough inside a jurisdiction, optionally with its boundary."""

    # No index of its own: the unique (jurisdiction, name) index serves every lookup by
    # jurisdiction, and a second index cost each import creating many areas a tenth of its time.
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, related_name="areas", db_index=False
    )
    name = models.CharField(max_length=_longest("area"))
    kind = models.CharField(max_length=40, default="neighborhood")
    boundary = models.JSONField(null=True, blank=True, help_text="GeoJSON geometry, WGS84")
    population = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["jurisdiction", "name"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "name"], name="area_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.jurisdiction})"


class ImportRun(models.Model):
    """One attempt to import a file: who, when, what, and what it did to the registry."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded"
        PARTIAL = "partial", "succeeded with rejected rows"
        FAILED = "failed"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    initiated_by = models.CharField(max_length=150, help_text="user name or system account")
    file_name = models.CharField(max_length=500)
    file_sha256 = models.CharField(max_length=64)
    file_bytes = models.BigIntegerField(default=0)
    format = models.CharField(max_length=100)
    target = models.CharField(max_length=40, default="incidents")
    status = models.CharField(max_length=20, choices=Status.choices)
    rows_read = models.BigIntegerField(default=0)
    rows_inserted = models.BigIntegerField(default=0)
    rows_updated = models.BigIntegerField(default=0)
    rows_unchanged = models.BigIntegerField(default=0)
    rows_rejected = models.BigIntegerField(default=0)
    incidents_inserted = models.BigIntegerField(default=0)
    incidents_updated = models.BigIntegerField(default=0)
    incidents_unchanged = models.BigIntegerField(default=0)
    # Incidents the file removed (a NIBRS delete segment, or an incident a corrected CDE year
    # no longer holds).
    incidents_deleted = models.BigIntegerField(default=0)
    duration_s = models.FloatField(default=0.0)
    message = models.TextField(blank=True)
    # Coverage: the period the file covers, a recorded fact (given with --from/--through or in
    # the mapping, or by default the file's own first and latest dates, strays left out). A
    # series' coverage is its source's, across runs: see gvrs.incidents.coverage.
    source = models.CharField(max_length=SOURCE_MAX_LENGTH, blank=True)
    covers_from = models.DateField(null=True, blank=True)
    covers_through = models.DateField(null=True, blank=True)
    coverage_basis = models.CharField(
        max_length=40, blank=True, help_text="given, mapping, or the file's dates"
    )
    # The incident kinds (or published metrics) the file holds: a source covers only those.
    covers_kinds = models.JSONField(default=list, blank=True)
    coverage_warnings = models.JSONField(
        default=list, blank=True, help_text="strays, probable gaps and future dates found"
    )
    # Years of the file whose records fall far below their neighbours' (coverage by volume,
    # ``gvrs.analysis.coverage.find_thin_years``): not covered, like a gap.
    thin_years = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.format}) {self.started_at:%Y-%m-%d %H:%M}"


class IncidentQuerySet(models.QuerySet):
    def in_jurisdiction(self, jurisdiction: Jurisdiction) -> IncidentQuerySet:
        return self.filter(jurisdiction_id__in=jurisdiction.descendant_ids())

    def between(self, since: dt.date | None, until: dt.date | None) -> IncidentQuerySet:
        qs = self
        if since:
            qs = qs.filter(occurred_on__gte=since)
        if until:
            qs = qs.filter(occurred_on__lte=until)
        return qs


class Incident(models.Model):
    """A homicide or shooting, with its wall-clock time in its jurisdiction's zone."""

    source = models.CharField(max_length=SOURCE_MAX_LENGTH)
    source_id = models.CharField(max_length=_longest("source_id"))
    kind = models.CharField(max_length=40, choices=_choices(Kind))
    weapon = models.CharField(max_length=20, choices=_choices(Weapon), default=Weapon.UNKNOWN)
    occurred_on = models.DateField(help_text="local date in the jurisdiction's time zone")
    occurred_time = models.TimeField(null=True, blank=True, help_text="local time, when known")
    reported_at = models.DateTimeField(null=True, blank=True)
    # No index of its own: the (jurisdiction, occurred_on) index serves every lookup by place.
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.PROTECT, related_name="incidents", db_index=False
    )
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.SET_NULL, related_name="incidents"
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    block_address = models.CharField(
        max_length=_longest("block_address"), blank=True, help_text="restricted"
    )
    killed = models.PositiveIntegerField(default=0)
    injured = models.PositiveIntegerField(default=0)
    group_involvement = models.CharField(
        max_length=10, choices=_choices(GroupInvolvement), default=GroupInvolvement.UNKNOWN
    )
    circumstance = models.CharField(
        max_length=30, choices=_choices(Circumstance), default=Circumstance.UNKNOWN
    )
    case_status = models.CharField(max_length=_longest("case_status"), blank=True)
    location_type = models.CharField(
        max_length=_longest("location_type"), blank=True, help_text="the kind of place"
    )
    offenders = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="offenders recorded; 0: unknown offenders"
    )
    content_hash = models.BigIntegerField(default=0)
    import_run = models.ForeignKey(
        ImportRun,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="incidents",
        help_text="the import that last inserted or changed this incident",
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-occurred_time"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], name="incident_unique_source")
        ]
        permissions = [
            ("view_restricted_fields", "Can see block addresses and other restricted fields"),
            ("export_incident", "Can export incident lists as CSV (audited)"),
        ]
        indexes = [
            models.Index(fields=["jurisdiction", "occurred_on"]),
            models.Index(fields=["occurred_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_on} ({self.source}:{self.source_id})"

    @property
    def occurred_at(self) -> dt.datetime | dt.date:
        """An aware datetime when the time is known, otherwise the date alone."""
        if self.occurred_time is None:
            return self.occurred_on
        naive = dt.datetime.combine(self.occurred_on, self.occurred_time)
        return naive.replace(tzinfo=self.jurisdiction.zone)

    @property
    def victims(self) -> int:
        return self.killed + self.injured


class PersonInvolved(models.Model):
    class Role(models.TextChoices):
        VICTIM = "victim"
        SUSPECT = "suspect"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="people")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.VICTIM)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_group = models.CharField(max_length=_longest("victim_age_group"), blank=True)
    sex = models.CharField(max_length=10, choices=_choices(Sex), blank=True)
    race_ethnicity = models.CharField(max_length=_longest("victim_race"), blank=True)
    ethnicity = models.CharField(max_length=_longest("victim_ethnicity"), blank=True)
    # Person fields a source's mapping adds ([victim_fields]), e.g. NIBRS's injury and
    # offense: {"injury": "None", "offense": "13A"}.
    extra = models.JSONField(default=dict, blank=True)
    killed = models.BooleanField(default=False)
    injured = models.BooleanField(default=False)

    class Meta:
        ordering = ["incident", "pk"]

    def __str__(self) -> str:
        return f"{self.role} of {self.incident_id}"


class ReportedMonth(models.Model):
    """Whether an agency reported a month to a source: coverage per place, where a source
    records it (NIBRS: ``NIBRS_month.csv``, zero reports and each submission's months).

    A source with such records covers a place only in its reported months (incidents or a
    zero report), so an agency that began reporting in August, or skipped March, is "no
    data" there, never 0 (``gvrs.incidents.coverage``).
    """

    class Status(models.TextChoices):
        INCIDENTS = "incidents", "reported its incidents"
        ZERO = "zero", "reported that nothing happened (a zero report)"
        NOT_REPORTED = "not_reported", "did not report"

    source = models.CharField(max_length=SOURCE_MAX_LENGTH)
    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, related_name="reported_months"
    )
    month = models.DateField(help_text="its first day")
    status = models.CharField(max_length=20, choices=Status.choices)
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["source", "jurisdiction", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "jurisdiction", "month"], name="reported_month_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.jurisdiction_id} {self.month:%Y-%m}: {self.status}"

    @property
    def covered(self) -> bool:
        return self.status != self.Status.NOT_REPORTED


class PublishedCount(models.Model):
    """A figure someone else counted (an annual total), kept with its source and definition.

    Sources disagree on the same figure (a coroner counts police killings, a district attorney
    does not), so one figure may stand several times, once per source.
    """

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, related_name="published_counts"
    )
    metric = models.CharField(max_length=100)
    period_start = models.DateField()
    period_end = models.DateField(help_text="inclusive")
    count = models.PositiveIntegerField()
    source = models.CharField(max_length=200)
    definition = models.TextField(blank=True)
    as_of = models.DateField(null=True, blank=True, help_text="when the source published it")
    import_run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["jurisdiction", "metric", "period_start", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["jurisdiction", "metric", "period_start", "period_end", "source"],
                name="published_count_unique",
            )
        ]
        indexes = [models.Index(fields=["metric", "jurisdiction", "period_start"])]

    def __str__(self) -> str:
        period = f"{self.period_start}..{self.period_end}"
        return f"{self.jurisdiction} {self.metric} {period}: {self.count}"


class ImportJob(models.Model):
    """A file uploaded through the web, checked and then imported by background tasks
    (``gvrs.incidents.jobs``): the page polls its state and progress.

    A job goes through a preview (a dry run: every error, the counts an import would make,
    nothing stored) and, once its user confirms, the import. Each phase is queued, then
    running, then done or failed; a phase whose worker died is interrupted, with the reason.
    """

    class Phase(models.TextChoices):
        PREVIEW = "preview"
        IMPORT = "import"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        INTERRUPTED = "interrupted"

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.PREVIEW)
    state = models.CharField(max_length=12, choices=State.choices, default=State.QUEUED)
    folder = models.CharField(max_length=500, help_text="where the uploaded file waits")
    file_name = models.CharField(max_length=500)
    format_name = models.CharField(max_length=100, blank=True, help_text="blank: detect")
    jurisdiction = models.CharField(max_length=200, blank=True)
    accept_valid = models.BooleanField(default=False)
    # The period the file covers, as stated on the upload form (blank: from the file's dates).
    covers_from = models.DateField(null=True, blank=True)
    covers_through = models.DateField(null=True, blank=True)
    # The upload form's place options: the state for places that name none, and whether an
    # import may create places.
    place_state = models.CharField(max_length=2, blank=True)
    new_places = models.BooleanField(default=False)
    # The preview's report (ImportReport, pickled by the worker, errors capped) and its size.
    preview = models.BinaryField(null=True, editable=False)
    error_count = models.BigIntegerField(default=0)
    run = models.ForeignKey(ImportRun, null=True, on_delete=models.SET_NULL, related_name="+")
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-pk"]

    def __str__(self) -> str:
        return f"import job {self.pk}: {self.file_name} ({self.phase} {self.state})"

    @property
    def active(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RUNNING)


class ScheduledImport(models.Model):
    """Data that arrives by itself: a folder the records system drops its exports into, or an
    HTTPS address fetched on a schedule, imported with a saved mapping by the background
    worker (``gvrs.incidents.scheduled``). A file already imported (the same bytes, by
    SHA-256) is never imported twice: an unchanged file is "nothing changed"."""

    name = models.CharField(max_length=100, unique=True)
    place = models.ForeignKey(
        Jurisdiction,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="the place this feed serves: its administrators are told when a run fails",
    )
    folder = models.CharField(
        max_length=500, blank=True, help_text="a folder on the server watched for new files"
    )
    pattern = models.CharField(
        max_length=100, default="*.csv", help_text="which files of the folder, e.g. *.csv.gz"
    )
    url = models.URLField(
        max_length=1000, blank=True, help_text="or an https:// address fetched on the schedule"
    )
    format_name = models.CharField(
        max_length=100, blank=True, help_text="a shipped format (blank: the mapping below)"
    )
    mapping = models.TextField(
        blank=True, help_text="a TOML mapping (docs/mappings.md), used when no format is named"
    )
    jurisdiction = models.CharField(
        max_length=200, blank=True, help_text="for rows that name no place, e.g. Bakersfield"
    )
    state = models.CharField(max_length=2, blank=True, help_text="for places named without one")
    accept_valid = models.BooleanField(
        default=False, help_text="import the valid rows and set invalid ones aside"
    )
    every_minutes = models.PositiveIntegerField(default=24 * 60)
    settle_seconds = models.PositiveIntegerField(
        default=60, help_text="a file changed more recently than this is still being written"
    )
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True, help_text="blank: at once")
    running_since = models.DateTimeField(null=True, blank=True, editable=False)
    etag = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from gvrs.incidents.schedule_rules import check_schedule

        problems = check_schedule(self)
        if problems:
            raise ValidationError(problems)


class ScheduledRun(models.Model):
    """One run of a scheduled import and its outcome: a file imported (with its import run),
    nothing changed, or a failure (with why, and how many administrators were told)."""

    class Outcome(models.TextChoices):
        IMPORTED = "imported", "imported"
        UNCHANGED = "unchanged", "nothing changed"
        FAILED = "failed", "failed"

    schedule = models.ForeignKey(ScheduledImport, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    file_name = models.CharField(max_length=500, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    message = models.TextField(blank=True)
    import_run = models.ForeignKey(
        ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notified = models.PositiveIntegerField(default=0, help_text="administrators told of it")

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.schedule}: {self.get_outcome_display()} {self.started_at:%Y-%m-%d %H:%M}"


class PrimarySource(models.Model):
    """The incident source a place's figures of a metric come from when several sources
    record its incidents (the police records export beside a national archive): set by
    ``gvrs places set-primary`` or in the admin. Without one, the source whose coverage of
    the place is widest leads (``gvrs.reports.sources``). The others stand beside it; two
    incident sources are never summed."""

    jurisdiction = models.ForeignKey(
        Jurisdiction, on_delete=models.CASCADE, related_name="primary_sources"
    )
    metric = models.CharField(
        max_length=100, blank=True, help_text="a metric's name; blank: every metric"
    )
    source = models.CharField(
        max_length=SOURCE_MAX_LENGTH, help_text="an incident source, as its import named it"
    )

    class Meta:
        ordering = ["jurisdiction", "metric"]
        constraints = [
            models.UniqueConstraint(fields=["jurisdiction", "metric"], name="primary_source_unique")
        ]

    def __str__(self) -> str:
        return f"{self.jurisdiction} {self.metric or 'every metric'}: {self.source}"
