"""What a place's public dashboard publishes: every figure perturbed and suppressed, as labels.

Nothing here keeps a hidden count. The page, its charts and its CSV are all made from the
``PublicPage`` this module returns, so the download is exactly what is shown and no template
or chart can print a number the suppression hid.

Every count is perturbed by the disclosure policy's cell-key method first (the same figures
the overview shows a partner: ``Policy.monthly``, ``Policy.grouped``), so that the pages of
nested places, or of one place before and after new data, cannot be combined into a count
(docs/disclosure.md); the suppression below then works on those figures.

The figures and how they hang together (each linear relation a reader could use is audited):

- **Months by year** (one table, ``gvrs.analysis.suppression``): the metric per calendar month
  of every year in the data's coverage, each year's total (the annual trend; the running
  year's total is its year to date), each month's total over the years, the grand total.
  Only whole months inside the source's recorded coverage are published; others are
  "no data", never 0.
- **Year to date against last year**: this year's total is a row total of the table; last
  year's same months are a sum of cells, an extra relation, published only when the audit by
  linear programming (``gvrs.analysis.disclosure``) finds that no hidden cell becomes solvable.
- **Rates** per 100,000 residents for whole years whose count is shown and whose population
  is loaded (a rate of a hidden count would reveal it).
- **Breakdowns of one whole year** (areas, victims' age group, sex, race): each its own table
  with complementary suppression. They are published only for a year whose total is shown in
  the table of months, and each adds up to that same total when its figures can be fitted to
  it (``Policy.parts``; an "area not recorded" or "no person record" row holds the rest),
  otherwise it keeps its own total.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from django.db.models import Max, Q
from django.utils import dateformat
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from gvrs.accounts.audience import deployment_policy
from gvrs.analysis.coverage import coverage_phrase
from gvrs.analysis.disclosure import PUBLIC, ExtraFigure, Records, disclosed
from gvrs.analysis.disclosure.windows import months_between
from gvrs.analysis.inference import compare_counts
from gvrs.analysis.narrative import change_sentence, count_text, localize_number, month_abbr
from gvrs.analysis.suppression import SuppressedTable, suppress_table
from gvrs.data.metrics import Metric
from gvrs.incidents.models import ImportRun, Incident, Jurisdiction, PersonInvolved, Population
from gvrs.reports.labels import code_label, source_title
from gvrs.reports.protected import RECORD_WEIGHT
from gvrs.reports.series import (
    count_expression,
    coverage_gaps,
    incident_sources,
    metric_filter,
)

# The page is built in the language active when ``build_page`` runs (the view activates the
# reader's): every word through the gettext catalogue (gvrs/locale), every number and month
# through ``gvrs.analysis.narrative``'s formatting of that language. Labels are compared
# below (``NOT_RECORDED``, ``TOTAL``) in English, and translated when shown.
MONTHS = [calendar.month_abbr[m] for m in range(1, 13)]  # English, kept for old callers
AGE_GROUPS = ((0, 17, "under 18"), (18, 24, "18–24"), (25, 34, "25–34"), (35, 44, "35–44"))
AGE_GROUPS += ((45, 54, "45–54"), (55, 200, "55 and over"))
NOT_RECORDED = "not recorded"
TOTAL = "Total"
# Marked for the catalogue; translated when shown.
_AGE_WORDS = [gettext_noop("under 18"), gettext_noop("55 and over"), gettext_noop("Total")]

REVISION_POLICY = gettext_noop(
    "Figures are recounted from the registry whenever new data are imported: a late report, "
    "a reclassified incident or a corrected record changes past months, so a figure may differ "
    "from the one shown last week. The download says when it was made and through which day "
    "the data run. Earlier versions are not kept on this page."
)


def language() -> str:
    """The active language as the analysis modules take it: "en" or "es"."""
    code = (get_language() or "en")[:2]
    return code if code in ("en", "es") else "en"


def month_names() -> list[str]:
    """The month abbreviations in the active language ("Jan", or "ene")."""
    return [month_abbr(m, language()) for m in range(1, 13)]


def count_label(value: int) -> str:
    """A count in the active language's conventions ("12,345", or "12 345")."""
    return count_text(value, language())


