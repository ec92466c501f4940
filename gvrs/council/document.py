"""The report as data: sections of blocks that both renderers (HTML and Typst) lay out in the
same order, so the web preview and the PDF never differ in what they say."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Paragraph:
    text: str
    # "text", "lead" (a headline sentence), "caveat" (set apart), or "note" (small print)
    style: str = "text"
    kind: str = "paragraph"


@dataclass(frozen=True)
class Table:
    caption: str
    header: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)  # sources, definitions, coverage
    kind: str = "table"


@dataclass(frozen=True)
class Figure:
    """A vector chart or map: ``svg`` is a complete SVG document."""

    caption: str
    svg: str
    notes: list[str] = field(default_factory=list)
    alt: str = ""
    kind: str = "figure"

    @property
    def data_uri(self) -> str:
        """The SVG as an image address for HTML: an ``<img>`` never runs what an SVG holds,
        whatever names (areas, places) were drawn into it."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


Block = Paragraph | Table | Figure


@dataclass(frozen=True)
class Section:
    title: str
    blocks: list[Block]
    slug: str = ""
    new_page: bool = False  # the methods page starts a page of its own in the PDF


@dataclass(frozen=True)
class CouncilReport:
    title: str
    subtitle: str
    place: str
    period: str
    vs: str
    baseline: str
    generated_on: dt.date
    last_imported: str  # "last imported 26 Nov 2026, 00:40 UTC"
    coverage: str  # every source's coverage, joined
    sections: list[Section]
    facts: dict = field(default_factory=dict)  # the headline numbers, for JSON and tests

    def as_dict(self) -> dict:
        """Plain data for the Typst template (``sys.inputs``) and JSON output."""
        out = asdict(self)
        out["generated_on"] = self.generated_on.isoformat()
        return out

    def sentences(self) -> list[str]:
        """Every paragraph's text, in order (tests read the report through this)."""
        return [
            block.text
            for section in self.sections
            for block in section.blocks
            if isinstance(block, Paragraph)
        ]
