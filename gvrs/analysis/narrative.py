"""Plain-English (and Spanish) sentences for results, each with its numbers and its caveat.

The statistics policy (DESIGN.md): every change is shown with the counts behind it, and a
change that an exact test cannot tell from ordinary variation says so in the same sentence.

The sentences a resident reads on the public pages take a ``lang`` ("en" or "es"): the
Spanish sentence is built from the same figures by its own grammar, never by translating a
finished English sentence, and its numbers follow Spanish conventions (decimal comma, a
non-breaking space between thousands from five digits on, "37 %"; the RAE's rules, which
Django's ``es`` formats also follow). The caller passes labels already in the reader's
language (the site translates them through its gettext catalogue; this module never imports
Django).
"""

from __future__ import annotations

import re

from gvrs.analysis.inference import CountComparison

EVIDENCE_THRESHOLD = 0.05
LANGUAGES = ("en", "es")
NBSP = "\u00a0"


# Month abbreviations as a Spanish reader writes them (lower case; the RAE's abbreviations).
MONTHS_ES = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic")
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def month_abbr(month: int, lang: str = "en") -> str:
    """ "Jan" in English, "ene" in Spanish (``month`` from 1 to 12)."""
    return (MONTHS_ES if _language(lang) == "es" else MONTHS_EN)[month - 1]


def _language(lang: str) -> str:
    """ "es-mx" -> "es"; anything else not supported -> "en"."""
    code = (lang or "en").lower()[:2]
    return code if code in LANGUAGES else "en"


def localize_number(text: str, lang: str = "en") -> str:
    """An English-formatted number ("1,234.5") in ``lang``'s conventions.

    Examples
    --------
    >>> [localize_number(t, "es") for t in ("2022", "1,234", "12,345.6", "0.033")]
    ['2022', '1234', '12\xa0345,6', '0,033']
    """
    if _language(lang) == "en":
        return text
    whole, _, fraction = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-").replace(",", "")
    if len(digits) > 4:  # the RAE groups thousands from five digits on: 2022, 12 345
        groups = []
        while digits:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        digits = NBSP.join(groups)
    return sign + digits + ("," + fraction if fraction else "")


def count_text(value: int, lang: str = "en") -> str:
    """ "2,338" in English, "2338" and "12 345" in Spanish."""
    return localize_number(f"{value:,}", lang)


def percent_text(value: float, lang: str = "en", digits: int = 0) -> str:
    """ "37%" in English, "37 %" in Spanish (with a non-breaking space)."""
    shown = localize_number(f"{value:,.{digits}f}", lang)
    return shown + ("%" if _language(lang) == "en" else NBSP + "%")


def format_p(p_value: float, lang: str = "en") -> str:
    """ "p = 0.033", "p = 0.25", "p < 0.001": two significant digits, never "p = 0"
    ("p = 0,033" in Spanish)."""
    if p_value < 0.001:
        return f"p < {localize_number('0.001', lang)}"
    shown = f"{p_value:.2g}" if p_value < 0.1 else f"{p_value:.2f}".rstrip("0").rstrip(".")
    return f"p = {localize_number(shown, lang)}"


def format_probability(p: float) -> str:
    """A chance as a reader should see it: never "0%" or "100%", which a model cannot know.

    Examples
    --------
    >>> [format_probability(p) for p in (0.0, 0.004, 0.42, 0.996, 1.0)]
    ['less than 1%', 'less than 1%', '42%', 'more than 99%', 'more than 99%']
    """
    if p < 0.005:
        return "less than 1%"
    if p > 0.99:
        return "more than 99%"
    return f"{p:.0%}"


# ---------------------------------------------------------------------------------------------
# The council report (issue 15): police workload, history, rates, group involvement, partners,
# sources and methods. Each function returns finished sentences; the report adds none of its own.

BEFORE_AFTER_CAVEAT = (
    "A comparison of before and after is not evidence that the strategy caused the change: "
    "counts rise and fall for many reasons, and only an evaluation against comparison places "
    "or a counterfactual trend can say what the strategy did."
)