def long_date(day: dt.date | dt.datetime) -> str:
    """ "1 January 2022", or "1 de enero de 2022"."""
    return dateformat.format(day, _("j F Y"))


def fewer_than(threshold: int) -> str:
    return _("fewer than %(n)s") % {"n": count_label(threshold + 1)}


class NotPublishedError(Exception):
    """A request for something the page does not publish (a year outside the coverage);
    the message says why, for the reader."""


@dataclass(frozen=True)
class Cell:
    """One published figure: ``text`` as shown; ``value`` only when the number is shown."""

    text: str
    value: int | None = None
    state: str = "shown"  # shown | fewer | suppressed | missing

    @property
    def hidden(self) -> bool:
        return self.state in ("fewer", "suppressed")


@dataclass(frozen=True)
class Table:
    key: str  # "months", "areas", ...: the CSV's ``table`` column
    title: str
    row_header: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]]
    note: str = ""

    # The last row of these tables is their total (years, areas, victims); year to date and
    # rates have none. On the page it sits in <tfoot>, where sorting leaves it.
    @property
    def total_row(self) -> tuple[str, list[Cell]] | None:
        if self.key in ("year_to_date", "rates") or not self.rows:
            return None
        return self.rows[-1]

    @property
    def body_rows(self) -> list[tuple[str, list[Cell]]]:
        return self.rows if self.total_row is None else self.rows[:-1]

    @property
    def sortable(self) -> bool:
        """The tables of one year's categories (areas, victims) sort by any column."""
        return self.key in ("areas", "age_group", "sex", "race", "ethnicity")


@dataclass(frozen=True)
class PublicPage:
    jurisdiction: str
    slug: str
    metric: Metric
    threshold: int
    coverage: str  # what the data cover, in words
    published_from: dt.date | None
    published_through: dt.date | None
    last_imported: dt.datetime | None
    sources: list[str]
    made_at: dt.datetime
    tables: list[Table] = field(default_factory=list)
    ytd_sentence: str = ""
    breakdown_year: int | None = None
    breakdown_years: list[int] = field(default_factory=list)
    breakdown_note: str = ""
    areas_shown: list[tuple[str, Cell]] = field(default_factory=list)  # for the map
    no_data: str = ""
    places: list[int] = field(default_factory=list)  # the place and those inside it
    # Every figure is its count moved by at most this much (the cell-key method).
    perturbed_within: int = 0

    @property
    def fewer_label(self) -> str:
        return fewer_than(self.threshold)

    @property
    def ytd_table(self) -> Table | None:
        return self.table("year_to_date")

    def table(self, key: str) -> Table | None:
        return next((t for t in self.tables if t.key == key), None)


def cell_of(table: SuppressedTable, i: int, j: int) -> Cell:
    if table.missing[i, j]:
        return Cell(_("no data"), None, "missing")
    if table.primary[i, j]:
        return Cell(fewer_than(table.threshold), None, "fewer")
    if table.suppressed[i, j]:
        return Cell(_("suppressed"), None, "suppressed")
    value = int(table.values[i, j])
    return Cell(count_label(value), value, "shown")


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def whole_months(first: dt.date, last: dt.date) -> tuple[dt.date, dt.date] | None:
    """The first day of the first whole month and the last day of the last whole month
    inside ``first``..``last``; None when no month is whole."""
    start = first if first.day == 1 else _month_end(first) + dt.timedelta(days=1)
    end = last if last == _month_end(last) else last.replace(day=1) - dt.timedelta(days=1)
    return (start, end) if start <= end else None


def _month_span(start: dt.date, end: dt.date) -> str:
    """ "Jan–Oct" or "Jan" (the months of one year)."""
    a, b = month_names()[start.month - 1], month_names()[end.month - 1]
    return a if a == b else f"{a}–{b}"


