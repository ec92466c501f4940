"""The report to the council, from the bundled California DOJ data as ``gvrs demo`` loads it:
Bakersfield's 2022 against 2021, read back from the PDF it writes, and the same document as
HTML and on the Reports page."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from gvrs.analysis.narrative import BEFORE_AFTER_CAVEAT
from gvrs.council import render
from gvrs.council.build import ReportRequest, build_report
from gvrs.data import bundled_path
from gvrs.data.mapping import load_format
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Jurisdiction, Population

pytestmark = pytest.mark.django_db

SOURCE = "California DOJ OpenJustice, Crimes and Clearances (including Arson)"


@pytest.fixture
def kern(tmp_path):
    """The bundled CA DOJ file's Kern County agencies (Bakersfield among them), imported as
    ``gvrs demo`` imports the whole file: with the ca-doj format, through the importer."""
    doj = pd.read_csv(bundled_path("ca-doj"), dtype=str, keep_default_na=False)
    doj[doj["County"] == "Kern County"].to_csv(tmp_path / "kern.csv", index=False)
    report = import_file(tmp_path / "kern.csv", load_format("ca-doj"), initiated_by="test")
    assert report.ok, report.errors
    return Jurisdiction.objects.get(name="Bakersfield", state="CA")


def _text(pdf_path) -> tuple[list[str], str]:
    """Each page's text, and all of it with line breaks and runs of spaces made one space."""
    pages = [page.extract_text() for page in PdfReader(pdf_path).pages]
    return pages, " ".join(" ".join(pages).split())


def _write(tmp_path, name: str, *args: str) -> str:
    out = io.StringIO()
    call_command("report", *args, "--out", str(tmp_path / name), stdout=out)
    return out.getvalue()


def test_bakersfield_2022_against_2021_reads_back_from_the_pdf(kern, tmp_path):
    said = _write(
        tmp_path,
        "bakersfield.pdf",
        "--jurisdiction",
        "Bakersfield",
        "--period",
        "2022",
        "--vs",
        "2021",
        "--pages",
        str(tmp_path / "pages"),
    )
    assert said.startswith(f"Wrote {tmp_path / 'bakersfield.pdf'}")
    pages, text = _text(tmp_path / "bakersfield.pdf")
    # The headline, with the counts behind it and the exact test.
    assert "Homicides fell 37%, from 60 in 2021 to 38 in 2022 (exact test p = 0.033)." in text
    assert "60 in 2021 −37% (60 → 38) p = 0.033" in text  # the headline table's row
    assert "38 (26.9–52.2)" in text  # the count with its exact 95% interval
    # The place in history: the record year, as far back as the source goes.
    assert "The record for homicides is 60, in 2021, across the 38 years of data (1985–2022)." in (
        text
    )
    assert re.search(r"38 homicides in 2022: the lowest since \d{4}", text)
    # Sources, definition and coverage, and when the data were imported.
    assert f"Source: {SOURCE}. Criminal homicides (murder and non-negligent manslaughter)" in text
    assert "Coverage: data for 1985–2022." in text
    assert re.search(r"last imported \d{1,2} \w{3} \d{4}, \d\d:\d\d UTC", text)
    # Before/after is not evidence of an effect, and the report points to the evaluation.
    assert BEFORE_AFTER_CAVEAT in text
    assert "the command gvrs evaluate, or the Evaluation page, runs one" in text
    # What a published annual total cannot give says so instead of showing nothing or zero.
    assert "No count of shooting incidents is held for Bakersfield" in text
    assert "No population of Bakersfield is loaded for 2022" in text
    # The methods page starts a page of its own.
    assert pages[-1].split("\n", 2)[1].startswith("Methods") or "\nMethods\n" in pages[-1]
    assert "exact conditional test (Przyborowski & Wilenski 1940)" in text
    # Each page as a PNG too, to look at.
    pngs = sorted((tmp_path / "pages").glob("page-*.png"))
    assert [p.name for p in pngs] == [f"page-{n:02d}.png" for n in range(1, len(pages) + 1)]


def test_the_json_output_holds_the_headline_numbers(kern, tmp_path):
    import json

    _write(tmp_path, "b.json", "--jurisdiction", "Bakersfield", "--period", "2022")
    facts = json.loads((tmp_path / "b.json").read_text())["facts"]
    homicides = facts["headline"][0]
    assert (homicides["metric"], homicides["count"]) == ("homicides", 38)
    (change,) = homicides["changes"]
    assert (change["vs"], change["vs_count"], round(change["change_pct"], 1)) == ("2021", 60, -36.7)
    assert round(change["p_value"], 4) == 0.0334
    assert homicides["coverage"] == "data for 1985–2022"


def test_the_pdf_pages_render_as_images(kern):
    report = build_report(ReportRequest(jurisdiction=kern, period="2022", vs="2021"))
    images = render.page_images(report, ppi=40)
    assert len(images) == len(PdfReader(io.BytesIO(render.pdf(report))).pages) >= 2
    assert all(image.startswith(b"\x89PNG\r\n\x1a\n") for image in images)


