"""``gvrs coverage [--jurisdiction J] [--format table|json]``: what each source's data cover,
and where they do not: strays, probable gaps (implausibly low months), dates after the
import, and years a published source leaves out."""

from __future__ import annotations

import json

import pandas as pd
from django.core.management.base import BaseCommand
from django.db.models import Count, F

from gvrs.analysis.counts import gap_label
from gvrs.analysis.coverage import coverage_phrase, find_low_months, find_strays
from gvrs.cliutil import write_frame
from gvrs.incidents.coverage import reported_months_coverage, source_coverage
from gvrs.incidents.lookup import find_jurisdiction
from gvrs.incidents.models import Incident, PublishedCount, ReportedMonth


class Command(BaseCommand):
    help = "Each source's coverage, with its strays, probable gaps and future dates."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--jurisdiction", help="name or slug (default: every place)")
        parser.add_argument("--format", choices=("table", "json"), default="table")

    def handle(self, *args, **options) -> None:
        jurisdiction = None
        incidents = Incident.objects.all()
        published = PublishedCount.objects.all()
        if options["jurisdiction"]:
            jurisdiction = find_jurisdiction(options["jurisdiction"])
            ids = jurisdiction.descendant_ids()
            incidents = incidents.filter(jurisdiction_id__in=ids)
            published = published.filter(jurisdiction_id__in=ids)
        place = jurisdiction.name if jurisdiction else "all places"
        self.place_ids = jurisdiction.descendant_ids() if jurisdiction else None
        records = [
            *self._incident_sources(incidents, place),
            *self._published_sources(published, place),
        ]
        if options["format"] == "json":
            self.stdout.write(json.dumps(records, indent=2, default=str))
            return
        if not records:
            self.stdout.write(f"no data for {place}")
            return
        table = pd.DataFrame(
            [
                {
                    "source": r["source"],
                    "place": r["jurisdiction"],
                    "covers": f"{r['covers_from']} to {r['covers_through']}",
                    "basis": r["basis"],
                    "records": r["records"],
                    "warnings": len(r["warnings"]),
                }
                for r in records
            ]
        )
        write_frame(table, "table", self.stdout, title=f"Coverage, {place}")
        for r in records:
            for warning in r["warnings"]:
                self.stdout.write(f"{r['source']}: warning: {warning}")

    def _incident_sources(self, incidents, place: str) -> list[dict]:
        sources = list(incidents.order_by().values_list("source", flat=True).distinct())
        coverage = source_coverage(sources)
        rows = pd.DataFrame(
            list(
                incidents.values("source", "occurred_on")
                .annotate(n=Count("id"))
                .order_by()
                .values_list("source", "occurred_on", "n")
            ),
            columns=["source", "day", "n"],
        )
        late = dict(
            incidents.filter(
                import_run__isnull=False, occurred_on__gt=F("import_run__started_at__date")
            )
            .values("source")
            .annotate(n=Count("id"))
            .values_list("source", "n")
        )
        out = []
        for source in sorted(sources):
            c = coverage[source]
            not_reported = []
            if ReportedMonth.objects.filter(source=source).exists():
                # Coverage per agency (NIBRS): the months every agency here reported.
                ids = self.place_ids or list(
                    ReportedMonth.objects.filter(source=source)
                    .values_list("jurisdiction_id", flat=True)
                    .distinct()
                )
                narrowed = reported_months_coverage(c, ids)
                if narrowed is not None:
                    c = narrowed
                    not_reported = [
                        gap_label(a, b)
                        for a, b in c.gaps
                        if not (a.year == b.year and a.year in c.thin_years)
                    ]
            days = rows.loc[rows["source"] == source].set_index("day")["n"]
            days.index = pd.to_datetime(days.index)
            strays, _, _ = find_strays(days)
            low = find_low_months(days, c.first, c.last) if len(days) else []
            inside = days[
                (days.index >= pd.Timestamp(c.first)) & (days.index <= pd.Timestamp(c.last))
            ]
            outside = int(days.sum() - inside.sum())
            warnings = [s.describe() for s in strays] + [m.describe() for m in low]
            if outside:
                warnings.append(
                    f"{outside:,} incident{'s' if outside != 1 else ''} outside the coverage, "
                    "left out of figures"
                )
            if late.get(source):
                warnings.append(f"{late[source]:,} incidents dated after their import")
            if c.thin_years:
                warnings.append(
                    "not covered: "
                    + ", ".join(map(str, c.thin_years))
                    + " (too few records against the years beside it: no figure, test or "
                    "headline uses it; docs/importing.md)"
                )
            if not c.recorded:
                warnings.append("coverage not recorded by an import: taken from the incidents")
            if not_reported:
                warnings.append(
                    "no data for " + ", ".join(not_reported) + " (months an agency did not "
                    "report: no data, never 0)"
                )
            out.append(
                {
                    "source": source,
                    "type": "incidents",
                    "jurisdiction": place,
                    "covers_from": c.first.isoformat(),
                    "covers_through": c.last.isoformat(),
                    "coverage": coverage_phrase(c.last),
                    "basis": "recorded" if c.recorded else "incidents",
                    "kinds": sorted(c.kinds),
                    "records": int(inside.sum()),
                    "records_outside": outside,
                    "strays": [s.describe() for s in strays],
                    "probable_gaps": [m.month for m in low],
                    "not_reported": not_reported,
                    "thin_years": list(c.thin_years),
                    "dated_after_import": int(late.get(source, 0)),
                    "warnings": warnings,
                }
            )
        return out

    def _published_sources(self, published, place: str) -> list[dict]:
        rows = pd.DataFrame(
            list(
                published.values_list(
                    "source", "metric", "jurisdiction__name", "period_start", "period_end"
                )
            ),
            columns=["source", "metric", "place", "start", "end"],
        )
        out = []
        for source, group in rows.groupby("source"):
            years = pd.to_datetime(group["start"]).dt.year
            first, last = int(years.min()), int(years.max())
            starts, ends = pd.to_datetime(group["start"]), pd.to_datetime(group["end"])
            # A year-to-date or other part-year figure is part-year, never "published years".
            whole = bool(
                ((starts.dt.month == 1) & (starts.dt.day == 1))
                .mul((ends.dt.month == 12) & (ends.dt.day == 31))
                .all()
            )
            warnings = []
            for (metric, name), figures in group.groupby(["metric", "place"]):
                have = set(pd.to_datetime(figures["start"]).dt.year)
                missing = [y for y in range(first, last + 1) if y not in have]
                if missing and len(group["place"].unique()) <= 20:
                    shown = ", ".join(map(str, missing[:10])) + ("…" if len(missing) > 10 else "")
                    warnings.append(f"{name}: no {metric} figure for {shown} (no data, not 0)")
            out.append(
                {
                    "source": source,
                    "type": "published counts",
                    "jurisdiction": place,
                    "covers_from": f"{first}-01-01" if whole else starts.min().date().isoformat(),
                    "covers_through": f"{last}-12-31" if whole else ends.max().date().isoformat(),
                    "coverage": (
                        f"data for {first}–{last}"
                        if whole
                        else f"part-year figures, {starts.min():%-d %b %Y} to "
                        f"{ends.max():%-d %b %Y}"
                    ),
                    "basis": "published years" if whole else "published part-years",
                    "kinds": sorted(group["metric"].unique()),
                    "records": len(group),
                    "records_outside": 0,
                    "strays": [],
                    "probable_gaps": [],
                    "not_reported": [],
                    "thin_years": [],
                    "dated_after_import": 0,
                    "warnings": warnings,
                }
            )
        return out