def _coverage(metric: Metric, jurisdiction: Jurisdiction, places: list[int]):
    """The place's primary incident source of the metric, with its recorded coverage
    (``gvrs.incidents.coverage``), in a list (empty: none). One source only: two sources
    over one city would count its shootings twice (``gvrs.reports.series``)."""
    return incident_sources(metric, jurisdiction)[:1]


def _persons_filter(metric: Metric) -> Q:
    """The people a metric counts: the killed for homicides, the injured for nonfatal
    shootings, both for people shot; every victim when the metric counts incidents."""
    if metric.count == "killed":
        return Q(killed=True)
    if metric.count == "injured":
        return Q(injured=True)
    if metric.count == "victims":
        return Q(killed=True) | Q(injured=True)
    return Q()


def _age_group(age: int | None, recorded_group: str) -> str:
    if age is None:
        return recorded_group.strip() or NOT_RECORDED
    for low, high, label in AGE_GROUPS:
        if low <= age <= high:
            return label
    return NOT_RECORDED


def _one_way(
    key: str,
    title: str,
    header: str,
    counts: dict[str, int],
    total: int | None,
    threshold: int,
    column: str,
    note: str,
    rest_label: str,
) -> Table:
    """A table of categories adding up to ``total`` (the rest under ``rest_label``), with
    complementary suppression; its total row is the year's total, shown elsewhere too
    (``total`` None: the table's own total)."""
    order = {label: k for k, (_, _, label) in enumerate(AGE_GROUPS)}
    # Age groups in age order, other categories by name; "not recorded" last.
    names = sorted(counts, key=lambda n: (n == NOT_RECORDED, order.get(n, len(order)), n))
    values = [counts[n] for n in names]
    rest = 0 if total is None else total - sum(values)
    if rest > 0:
        names.append(rest_label)
        values.append(rest)
    elif rest < 0:
        # The parts' figures add up to more than the year's (each is moved on its own, or a
        # victim is recorded twice): the table keeps its own total and says so.
        note = (note + " " if note else "") + _(
            "Its figures add up to more than the year's figure (each is moved a little on its "
            "own); the table's own total is shown."
        )
    result = suppress_table(np.array(values, dtype=float), threshold)
    # Categories are translated as shown (a recorded word the catalogue lacks stays as is).
    rows = [(_(name), [cell_of(result, i, 0)]) for i, name in enumerate(names)]
    rows.append((_(TOTAL), [cell_of(result, len(names), 0)]))
    return Table(key, title, header, [column], rows, note)


