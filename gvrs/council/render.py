"""The report laid out: HTML through a Django template, PDF (and page images) through Typst.

Both walk the same ``CouncilReport`` block by block. Typst comes from PyPI as a self-contained
wheel (``typst``, the compiler with its fonts built in), so a PDF needs no system library, no
browser and no network; system fonts are ignored, so the PDF is the same on every machine.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from django.template.loader import render_to_string

from gvrs.council.document import CouncilReport

TEMPLATE = "report.typ"


class RenderError(RuntimeError):
    """Typst refused the document (a bug in the template, not in the user's data)."""


def html(report: CouncilReport, *, standalone: bool = True) -> str:
    """The report as HTML: a whole printable page, or its body for the web preview."""
    name = "council/report.html" if standalone else "council/_document.html"
    return render_to_string(name, {"report": report})


# The PDF is tagged and declares PDF/UA-1 (ISO 14289-1): a structure tree in reading order
# (title, headings, paragraphs, tables with their header row, figures with their alt text),
# the page header and footer as artifacts, the document's title shown by viewers and its
# language. Typst checks the rules it can (a title, alt text on every image) and refuses a
# document that breaks them, so a report without them cannot be written.
PDF_STANDARDS = ["ua-1"]


def _compile(report: CouncilReport, fmt: str, ppi: float | None = None):
    import typst

    template = resources.files("gvrs.council") / TEMPLATE
    standards = {"pdf_standards": PDF_STANDARDS} if fmt == "pdf" else {}
    with resources.as_file(template) as path:
        try:
            return typst.compile(
                str(path),
                root=str(Path(path).parent),
                format=fmt,
                ppi=ppi,
                sys_inputs={"report": json.dumps(report.as_dict())},
                ignore_system_fonts=True,
                **standards,
            )
        except typst.TypstError as exc:  # pragma: no cover - a template bug
            raise RenderError(f"typst could not lay out the report: {exc}") from None


def pdf(report: CouncilReport) -> bytes:
    """The report as a tagged PDF (PDF/UA-1)."""
    return _compile(report, "pdf")


def page_images(report: CouncilReport, ppi: float = 100) -> list[bytes]:
    """Each page as a PNG, to look at the PDF's layout."""
    pages = _compile(report, "png", ppi)
    return pages if isinstance(pages, list) else [pages]


def write(report: CouncilReport, out: Path) -> None:
    """Write ``out`` by its extension: .pdf, .html (a whole page), or .json (the document's
    data, charts included)."""
    suffix = out.suffix.lower()
    if suffix == ".pdf":
        out.write_bytes(pdf(report))
    elif suffix in (".html", ".htm"):
        out.write_text(html(report), encoding="utf-8")
    elif suffix == ".json":
        out.write_text(json.dumps(report.as_dict(), indent=2), encoding="utf-8")
    else:
        raise ValueError(f"{out}: write .pdf, .html or .json (got {suffix or 'no extension'})")