def number_text(value: float) -> str:
    """ "3,660", "1.5": whole numbers without decimals, others with one."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def range_text(low: float, high: float, *, money: str = "") -> str:
    """ "5–12", "3,660–26,352", "$1,000–$2,000"; one number when both ends agree."""
    prefix = "$" if money == "USD" else ""
    suffix = f" {money}" if money and money != "USD" else ""
    if low == high:
        return f"{prefix}{number_text(low)}{suffix}"
    return f"{prefix}{number_text(low)}–{prefix}{number_text(high)}{suffix}"


def workload_sentence(hours, noun: str = "shootings") -> str:
    """Officer-hours tied up by a period's shootings (``gvrs.analysis.workload.OfficerHours``).

    Examples
    --------
    >>> from gvrs.analysis.workload import officer_hours
    >>> workload_sentence(officer_hours(732, "2020"))[:86]
    '732 shootings × 5–12 officers × 1–3 hours = 3,660–26,352 officer-hours tied up in 2020'
    """
    a = hours.assumptions
    return (
        f"{hours.shootings:,} {noun} × {range_text(a.officers.low, a.officers.high)} officers × "
        f"{range_text(a.hours.low, a.hours.high)} hours = "
        f"{range_text(hours.hours.low, hours.hours.high)} officer-hours tied up in "
        f"{hours.period}, if each takes {range_text(a.officers.low, a.officers.high)} officers "
        f"for {range_text(a.hours.low, a.hours.high)} hours ({a.source})."
    )


def hours_freed_sentence(freed, noun: str = "shootings") -> str:
    """The officer-hours a change in shootings frees or adds, labelled as what it is:
    arithmetic on assumptions, not a measured saving (``workload.HoursFreed``)."""
    a = freed.before.assumptions
    per = (
        f"× {range_text(a.officers.low, a.officers.high)} officers × "
        f"{range_text(a.hours.low, a.hours.high)} hours"
    )
    before, after = freed.before.period, freed.after.period
    if freed.fewer > 0:
        return (
            f"{freed.fewer:,} fewer {noun} in {after} than in {before} {per} = "
            f"{range_text(freed.hours.low, freed.hours.high)} officer-hours freed: arithmetic "
            "on these assumptions, not a measured saving."
        )
    if freed.fewer < 0:
        return (
            f"{-freed.fewer:,} more {noun} in {after} than in {before} {per} = "
            f"{range_text(freed.hours.low, freed.hours.high)} more officer-hours tied up: "
            "arithmetic on these assumptions, not a measured cost."
        )
    return (
        f"As many {noun} in {after} as in {before}: on these assumptions no officer-hours were "
        "freed or added."
    )


def cost_sentence(cost, period: str, *, noun: str = "shootings", avoided: bool = False) -> str:
    """A cost line of the user's table applied to a count (``workload.ShootingCost``);
    ``avoided``: applied to the fall in shootings between two periods."""
    item = cost.item
    dollars = f"{item.price_year} " if item.price_year else ""
    per = range_text(item.cost.low, item.cost.high, money=item.currency)
    total = range_text(cost.total.low, cost.total.high, money=item.currency)
    what = (
        f"the {cost.shootings:,} fewer {noun} in {period} avoided"
        if avoided
        else f"{cost.shootings:,} {noun} in {period} come to"
    )
    return (
        f"At {per} per shooting for {item.label} ({dollars}{item.currency}; source: "
        f"{item.source}), {what} {total}: arithmetic on the cited figure, not a measured "
        f"{'saving' if avoided else 'cost'}."
    )


def history_sentence(label: str, rank, unit: str = "") -> str:
    """Where a year stands in its series (``gvrs.analysis.history.HistoryRank``).

    Examples
    --------
    >>> import pandas as pd
    >>> from gvrs.analysis.history import rank_in_history
    >>> rank = rank_in_history(pd.Series({2020: 9, 2021: 12, 2022: 4}), 2022)
    >>> history_sentence("Homicides", rank)
    '4 homicides in 2022: the lowest in the 3 years of data (2020–2022).'
    """
    return f"{rank.count:,} {unit or label.lower()} in {rank.year}: {rank.phrase}."


def record_sentence(label: str, annual, *, unit: str = "") -> str:
    """The record year of a whole annual series (a ``pandas.Series`` of counts by year).

    Examples
    --------
    >>> import pandas as pd
    >>> record_sentence("Homicides", pd.Series({2020: 9, 2021: 12, 2022: 4}))
    'The record for homicides is 12, in 2021, across the 3 years of data (2020–2022).'
    """
    top = int(annual.max())
    years = [int(y) for y in annual.index[annual == top]]
    first, last = int(annual.index.min()), int(annual.index.max())
    when = years[-1] if len(years) == 1 else " and ".join(map(str, years))
    tied = "" if len(years) == 1 else " (tied)"
    return (
        f"The record for {unit or label.lower()} is {top:,}{tied}, in {when}, across the "
        f"{len(annual)} years of data ({first}–{last})."
    )


def rate_sentence(label: str, count: int, period: str, population: int, rate: float) -> str:
    """ "38 homicides in 2022: 9.3 per 100,000 residents (population 407,615)." """
    return (
        f"{count:,} {label.lower()} in {period}: {rate:,.1f} per 100,000 residents "
        f"(population {population:,})."
    )


def no_rate_sentence(place: str, period: str) -> str:
    return (
        f"No population of {place} is loaded for {period}, so no rate per 100,000 is shown "
        "(the command gvrs populations loads them)."
    )


def group_share_sentence(
    label: str, period: str, yes: int, known: int, unknown: int, low: float, high: float
) -> str:
    """The group-involved share of incidents whose involvement is recorded, with its exact
    interval, and how many are not (yet) recorded.

    Examples
    --------
    >>> group_share_sentence("Shooting incidents", "2022", 30, 60, 5, 0.368, 0.632)[:72]
    'Of the 60 shooting incidents in 2022 whose group involvement is recorded'
    """
    share = yes / known
    tail = (
        f"; {unknown:,} more are not yet recorded either way, so the share may move"
        if unknown
        else ""
    )
    return (
        f"Of the {known:,} {label.lower()} in {period} whose group involvement is recorded, "
        f"{yes:,} ({share:.0%}; exact 95% interval {low:.0%}–{high:.0%}) were group-involved"
        f"{tail}."
    )


def group_share_unavailable(place: str, period: str, reason: str) -> str:
    return f"The group-involved share is not available for {place} in {period}: {reason}."


def partners_sentence(organizations: int, within: int) -> str:
    """How the partners' program figures were made safe to publish (docs/disclosure.md)."""
    who = "one community partner" if organizations == 1 else f"{organizations} community partners"
    return (
        f"Program figures from {who}, counting only participants who consented to aggregate "
        f"reporting; every count is moved by a small amount fixed by the records it counts (at "
        f"most {within}, usually 0 or 1), so that no count, however small, can be worked out "
        "exactly; totals add up the figures shown."
    )