def build_page(
    jurisdiction: Jurisdiction,
    metric: Metric,
    threshold: int,
    *,
    year: int | None = None,
    today: dt.date | None = None,
) -> PublicPage:
    """The public page of ``jurisdiction`` for ``metric``, counts from 1 to ``threshold``
    hidden. ``year`` chooses the whole year of the breakdowns (default: the latest whose
    total is shown); a year outside the coverage raises ``NotPublishedError``."""
    places = jurisdiction.descendant_ids()
    covering = _coverage(metric, jurisdiction, places)
    made_at = dt.datetime.now(dt.UTC)
    sources = sorted(_(source_title(c.source)) for c in covering)
    label = _(metric.label)
    base = PublicPage(
        jurisdiction=jurisdiction.name,
        slug=jurisdiction.slug,
        metric=metric,
        threshold=threshold,
        coverage="",
        published_from=None,
        published_through=None,
        last_imported=None,
        sources=sources,
        made_at=made_at,
        places=places,
        perturbed_within=deployment_policy().noise.cap,
    )
    if not covering:
        if year is not None:
            raise NotPublishedError(
                _("No data on %(metric)s here to publish for %(year)s.")
                % {"metric": label.lower(), "year": year}
            )
        return _replace(
            base, no_data=_("No incident data on %(metric)s yet.") % {"metric": label.lower()}
        )
    first = min(c.first for c in covering)
    last = max(c.last for c in covering)
    last_imported = ImportRun.objects.filter(
        source__in=[c.source for c in covering],
        status__in=(ImportRun.Status.SUCCEEDED, ImportRun.Status.PARTIAL),
    ).aggregate(at=Max("finished_at"))["at"]
    coverage = _("Incident records from %(first)s to %(last)s (%(freshness)s)") % {
        "first": long_date(first),
        "last": long_date(last),
        "freshness": coverage_phrase(last, today, lang=language()),
    }
    months = whole_months(first, last)
    base = _replace(base, coverage=coverage, last_imported=last_imported)
    if months is None:
        if year is not None:
            raise NotPublishedError(
                _("%(year)s is outside the data's coverage (%(coverage)s).")
                % {"year": year, "coverage": coverage}
            )
        return _replace(base, no_data=_("The data do not yet cover a whole month."))
    start, end = months
    base = _replace(base, published_from=start, published_through=end)
    selected = Incident.objects.filter(
        metric_filter(metric),
        jurisdiction_id__in=places,
        source__in=[c.source for c in covering],
        occurred_on__gte=start,
        occurred_on__lte=end,
    )
    policy = deployment_policy()
    records = _records(selected, metric)

    # The table of months: every month's figure perturbed by the cell-key method (the same
    # figures a partner reads on the overview), consistent within whole years.
    years = list(range(start.year, end.year + 1))
    grid = np.zeros((len(years), 12))
    n_months = len(months_between(start, end))
    month_counts, figures = policy.monthly(
        "incident", records.pk, records.day, start, n_months, weights=records.weight
    )
    year_totals: dict[int, tuple[int, int]] = {}  # year: (count, figure) of its records
    for k, first_day in enumerate(months_between(start, end)):
        grid[first_day.year - start.year, first_day.month - 1] = figures[0, k]
        count, figure = year_totals.get(first_day.year, (0, 0))
        year_totals[first_day.year] = (count + month_counts[0, k], figure + figures[0, k])
    gaps = coverage_gaps(covering, first, last)
    for r, y in enumerate(years):
        for m in range(1, 13):
            day = dt.date(y, m, 1)
            month_end = dt.date(y, m, calendar.monthrange(y, m)[1])
            unreported = any(a <= month_end and day <= b for a, b in gaps)
            if day < start or day > end or unreported:
                # Outside the coverage, or a month an agency did not report: no data, never 0.
                grid[r, m - 1] = np.nan
    months_table = suppress_table(grid, threshold)
    row_labels = []
    for y in years:
        lo = max(start, dt.date(y, 1, 1))
        hi = min(end, dt.date(y, 12, 31))
        whole = lo == dt.date(y, 1, 1) and hi == dt.date(y, 12, 31)
        row_labels.append(str(y) if whole else f"{y} ({_month_span(lo, hi)})")
    span = f"{years[0]}–{years[-1]}" if len(years) > 1 else str(years[0])
    rows = [
        (label, [cell_of(months_table, r, j) for j in range(13)])
        for r, label in enumerate(row_labels)
    ]
    rows.append(
        (
            _("All years (%(span)s)") % {"span": span},
            [cell_of(months_table, len(years), j) for j in range(13)],
        )
    )
    tables = [
        Table(
            "months",
            _("%(metric)s by month") % {"metric": label},
            _("Year"),
            [*month_names(), _(TOTAL)],
            rows,
            _("Each year's total is its annual count (the last year's, its count so far)."),
        )
    ]

    # Year to date against the same months of last year.
    ytd_table, sentence = _year_to_date(label, months_table, years, start, end, threshold)
    if ytd_table is not None:
        tables.append(ytd_table)

    # Rates per 100,000 for whole years with a population.
    populations = dict(
        Population.objects.filter(jurisdiction=jurisdiction).values_list("year", "population")
    )
    rate_rows = []
    for r, y in enumerate(years):
        if row_labels[r] != str(y) or not populations.get(y):
            continue
        counted_cell = cell_of(months_table, r, 12)
        people = Cell(count_label(populations[y]), populations[y])
        if counted_cell.value is None:
            rate = Cell(_("suppressed"), None, "suppressed")
        else:
            per = 100_000 * counted_cell.value / populations[y]
            rate = Cell(localize_number(f"{per:,.1f}", language()), None, "shown")
        rate_rows.append((str(y), [counted_cell, people, rate]))
    if rate_rows:
        tables.append(
            Table(
                "rates",
                _("%(metric)s per 100,000 residents") % {"metric": label},
                _("Year"),
                [_("Count"), _("Population"), _("Per 100,000")],
                rate_rows,
                _(
                    "Whole years with a population loaded; a rate of a suppressed count is "
                    "not shown."
                ),
            )
        )

    # Breakdowns of one whole year whose total is shown.
    whole_years = [y for r, y in enumerate(years) if row_labels[r] == str(y)]
    shown_years = [
        y for y in whole_years if cell_of(months_table, years.index(y), 12).value is not None
    ]
    if year is not None and year not in whole_years:
        raise NotPublishedError(
            _(
                "%(year)s is not a whole year inside the data's coverage; the page publishes "
                "%(years)s (data from %(first)s to %(last)s)."
            )
            % {
                "year": year,
                "years": ", ".join(map(str, whole_years)) or _("no whole year yet"),
                "first": long_date(start),
                "last": long_date(end),
            }
        )
    chosen = year if year is not None else (shown_years[-1] if shown_years else None)
    page = _replace(
        base,
        tables=tables,
        ytd_sentence=sentence,
        breakdown_years=whole_years,
        breakdown_year=chosen,
    )
    if chosen is None:
        return _replace(
            page,
            breakdown_note=_(
                "No whole year's total can be shown yet, so no breakdown is published."
            ),
        )
    total = cell_of(months_table, years.index(chosen), 12)
    if total.value is None:
        return _replace(
            page,
            breakdown_note=(
                _("The breakdowns of %(year)s are not published: its total is suppressed.")
                % {"year": chosen}
            ),
        )
    in_year = selected.filter(occurred_on__year=chosen)
    # A breakdown adds up to the year's figure when it can (``Policy.parts``): only when
    # the year's figure is its records' own (no month of it left out as "no data").
    year_total = tuple(int(n) for n in year_totals[chosen])
    parts_of = year_total if year_total[1] == total.value else None
    breakdowns = _victims(in_year, metric, total.value, parts_of, threshold, chosen, policy)
    areas, areas_shown = _areas(
        records, places, total.value, parts_of, threshold, label, chosen, policy
    )
    if areas is not None:
        breakdowns.insert(0, areas)
    return _replace(page, tables=tables + breakdowns, areas_shown=areas_shown)


