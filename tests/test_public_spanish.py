"""The public dashboard in Spanish: the same figures as the English page, sentence for
sentence; no English left on it (a catalogue coverage check); the reader's choice remembered
in a cookie, the browser's preference otherwise; the rest of the site stays in English; the
compiled catalogue is the one in the repository."""

from __future__ import annotations

import gettext
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.utils import translation

from gvrs.analysis.inference import compare_counts
from gvrs.analysis.narrative import change_sentence
from gvrs.data.metrics import load_metrics
from gvrs.public.published import build_page
from tests.public_helpers import make_random_town

pytestmark = pytest.mark.django_db

CATALOGUE = Path(__file__).resolve().parent.parent / "gvrs" / "locale" / "es" / "LC_MESSAGES"
BLOCKS = {"p", "td", "th", "caption", "h1", "h2", "li", "option", "div", "label", "a", "button"}


@pytest.fixture
def town():
    return make_random_town(3)[0]


class _Blocks(HTMLParser):
    """The visible text of a page as blocks in document order (each paragraph, cell, heading,
    link), without scripts; the charts' words (titles, legends) from their JSON apart."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self.charts: list[dict] = []
        self._stack: list[list[str]] = []
        self._script = False
        self._json = False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._script = True
            self._json = dict(attrs).get("type") == "application/json"
        elif tag in BLOCKS:
            self._stack.append([])

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._script = self._json = False
        elif tag in BLOCKS and self._stack:
            # Spaces collapsed, but not the non-breaking ones inside Spanish numbers.
            text = re.sub(r"[ \t\r\n]+", " ", "".join(self._stack.pop())).strip()
            if text:
                self.blocks.append(text)
                if self._stack:
                    self._stack[-1].append(text)

    def handle_data(self, data):
        if self._script:
            if self._json:
                self.charts.append(json.loads(data))
        elif self._stack:
            self._stack[-1].append(data)


def _read(html: str) -> _Blocks:
    reader = _Blocks()
    reader.feed(html)
    return reader


def _chart_words(chart: dict) -> list[str]:
    words = [chart["layout"].get("title", {}).get("text", "")]
    for trace in chart["data"]:
        words.append(trace.get("name", ""))
        words.extend(trace.get("text", []) or [])
        words.extend(str(x) for x in trace.get("x", []) or [])
        words.append(trace.get("colorbar", {}).get("title", {}).get("text", ""))
    return [w for w in words if w]


def numbers(text: str, lang: str) -> list[float]:
    """The numbers a reader reads in ``text``: "1,234.5" in English, "1 234,5" in Spanish."""
    if lang == "es":
        text = re.sub(r"(?<=\d)\u00a0(?=\d{3})", "", text).replace(",", ".")
    else:
        text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text)]


def _page(client, url: str, lang: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=lang)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("year", [None, 2021])
def test_the_spanish_dashboard_states_the_same_figures_sentence_for_sentence(client, town, year):
    url = f"/public/{town.slug}/" + (f"?year={year}" if year else "")
    english, spanish = _read(_page(client, url, "en")), _read(_page(client, url, "es"))
    assert len(english.blocks) == len(spanish.blocks) > 50
    for en, es in zip(english.blocks, spanish.blocks, strict=True):
        assert numbers(en, "en") == numbers(es, "es"), (en, es)
    for en, es in zip(english.charts, spanish.charts, strict=True):
        assert [numbers(w, "en") for w in _chart_words(en)] == [
            numbers(w, "es") for w in _chart_words(es)
        ]
        assert [t.get("y") for t in en["data"]] == [t.get("y") for t in es["data"]]


def test_the_spanish_change_sentence_is_made_from_the_figures(client, town):
    spanish = _page(client, f"/public/{town.slug}/", "es")
    sentence = re.search(r'data-testid="ytd-sentence">([^<]*)<', spanish).group(1)
    # The figures of the table beside it (Randomville's Jan–Jul of 2022 and 2023).
    with translation.override("es"):
        page = build_page(town, load_metrics()["shootings"], 10)
    (now_label, (now,)), (before_label, (before,)) = page.ytd_table.rows
    assert (before_label, now_label) == ("ene–jul 2022", "ene–jul 2023")
    expected = change_sentence(
        "Personas alcanzadas por disparos",
        compare_counts(before.value, now.value),
        before_label,
        now_label,
        lang="es",
    )
    assert sentence == expected
    assert sentence.startswith("El número de personas alcanzadas por disparos bajó un ")
    assert f"de {before.value} en ene–jul 2022 a {now.value} en ene–jul 2023" in sentence


def _catalogue() -> dict[str, str]:
    with (CATALOGUE / "django.mo").open("rb") as f:
        return dict(gettext.GNUTranslations(f)._catalog)  # type: ignore[attr-defined]


# Words of English a Spanish page must not contain (none is also a Spanish word).
ENGLISH = {
    "the",
    "of",
    "and",
    "from",
    "to",
    "by",
    "with",
    "than",
    "fewer",
    "year",
    "years",
    "month",
    "months",
    "shown",
    "count",
    "counts",
    "people",
    "victims",
    "page",
    "this",
    "these",
    "not",
    "data",
    "suppressed",
    "recorded",
    "area",
    "areas",
    "against",
    "last",
    "download",
    "figures",
    "per",
    "residents",
    "whole",
    "through",
    "every",
    "what",
    "is",
    "are",
    "be",
    "counted",
    "sources",
    "imported",
    "small",
    "sex",
    "age",
    "group",
    "race",
    "ethnicity",
    "change",
    "changes",
    "year's",
    "in",
    "on",
}


def test_no_english_is_left_on_the_spanish_page(client, town):
    html = _page(client, f"/public/{town.slug}/", "es")
    page = _read(html)
    words = page.blocks + [w for chart in page.charts for w in _chart_words(chart)]
    # Names are data, not English: the place, its areas and its source.
    names = {"Randomville", "randomville-police", "gvrs", "CSV", "NIBRS"} | {
        f"Ward {k}" for k in range(1, 6)
    }
    text = " ".join(words)
    for name in names:
        text = text.replace(name, " ")
    left = sorted({w for w in re.findall(r"[^\W\d_]+", text) if w.lower() in ENGLISH})
    assert left == []
    # Every English message of the catalogue that has a Spanish one is translated on the page:
    # its words up to the first placeholder (when two words or more) never appear on it.
    for english, spanish in _catalogue().items():
        lead = english.split("%(")[0].strip() if isinstance(english, str) else ""
        if english != spanish and len(lead.split()) >= 2:
            assert lead not in text
    assert 'lang="es"' in html and "Español" in html


def test_the_english_page_is_unchanged_without_a_preference(client, town):
    html = client.get(f"/public/{town.slug}/").content.decode()
    assert '<html lang="en">' in html
    assert re.search(
        r"People shot fell \d+%, from \d+ in Jan–Jul 2022 to \d+ in Jan–Jul 2023", html
    )


def test_the_language_switch_is_remembered_in_a_cookie(client, town):
    page = f"/public/{town.slug}/?year=2021"
    response = client.get("/public/language/es/", {"next": page})
    assert response.status_code == 302 and response["Location"] == page
    assert response.cookies["django_language"].value == "es"
    assert response.cookies["django_language"]["samesite"] == "Lax"
    # The cookie wins over the browser's preference, both ways.
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="es">' in html and "Datos" not in html[:0]
    client.get("/public/language/en/", {"next": page})
    html = client.get(page, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9").content.decode()
    assert '<html lang="en">' in html
    # Both languages are cached apart, and a shared cache is told so.
    response = client.get(page)
    assert {"Accept-Language", "Cookie"} <= {v.strip() for v in response.headers["Vary"].split(",")}


@pytest.mark.parametrize(
    "back", ["https://evil.example/", "//evil.example/", "/admin/", "javascript:alert(1)"]
)
def test_the_switch_goes_back_only_to_a_public_page(client, back):
    response = client.get("/public/language/es/", {"next": back})
    assert response.status_code == 302 and response["Location"] == "/public/"


def test_an_unknown_language_is_a_404(client):
    assert client.get("/public/language/fr/").status_code == 404


def test_the_browsers_preference_chooses_spanish(client, town):
    html = _page(client, f"/public/{town.slug}/", "es-MX,es;q=0.9,en;q=0.5")
    assert '<html lang="es">' in html
    assert "Período de los datos." in html
    # Months and dates in Spanish conventions.
    assert "del 1 de enero de 2021 al 20 de agosto de 2023" in html
    assert '<th scope="col" class="num">ene</th>' in html


def test_the_download_follows_the_pages_language(client, town):
    english = client.get(f"/public/{town.slug}/data.csv").content.decode()
    spanish = client.get(
        f"/public/{town.slug}/data.csv", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    # The file's contract (its header, table keys and about names) is the same in both.
    assert english.splitlines()[0] == spanish.splitlines()[0] == "table,row,column,value"
    assert [line.split(",")[0] for line in english.splitlines()] == [
        line.split(",")[0] for line in spanish.splitlines()
    ]
    assert "months,2021,ene," in spanish and "menos de 11" in spanish
    assert "months,2021,Jan," in english and "fewer than 11" in english


def test_signed_in_pages_stay_in_english(client):
    html = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="en"' in html


def _po_entries(path: Path) -> dict[str, str]:
    """msgid -> msgstr of a .po file written with --no-wrap (one line each; msgctxt kept as
    gettext keys it, "context\\x04id")."""
    entries, context, msgid = {}, "", None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgctxt "):
            context = json.loads(line[len("msgctxt ") :])
        elif line.startswith("msgid "):
            msgid = json.loads(line[len("msgid ") :])
        elif line.startswith("msgstr ") and msgid:
            key = f"{context}\x04{msgid}" if context else msgid
            entries[key] = json.loads(line[len("msgstr ") :])
            context, msgid = "", None
    return entries


def test_the_compiled_catalogue_is_the_one_in_the_repository():
    """gvrs/locale/es/LC_MESSAGES/django.mo is committed (no gettext tools needed to install);
    `make messages` rebuilds it. It must hold exactly the .po's translations."""
    written = _po_entries(CATALOGUE / "django.po")
    compiled = {k: v for k, v in _catalogue().items() if k}
    assert written and all(written.values()), "every message is translated"
    assert compiled == written