def no_partner_figures(place: str) -> str:
    return "No community partner has a program recorded: no program figures are shown."


def evaluation_sentence(evaluation, method_name: str) -> str:
    """Points from the report to the evaluation that was run (``evaluation.Evaluation``)."""
    return (
        f"The evaluation ({method_name.lower()}, strategy from {evaluation.start:%-d %B %Y}) "
        f"says: “{evaluation.sentence}”"
    )


def no_evaluation_sentence(place: str) -> str:
    return (
        f"No evaluation of the strategy in {place} is part of this report; the command gvrs "
        "evaluate, or the Evaluation page, runs one against comparison places."
    )


def area_sentence(label: str, window: str, threshold: int) -> str:
    return (
        f"{label} by area, {window}. Areas with 1 to {threshold} are shown as “fewer than "
        f"{threshold + 1}”, and further areas are hidden where a total would reveal them."
    )


def victims_sentence(label: str, window: str, threshold: int) -> str:
    """The lead of the tables of who was killed or shot.

    Examples
    --------
    >>> victims_sentence("Homicides", "2024", 10)[:52]
    'Homicides, 2024, by the sex, age group, race and eth'
    """
    return (
        f"{label}, {window}, by the sex, age group, race and ethnicity the police recorded for "
        f"each person. Counts from 1 to {threshold} are shown as “fewer than {threshold + 1}”, "
        "and further cells are hidden where a total would reveal them."
    )


