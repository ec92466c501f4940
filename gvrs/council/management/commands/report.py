"""``gvrs report``: the report to the city council, as PDF, HTML or JSON."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from gvrs.analysis.workload import WorkloadError
from gvrs.cliutil import parse_date
from gvrs.council import render
from gvrs.council.build import ReportError, ReportRequest, build_report
from gvrs.council.config import read_workload
from gvrs.evaluation.runs import METHODS
from gvrs.incidents.lookup import find_jurisdiction

OUTPUTS = (".pdf", ".html", ".htm", ".json")


class Command(BaseCommand):
    help = "Write the report to the city council (PDF, HTML or JSON, by the --out extension)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--jurisdiction", required=True, help="name, slug or path")
        parser.add_argument("--period", required=True, help="e.g. 2022, 2024-YTD, 2022-Q3")
        parser.add_argument("--vs", help="the period to compare against (default: the one before)")
        parser.add_argument(
            "--baseline", type=int, help="baseline year (default: the place's baseline year)"
        )
        parser.add_argument("--out", required=True, help="report.pdf, report.html or report.json")
        parser.add_argument(
            "--workload",
            help="TOML file of officers and hours per shooting and a cited cost table "
            "(default: $GVRS_HOME/workload.toml, else Fresno's chief: 5-12 officers, 1-3 hours)",
        )
        parser.add_argument(
            "--strategy-start",
            type=parse_date,
            help="the strategy's start date: the report runs and cites an evaluation",
        )
        parser.add_argument("--method", choices=METHODS, default="its", help="evaluation design")
        parser.add_argument(
            "--pages", help="also write each PDF page as a PNG into this folder (to look at)"
        )

    def handle(self, *args, **options) -> None:
        out = Path(options["out"])
        if out.suffix.lower() not in OUTPUTS:
            raise CommandError(
                f"--out {out}: write .pdf, .html or .json (the extension chooses)", returncode=2
            )
        if options["baseline"] is not None and not 1900 <= options["baseline"] <= 2100:
            raise CommandError("--baseline is a year, e.g. 2019", returncode=2)
        jurisdiction = find_jurisdiction(options["jurisdiction"])
        try:
            workload = read_workload(options["workload"])
        except WorkloadError as exc:
            raise CommandError(str(exc), returncode=2) from None
        request = ReportRequest(
            jurisdiction=jurisdiction,
            period=options["period"],
            vs=options["vs"],
            baseline=options["baseline"],
            workload=workload.assumptions,
            costs=workload.costs,
            strategy_start=options["strategy_start"],
            evaluation_method=options["method"],
        )
        try:
            report = build_report(request)
        except ReportError as exc:
            raise CommandError(str(exc), returncode=1) from None
        out.parent.mkdir(parents=True, exist_ok=True)
        render.write(report, out)
        self.stdout.write(f"Wrote {out} ({out.stat().st_size:,} bytes): {report.title}")
        self.stdout.write(f"  data {report.last_imported}; coverage: {report.coverage}")
        if options["pages"]:
            folder = Path(options["pages"])
            folder.mkdir(parents=True, exist_ok=True)
            for number, png in enumerate(render.page_images(report), start=1):
                (folder / f"page-{number:02d}.png").write_bytes(png)
            self.stdout.write(f"  pages as PNG in {folder}")