def test_html_says_what_the_pdf_says(kern, tmp_path):
    _write(tmp_path, "b.html", "--jurisdiction", "Bakersfield", "--period", "2022")
    html = (tmp_path / "b.html").read_text(encoding="utf-8")
    report = build_report(ReportRequest(jurisdiction=kern, period="2022"))
    for sentence in report.sentences():
        escaped = sentence.replace("&", "&amp;").replace("'", "&#x27;").replace('"', "&quot;")
        assert escaped in html, sentence
    # The history charts of homicides and firearm aggravated assaults.
    assert html.count('<img src="data:image/svg+xml;base64,') == 2


def test_a_baseline_adds_its_comparison_and_rates_appear_with_populations(kern, tmp_path):
    Population.objects.create(jurisdiction=kern, year=2022, population=407_615, source="Census")
    Population.objects.create(jurisdiction=kern, year=2021, population=405_000, source="Census")
    report = build_report(ReportRequest(jurisdiction=kern, period="2022", vs="2021", baseline=2019))
    summary = [b.text for b in report.sections[0].blocks if b.kind == "paragraph"]
    assert summary[0].startswith("Homicides fell 37%, from 60 in 2021 to 38 in 2022")
    assert summary[1].startswith("Homicides rose") and "from 34 in 2019 to 38 in 2022" in summary[1]
    assert (
        "38 homicides in 2022: 9.3 per 100,000 residents (population 407,615)."
        in report.sentences()
    )
    assert "Populations for rates: Census." in report.sentences()


def test_a_year_past_the_data_is_refused_naming_the_coverage(kern, tmp_path):
    with pytest.raises(CommandError) as caught:
        _write(tmp_path, "b.pdf", "--jurisdiction", "Bakersfield", "--period", "2023")
    assert str(caught.value) == (
        "no data to publish for 2023 in Bakersfield: the data cover homicides, firearm "
        f"aggravated assaults from {SOURCE}: data for 1985–2022. Choose a period inside the "
        "coverage."
    )
    assert not (tmp_path / "b.pdf").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2022", "--out", "r.docx"], "write .pdf, .html or .json"),
        (["--period", "22", "--out", "r.pdf"], "'22' is not a period"),
        (["--period", "2022", "--baseline", "19", "--out", "r.pdf"], "--baseline is a year"),
    ],
)
def test_usage_errors_say_what_to_give(kern, tmp_path, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command(
            "report",
            "--jurisdiction",
            "Bakersfield",
            *[str(tmp_path / a) if a.startswith("r.") else a for a in args],
            stdout=io.StringIO(),
        )


def test_a_strategy_start_runs_the_evaluation_and_the_report_cites_it(kern):
    from gvrs.data.metrics import get_metric
    from gvrs.evaluation.runs import evaluate

    report = build_report(
        ReportRequest(
            jurisdiction=kern,
            period="2022",
            strategy_start=dt.date(2022, 1, 1),
            evaluation_method="its",
        )
    )
    (section,) = [s for s in report.sections if s.slug == "caveat"]
    texts = [b.text for b in section.blocks]
    expected, _ = evaluate(get_metric("homicides"), kern, dt.date(2022, 1, 1), "its")
    assert texts == [
        BEFORE_AFTER_CAVEAT,
        "The evaluation (interrupted time series, strategy from 1 January 2022) says: "
        f"“{expected.sentence}”",
    ]


def _structure(node, found: list[tuple[str, str]]) -> None:
    """(structure type, alt text) of every element of a PDF's structure tree, in order."""
    node = node.get_object() if hasattr(node, "get_object") else node
    if isinstance(node, list):
        for child in node:
            _structure(child, found)
        return
    if not hasattr(node, "get"):
        return
    if "/S" in node:
        found.append((str(node["/S"]), str(node.get("/Alt", ""))))
    if "/K" in node:
        _structure(node["/K"], found)


def test_the_pdf_is_tagged_for_screen_readers(kern):
    """PDF/UA-1 (issue 30): marked content with a structure tree in reading order, the title
    shown as the window's, the language, and every chart with its alt text."""
    report = build_report(ReportRequest(jurisdiction=kern, period="2022", vs="2021"))
    reader = PdfReader(io.BytesIO(render.pdf(report)))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert root["/Lang"] == "en"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    metadata = root["/Metadata"].get_object().get_data().decode()
    assert "<pdfuaid:part>1</pdfuaid:part>" in metadata
    assert report.title in metadata
    found: list[tuple[str, str]] = []
    _structure(root["/StructTreeRoot"], found)
    kinds = [kind for kind, _ in found]
    assert "/H1" in kinds and "/Table" in kinds and "/P" in kinds
    figures = [alt for kind, alt in found if kind == "/Figure"]
    assert figures and all(alt.strip() for alt in figures)
    # The first page, to look at.
    artifacts = Path(__file__).resolve().parents[1] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "council-pdf-page-1.png").write_bytes(render.page_images(report, ppi=80)[0])