def no_areas_sentence(place: str, reason: str) -> str:
    return f"No map by area for {place}: {reason}."


def source_sentence(title: str, definition: str, coverage: str, imported: str) -> str:
    """ "California DOJ …: Criminal homicides … (data for 1985–2022; last imported …)." """
    definition = definition.rstrip(".")
    return f"{title}: {definition} ({coverage}; {imported})."


def imported_phrase(when) -> str:
    """ "last imported 26 Nov 2026, 00:40 UTC", or "import date not recorded"."""
    if when is None:
        return "import date not recorded"
    return f"last imported {when:%-d %b %Y, %H:%M} UTC"


def report_subtitle(path: str, period: str, vs: str, baseline: str | None) -> str:
    against = f"against {vs}" + (f" and the baseline {baseline}" if baseline else "")
    return f"{path}: {period} {against}."


def count_with_interval(count: int, low: float, high: float) -> str:
    """ "38 (26.9–52.2)" """
    return f"{count:,} ({low:,.1f}–{high:,.1f})"


def change_text(before: int, after: int) -> str:
    """ "−37% (60 → 38)", "+4 (0 → 4)" when the earlier count is zero: the counts behind every
    change."""
    if before == 0:
        return f"{after - before:+,} ({before:,} → {after:,})"
    pct = 100 * (after - before) / before
    sign = "−" if pct < 0 else "+"
    return f"{sign}{abs(pct):.0f}% ({before:,} → {after:,})"


def not_covered_sentence(label: str, title: str, period: str, coverage: str) -> str:
    return f"{label} from {title} are left out: they have no figures for {period} ({coverage})."


def no_comparison_sentence(label: str, other: str, reason: str) -> str:
    reason = reason.rstrip(".")
    return f"{label} are not compared with {other}: {reason}."


def figure_note(title: str, definition: str, coverage: str) -> str:
    """The line under every table and chart: source, definition and coverage."""
    definition = definition.strip().rstrip(".")
    body = f" {definition}." if definition else ""
    return f"Source: {title}.{body} Coverage: {coverage}."


def evaluation_failed_sentence(place: str, reason: str) -> str:
    return f"The evaluation of the strategy in {place} could not be run: {reason.rstrip('.')}."


def period_complete_sentence(period: str) -> str:
    return (
        f"{period} is complete in the data: the figures above are whole periods, and no "
        "projection is needed."
    )


def no_workload_sentence(place: str) -> str:
    return (
        f"No count of shooting incidents is held for {place}, so the police workload of "
        "shootings cannot be worked out (it needs incident records)."
    )


def workload_note(source: str) -> str:
    return (
        f"Assumptions: {source}. Officer-hours are the assumptions multiplied out, low end by "
        "low end and high end by high end; they are not a measurement of police time."
    )


def partner_note(organization: str, note: str, on: str) -> str:
    """Under a partner's table: its source, what it counts and its coverage (every participant
    on record on the day the report was made; the table's own note dates what it dates)."""
    extra = f"; {note.rstrip('.')}" if note else ""
    return (
        f"Source: {organization}'s records in gvrs. Participants who consented to aggregate "
        f"reporting{extra}. Coverage: every participant on record on {on}."
    )


def unplaced_sentence(unplaced: int, total: int, label: str, period: str) -> str:
    """Why the areas add up to less than the place: records with no area."""
    return (
        f"{unplaced:,} of the {total:,} {label.lower()} in {period} have no area recorded, so "
        "the areas add up to less than the whole place."
    )