def _replace(page: PublicPage, **changes) -> PublicPage:
    from dataclasses import replace

    return replace(page, **changes)


def _year_to_date(label, months_table, years, start, end, threshold):
    """The running year's count so far against the same months last year; when the last
    published month is December, the last whole year against the one before."""
    r = len(years) - 1
    now = cell_of(months_table, r, 12)
    if r == 0:
        return None, ""
    if end.month == 12:
        if np.isnan(months_table.values[r - 1, :-1]).any():
            return None, ""  # the year before is not whole
        before = cell_of(months_table, r - 1, 12)
        labels = (str(years[r - 1]), str(years[r]))
    else:
        mask = np.zeros((len(years), 12), dtype=bool)
        mask[r - 1, : end.month] = True
        inner = months_table.values[:-1, :-1]
        if np.isnan(inner[mask]).any():
            return None, ""  # last year's same months are not all covered
        value = int(inner[mask].sum())
        if months_table.suppressed[:-1, :-1][mask].any():
            # A new relation among hidden cells: published only if the audit finds no hidden
            # cell solvable with it.
            fewer = 1 <= value <= threshold
            extra = ExtraFigure(mask, 1, threshold) if fewer else ExtraFigure(mask, value, value)
            if disclosed(months_table, [extra]):
                before = Cell(_("suppressed"), None, "suppressed")
            elif fewer:
                before = Cell(fewer_than(threshold), None, "fewer")
            else:
                before = Cell(count_label(value), value)
        elif 1 <= value <= threshold:
            before = Cell(fewer_than(threshold), None, "fewer")
        else:
            before = Cell(count_label(value), value)
        span = _month_span(dt.date(end.year, 1, 1), end)
        labels = (f"{span} {years[r - 1]}", f"{span} {years[r]}")
    table = Table(
        "year_to_date",
        _("Year to date against last year")
        if end.month != 12
        else _("Last year against the one before"),
        _("Period"),
        [_("Count")],
        [(labels[1], [now]), (labels[0], [before])],
    )
    if now.value is None or before.value is None:
        sentence = _(
            "%(metric)s: no change is published for %(now)s against %(before)s, because a "
            "count it needs is suppressed (small counts, and counts that would reveal them, "
            "are not published)."
        ) % {"metric": label, "now": labels[1], "before": labels[0]}
    else:
        # The sentence is generated in the reader's language from the figures themselves.
        sentence = change_sentence(
            label,
            compare_counts(before.value, now.value),
            labels[0],
            labels[1],
            lang=language(),
        )
    return table, sentence


