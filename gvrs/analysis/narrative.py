"""Plain-English sentences for results, each with its numbers and its caveat.

The statistics policy (DESIGN.md): every change is shown with the counts behind it, and a
change that an exact test cannot tell from ordinary variation says so in the same sentence.
"""

from __future__ import annotations

import re

from gvrs.analysis.inference import CountComparison

EVIDENCE_THRESHOLD = 0.05


def format_p(p_value: float) -> str:
    """ "p = 0.033", "p = 0.25", "p < 0.001": two significant digits, never "p = 0"."""
    if p_value < 0.001:
        return "p < 0.001"
    shown = f"{p_value:.2g}" if p_value < 0.1 else f"{p_value:.2f}".rstrip("0").rstrip(".")
    return f"p = {shown}"


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


def change_sentence(
    label: str,
    comparison: CountComparison,
    period_a: str,
    period_b: str,
    *,
    threshold: float = EVIDENCE_THRESHOLD,
) -> str:
    """One sentence for a change between two counts.

    Examples
    --------
    >>> from gvrs.analysis.inference import compare_counts
    >>> change_sentence("Homicides", compare_counts(60, 38), "2021", "2022")
    'Homicides fell 37%, from 60 in 2021 to 38 in 2022 (exact test p = 0.033).'
    """
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


def _is_yearly(label: str) -> bool:
    """ "2022", "2024-YTD", "2021..2023": comparisons a year apart."""
    return bool(re.fullmatch(r"\d{4}(-YTD|\.\.\d{4})?", label))


def projection_sentence(label: str, projection) -> str:
    """E.g. "31 homicides so far in 2024 (to 30 June); on track for about 58 by year end
    (90% prediction interval 45 to 73), ..." with the record and low-year chances."""
    p = projection
    head = (
        f"{p.ytd_count:,} {label.lower()} so far in {p.year} (to {p.as_of:%d %B}); on track for "
        f"about {p.projected:,.0f} by year end ({p.level:.0%} prediction interval "
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