def quiet_areas_sentence(n: int, label: str, windows: list[str]) -> str:
    which = " or ".join(windows)
    areas = "One other area" if n == 1 else f"{n:,} other areas"
    return f"{areas} had no {label.lower()} in {which}."


def population_source_sentence(sources: list[str]) -> str:
    return f"Populations for rates: {', '.join(sources)}."


def running_period_sentence(period: str, window: str, *, projected: bool = True) -> str:
    """ "2025 is still running: …" — why the report compares windows, not whole periods."""
    tail = ", and the year-end figures below are projections" if projected else ""
    return (
        f"{period} is still running: every comparison in this report is over the same window "
        f"of each period, {window.split('(')[-1].rstrip(')')}{tail}."
    )


def no_projection_sentence(year: int, reason: str) -> str:
    return f"No year-end projection for {year}: {reason}."


def methods_sentences(
    evidence_threshold: float, suppression_threshold: int, projection_level: float
) -> list[str]:
    """The methods page, sentence by sentence."""
    return [
        "Counts are as the named source gives them: counted by gvrs from incident records, or "
        "published by another body (such as the California DOJ's annual totals), never both "
        "merged; where several sources publish a figure they are shown side by side.",
        "Each count carries an exact 95% Poisson interval (Garwood 1936), the range of "
        "underlying yearly rates consistent with it.",
        "Two counts are compared with the exact conditional test (Przyborowski & Wilenski "
        "1940): given their sum, the later count is binomial if the rate did not change; rates "
        "are compared per resident and per day where populations are loaded.",
        f"A change with p below {evidence_threshold:g} is reported as a change; above it, "
        "the sentence says the change is within ordinary variation.",
        "Two periods are compared only over equal windows: a year still running is compared "
        "year to date with the same window of earlier years.",
        "A year's place in history is ranked among the years before it, only as far back as "
        "the source's data go.",
        f"A year-end projection scales the count so far by the share of a year's events that "
        f"usually falls by that date, with a {projection_level:.0%} prediction interval from a "
        "hierarchical model of how that share varied in earlier years.",
        "Rates per 100,000 use the population of the place in that year, where one is loaded.",
        "Police workload is arithmetic on stated assumptions (officers per shooting and hours "
        "each, as ranges); it is not a measurement of police time, and the officer-hours a "
        "fall in shootings frees are not a measured saving.",
        f"Public figures from community partners and small areas suppress counts from 1 to "
        f"{suppression_threshold}, with complementary suppression so that no hidden count "
        "can be worked out from the totals shown.",
        "A figure is published only for periods inside its source's recorded coverage; "
        "outside it a figure is “no data”, never zero.",
        BEFORE_AFTER_CAVEAT,
    ]


def change_sentence(
    label: str,
    comparison: CountComparison,
    period_a: str,
    period_b: str,
    *,
    threshold: float = EVIDENCE_THRESHOLD,
    lang: str = "en",
) -> str:
    """One sentence for a change between two counts, in English or Spanish (``lang``); the
    label and periods are given in that language.

    Examples
    --------
    >>> from gvrs.analysis.inference import compare_counts
    >>> change_sentence("Homicides", compare_counts(60, 38), "2021", "2022")
    'Homicides fell 37%, from 60 in 2021 to 38 in 2022 (exact test p = 0.033).'
    >>> change_sentence("Homicidios", compare_counts(60, 38), "2021", "2022", lang="es")[:64]
    'El número de homicidios bajó un 37\\xa0%, de 60 en 2021 a 38 en 2022'
    >>> change_sentence("Homicidios", compare_counts(60, 38), "2021", "2022", lang="es")[64:]
    ' (prueba exacta, p = 0,033).'
    """
    if _language(lang) == "es":
        return _change_sentence_es(label, comparison, period_a, period_b, threshold)
    a, b = comparison.count_a, comparison.count_b
    p = format_p(comparison.p_value)
    if b == 0 and a > 0:
        head = f"Zero {label.lower()} in {period_b}, down from {a:,} in {period_a}"
    elif a == b:
        head = f"{label} were unchanged at {a:,} in {period_a} and {period_b}"
    elif a == 0:
        head = f"{label} rose from 0 in {period_a} to {b:,} in {period_b}"
    else:
        # The percent is of the counts shown, as the sentence is read; the test uses rates.
        verb = "fell" if b < a else "rose"
        head = (
            f"{label} {verb} {abs(100 * (b - a) / a):.0f}%, "
            f"from {a:,} in {period_a} to {b:,} in {period_b}"
        )
    if comparison.p_value < threshold:
        return f"{head} (exact test {p})."
    size = "small" if abs(b - a) < 5 else "size"
    yearly = all(_is_yearly(label) for label in (period_a, period_b))
    variation = "year-to-year variation" if yearly else "variation"
    return f"{head}; a change this {size} is within ordinary {variation} ({p})."