def _areas(records, places, total, parts_of, threshold, label, year, policy):
    from gvrs.incidents.models import Area

    names = dict(
        Area.objects.filter(jurisdiction_id__in=places).order_by().values_list("pk", "name")[:1000]
    )
    if not names:
        return None, []  # a place without areas has no table of them
    labels = sorted(set(names.values()))
    index = {name: k for k, name in enumerate(labels)}
    inside = records.year == year
    # Records with no area (or one of another place) are a part of their own, keyed by
    # their records: the last group.
    groups = [
        index[names[int(a)]] if int(a) in names else len(labels) for a in records.area[inside]
    ]
    ids, weights = records.pk[inside], records.weight[inside]
    n = len(labels) + 1
    found = None
    if parts_of is not None:
        found = policy.parts("incident", ids, groups, n, parts_of, weights)
    if found is None:
        # The areas' own figures (the overview's), "area not recorded" a part like them, and
        # the table's own total.
        _counts, shown = policy.grouped(
            PUBLIC, Records.INCIDENTS, "incident", ids, groups, n, weights=weights
        )
        counts = {name: int(shown[k]) for k, name in enumerate(labels)}
        counts["area not recorded"] = int(shown[-1])
        total = None
    else:
        # Fitted to the year's figure: records with no area are the rest.
        counts = {name: int(found[1][k]) for k, name in enumerate(labels)}
    table = _one_way(
        "areas",
        _("%(metric)s by area, %(year)s") % {"metric": label, "year": year},
        _("Area"),
        counts,
        total,
        threshold,
        str(year),
        _("Counts per area, never locations."),
        gettext_noop("area not recorded"),
    )
    shown = [(name, cells[0]) for name, cells in table.rows[:-1]]
    return table, shown


