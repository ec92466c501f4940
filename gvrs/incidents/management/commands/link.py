"""``gvrs link --source A --source B [--jurisdiction P]``: which incidents of two sources are
the same shooting (``gvrs.analysis.linkage``), and how much each holds that the other does
not, year by year, over the period both cover."""

from __future__ import annotations

import pandas as pd
from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.linkage import (
    DATE_WINDOW_DAYS,
    PEOPLE_TOLERANCE,
    RADIUS_M,
    WINDOW_MINUTES,
    link_incidents,
)
from gvrs.cliutil import OUTPUT_FORMATS, write_frame
from gvrs.data import csvsafe
from gvrs.incidents.coverage import source_coverage
from gvrs.incidents.frames import linkage_frame
from gvrs.incidents.lookup import find_jurisdiction


class Command(BaseCommand):
    help = "Link the incidents of two sources that are the same shooting; report what each lacks."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--source", action="append", default=[], help="give it twice")
        parser.add_argument("--jurisdiction", help="only this place (and the places inside it)")
        parser.add_argument("--window-minutes", type=float, default=WINDOW_MINUTES)
        parser.add_argument("--date-window-days", type=int, default=DATE_WINDOW_DAYS)
        parser.add_argument("--radius-m", type=float, default=RADIUS_M)
        parser.add_argument("--people-tolerance", type=int, default=PEOPLE_TOLERANCE)
        parser.add_argument("--pairs", help="write the linked pairs to this CSV file")
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table")

    def handle(self, *args, **options) -> None:
        sources = options["source"]
        if len(sources) != 2 or sources[0] == sources[1]:
            raise CommandError("give --source twice, naming two incident sources", returncode=2)
        coverage = source_coverage(sources)
        missing = [s for s in sources if s not in coverage]
        if missing:
            raise CommandError(f"no incident source named {missing[0]!r}", returncode=2)
        a, b = (coverage[s] for s in sources)
        first, last = max(a.first, b.first), min(a.last, b.last)
        if first > last:
            raise CommandError(
                f"{a.source} ({a.first}..{a.last}) and {b.source} ({b.first}..{b.last}) "
                "cover no period in common",
                returncode=1,
            )
        place = find_jurisdiction(options["jurisdiction"]) if options["jurisdiction"] else None
        ids = place.descendant_ids() if place is not None else None
        left, right = (linkage_frame(s, ids, first, last) for s in sources)
        linkage = link_incidents(
            left,
            right,
            window_minutes=options["window_minutes"],
            date_window_days=options["date_window_days"],
            radius_m=options["radius_m"],
            people_tolerance=options["people_tolerance"],
        )
        if options["pairs"]:
            pairs = pd.DataFrame(
                {
                    f"source_id_{a.source}": left["source_id"].to_numpy()[linkage.pairs[:, 0]],
                    f"source_id_{b.source}": right["source_id"].to_numpy()[linkage.pairs[:, 1]],
                }
            )
            # Through the one CSV writer: a source's ids are its own text (quoted, inert).
            with open(options["pairs"], "w", newline="", encoding="utf-8") as fh:
                csvsafe.write_frame(pairs, fh)
        records = _report(left, right, linkage, a.source, b.source, first, last)
        if options["format"] != "table":
            write_frame(pd.DataFrame(records), options["format"], self.stdout)
            return
        frame = pd.DataFrame(records)
        for column in ("matched_share_a", "matched_share_b"):
            frame[column] = frame[column].map(lambda v: "" if pd.isna(v) else f"{v:.0%}")
        write_frame(
            frame[["year", "matched", "only_a", "only_b", "matched_share_a", "matched_share_b"]],
            "table",
            self.stdout,
            title=f"{a.source} (a) and {b.source} (b), {first} to {last}"
            + (f", {place.path}" if place else ""),
        )
        self.stdout.write(
            f"Linked one to one: same place, within {options['date_window_days']} day(s), "
            f"{options['window_minutes']:g} minutes where both times are known, "
            f"{options['radius_m']:g} m where both points are, and at most "
            f"{options['people_tolerance']} person killed or injured apart (docs/importing.md)."
        )


def _report(left, right, linkage, source_a, source_b, first, last) -> list[dict]:
    matched_year = left["year"].to_numpy()[linkage.pairs[:, 0]]
    only_a = left["year"].to_numpy()[linkage.only_a]
    only_b = right["year"].to_numpy()[linkage.only_b]
    records = []
    for year in [*range(first.year, last.year + 1), "all"]:
        if year == "all":
            m, oa, ob = len(matched_year), len(only_a), len(only_b)
        else:
            m = int((matched_year == year).sum())
            oa, ob = int((only_a == year).sum()), int((only_b == year).sum())
        records.append(
            {
                "source_a": source_a,
                "source_b": source_b,
                "year": str(year),
                "matched": m,
                "only_a": oa,
                "only_b": ob,
                "matched_share_a": m / (m + oa) if m + oa else None,
                "matched_share_b": m / (m + ob) if m + ob else None,
                "data_from": first.isoformat(),
                "data_through": last.isoformat(),
            }
        )
    return records