def _change_sentence_es(
    label: str, comparison: CountComparison, period_a: str, period_b: str, threshold: float
) -> str:
    """The Spanish grammar of ``change_sentence``. "El número de …" carries the verb in the
    singular whatever the label's gender (homicidios, personas heridas de bala), so no label
    needs an article of its own."""
    a, b = comparison.count_a, comparison.count_b
    noun = label[:1].lower() + label[1:]
    n_a, n_b = count_text(a, "es"), count_text(b, "es")
    p = format_p(comparison.p_value, "es")
    if b == 0 and a > 0:
        head = f"Cero {noun} en {period_b}, frente a {n_a} en {period_a}"
    elif a == b:
        head = f"El número de {noun} no cambió: {n_a} en {period_a} y en {period_b}"
    elif a == 0:
        head = f"El número de {noun} subió de 0 en {period_a} a {n_b} en {period_b}"
    else:
        verb = "bajó" if b < a else "subió"
        pct = percent_text(abs(100 * (b - a) / a), "es")
        head = f"El número de {noun} {verb} un {pct}, de {n_a} en {period_a} a {n_b} en {period_b}"
    if comparison.p_value < threshold:
        return f"{head} (prueba exacta, {p})."
    size = "tan pequeño" if abs(b - a) < 5 else "de este tamaño"
    yearly = all(_is_yearly(label) for label in (period_a, period_b))
    variation = "variación ordinaria de un año a otro" if yearly else "variación ordinaria"
    return f"{head}; un cambio {size} está dentro de la {variation} ({p})."


def _is_yearly(label: str) -> bool:
    """ "2022", "2024-YTD", "1 Jan–30 Jun 2024" (a year to date in words), "2021..2023",
    "2024 (1 Jan–30 Jun)": comparisons a year apart."""
    return bool(
        re.fullmatch(r"\d{4}(-YTD|\.\.\d{4}| \(.*\))?", label)
        or re.fullmatch(r"1 Jan–\d{1,2} \w{3} \d{4}", label)
    )


def projection_sentence(label: str, projection) -> str:
    """E.g. "31 homicides so far in 2024 (to 30 June); on track for about 58 by year end
    (90% prediction interval 45 to 73), ..." with the record and low-year chances."""
    p = projection
    head = (
        f"{p.ytd_count:,} {label.lower()} so far in {p.year} (to {p.as_of.day} {p.as_of:%B}); "
        f"on track for about {p.projected:,.0f} by year end ({p.level:.0%} prediction interval "
        f"{p.low:,.0f} to {p.high:,.0f})"
    )
    notes = []
    if p.p_exceed_record is not None and p.p_exceed_record >= 0.05:
        notes.append(
            f"a {format_probability(p.p_exceed_record)} chance of passing the record of "
            f"{p.record_high:,} "
            f"({p.record_high_year})"
        )
    lows = [(n, prob) for n, prob in sorted(p.p_lowest_in.items()) if prob >= 0.05]
    if lows:
        n, prob = lows[-1]
        notes.append(f"a {format_probability(prob)} chance of the lowest total in {n} years")
    tail = "; " + ", ".join(notes) if notes else ""
    return f"{head}{tail}; {p.assumptions}."
