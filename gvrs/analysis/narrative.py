"""Plain-English sentences for results, each with its numbers and its caveat.

The statistics policy (DESIGN.md): every change is shown with the counts behind it, and a
change that an exact test cannot tell from ordinary variation says so in the same sentence.
"""

from __future__ import annotations

from gvrs.analysis.inference import CountComparison

EVIDENCE_THRESHOLD = 0.05


def format_p(p_value: float) -> str:
    """ "p = 0.033", "p = 0.25", "p < 0.001": two significant digits, never "p = 0"."""
    if p_value < 0.001:
        return "p < 0.001"
    shown = f"{p_value:.2g}" if p_value < 0.1 else f"{p_value:.2f}".rstrip("0").rstrip(".")
    return f"p = {shown}"


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
    elif comparison.change_pct is None:
        head = f"{label} rose from 0 in {period_a} to {b:,} in {period_b}"
    else:
        verb = "fell" if b < a else "rose"
        head = (
            f"{label} {verb} {abs(comparison.change_pct):.0f}%, "
            f"from {a:,} in {period_a} to {b:,} in {period_b}"
        )
    if comparison.p_value < threshold:
        return f"{head} (exact test {p})."
    size = "small" if abs(b - a) < 5 else "size"
    return f"{head}; a change this {size} is within ordinary year-to-year variation ({p})."