def _victims(in_year, metric, total, parts_of, threshold, year, policy) -> list[Table]:
    people = PersonInvolved.objects.filter(
        _persons_filter(metric), role=PersonInvolved.Role.VICTIM, incident__in=in_year
    )
    rows = list(
        people.order_by().values_list(
            "pk",
            "incident_id",
            "incident__source",
            "age",
            "age_group",
            "sex",
            "race_ethnicity",
            "ethnicity",
        )
    )
    # Each victim's value in each table. Every age group is listed, a group with no victims
    # as 0; ethnicity where a source records it apart from race (NIBRS) is its own table.
    values: dict[str, list[str]] = {"age": [], "sex": [], "race": [], "ethnicity": []}
    for _pk, _incident, source, age, group, sex, race, ethnicity in rows:
        values["ethnicity"].append(ethnicity or NOT_RECORDED)
        values["age"].append(_age_group(age, group or ""))
        s = (sex or "").replace("_", " ") or NOT_RECORDED
        values["sex"].append(NOT_RECORDED if s == "unknown" else s)
        values["race"].append(code_label(source, "victim_race", race) if race else NOT_RECORDED)
    # A metric of people counts each victim once (its record key, as the overview's Victims
    # panel); a metric of incidents counts each incident once per value of its victims.
    by_people = metric.unit == "people"
    fitted: dict[str, bool] = {}

    def figures(key: str, listed: tuple[str, ...] = ()) -> dict[str, int]:
        labels = sorted(set(values[key]) | set(listed))
        index = {label: k for k, label in enumerate(labels)}
        if by_people:
            pairs = [(row[0], index[v]) for row, v in zip(rows, values[key], strict=True)]
            kind = "person"
        else:
            pairs = sorted({(row[1], index[v]) for row, v in zip(rows, values[key], strict=True)})
            kind = "incident"
        ids = [pk for pk, _ in pairs]
        groups = [g for _, g in pairs]
        # People add up to the year's figure when they can (the rest: "no person record");
        # otherwise, and for incidents counted once per value of their victims, the figures
        # of the overview's Victims panel and the table's own total.
        found = None
        if by_people and parts_of is not None:
            found = policy.parts(kind, ids, groups, len(labels), parts_of)
        if found is None:
            fitted[key] = False
            _counts, shown = policy.grouped(
                PUBLIC, Records.INCIDENTS, kind, ids, groups, len(labels)
            )
        else:
            fitted[key] = True
            shown = found[1]
        return {label: int(shown[k]) for k, label in enumerate(labels)}

    by_age = figures("age", tuple(label for _, _, label in AGE_GROUPS))
    by_sex = figures("sex")
    by_race = figures("race")
    by_ethnicity = figures("ethnicity")

    def expected(key: str) -> int | None:
        return total if fitted[key] else None

    unit = _("People") if by_people else _("Incidents")
    rest = gettext_noop("no person record")
    note = _("As recorded by the police; a victim counts once.")
    if not by_people:
        note = _(
            "As recorded by the police; an incident with victims of several values counts "
            "under each."
        )
    ethnicity = []
    if set(by_ethnicity) - {NOT_RECORDED}:
        ethnicity.append(
            _one_way(
                "ethnicity",
                _("Victims by ethnicity, %(year)s") % {"year": year},
                _("Ethnicity"),
                by_ethnicity,
                expected("ethnicity"),
                threshold,
                unit,
                note + " " + _("Recorded apart from race where the source does (NIBRS)."),
                rest,
            )
        )
    return [
        _one_way(
            "age_group",
            _("Victims by age group, %(year)s") % {"year": year},
            _("Age group"),
            by_age,
            expected("age"),
            threshold,
            unit,
            note,
            rest,
        ),
        _one_way(
            "sex",
            _("Victims by sex, %(year)s") % {"year": year},
            _("Sex"),
            by_sex,
            expected("sex"),
            threshold,
            unit,
            note,
            rest,
        ),
        _one_way(
            "race",
            _("Victims by race or ethnicity, %(year)s") % {"year": year},
            _("Race or ethnicity"),
            by_race,
            expected("race"),
            threshold,
            unit,
            note,
            rest,
        ),
        *ethnicity,
    ]


@dataclass(frozen=True)
class _Records:
    """The incidents a page counts, one entry each: identity, day, year, area, weight (how
    many the metric counts in it)."""

    pk: np.ndarray
    day: np.ndarray  # datetime64[D]
    year: np.ndarray
    area: np.ndarray  # the area's pk, -1 when none
    weight: np.ndarray


def _records(selected, metric: Metric) -> _Records:
    """One query for every incident the page counts (those counting for at least one)."""
    if metric.count in RECORD_WEIGHT:
        weighted = selected.annotate(weight=RECORD_WEIGHT[metric.count])
    else:
        weighted = selected.annotate(weight=count_expression(metric))
    rows = list(
        weighted.filter(weight__gt=0)
        .values_list("pk", "occurred_on", "area_id", "weight")
        .order_by()
    )
    frame = pd.DataFrame(rows, columns=["pk", "day", "area", "weight"])
    day = pd.to_datetime(frame["day"]).to_numpy(dtype="datetime64[D]")
    return _Records(
        pk=frame["pk"].to_numpy(dtype=np.int64),
        day=day,
        year=day.astype("datetime64[Y]").astype(np.int64) + 1970,
        area=frame["area"].fillna(-1).to_numpy(dtype=np.int64),
        weight=frame["weight"].to_numpy(dtype=np.int64),
    )
