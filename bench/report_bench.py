"""How long the council report takes: computing the document, and laying it out as PDF and
HTML, on the simulated Kern-like county (incidents, areas, populations) in a fresh SQLite
registry. No target is set (issue 15); the figures say whether the report can stay inside a
web request.

    python bench/report_bench.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="gvrs-report-bench-"))
    os.environ["GVRS_HOME"] = str(home)
    os.environ.pop("GVRS_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from gvrs.council import render
    from gvrs.council.build import ReportRequest, build_report
    from gvrs.data.mapping import load_format
    from gvrs.data.simulate import simulate
    from gvrs.data.simulate.output import write_city
    from gvrs.incidents.importing import import_file
    from gvrs.incidents.models import Jurisdiction
    from gvrs.operations.database import ensure_database

    ensure_database(verbosity=0)
    city = simulate("bakersfield-like", years=(2015, 2025), seed=1)
    paths = write_city(city, home / "sim")
    import_file(paths["incidents.csv"], load_format("gvrs"), state="CA")
    call_command("populations", str(paths["populations.csv"]), state="CA", stdout=io.StringIO())
    call_command(
        "boundaries",
        str(paths["neighborhoods.geojson"]),
        jurisdiction_field="town",
        parent=city.scenario.county,
        state="CA",
        stdout=io.StringIO(),
    )
    place = Jurisdiction.objects.named(city.scenario.county)
    request = ReportRequest(jurisdiction=place, period="2024", baseline=2019)
    timings: dict[str, list[float]] = {"build": [], "pdf": [], "html": []}
    for _ in range(args.repeat):
        started = time.perf_counter()
        report = build_report(request)
        timings["build"].append(time.perf_counter() - started)
        started = time.perf_counter()
        pdf = render.pdf(report)
        timings["pdf"].append(time.perf_counter() - started)
        started = time.perf_counter()
        render.html(report)
        timings["html"].append(time.perf_counter() - started)
    pages = len(render.page_images(report, ppi=20))
    print(f"{place.name}, 2024 against 2023 and 2019: {pages} pages, {len(pdf):,} bytes of PDF")
    for step, values in timings.items():
        print(f"  {step:5s} median {statistics.median(values):.2f} s over {args.repeat} runs")


if __name__ == "__main__":
    main()
