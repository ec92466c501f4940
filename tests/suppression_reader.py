"""A reader's attack on published tables, by linear programming: one unknown per hidden
cell, an equation per sum the tables state, an inequality per ordering everyone knows. Written
from what the tables mean, not from the suppression code's own equations."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linprog

THRESHOLD = 10


class Reader:
    """What a reader can write down from published tables: one unknown per hidden cell (a
    cell shown in two tables is one cell), an equation per sum the tables state, an
    inequality per ordering everyone knows."""

    def __init__(self, threshold: int = THRESHOLD) -> None:
        self.threshold = threshold
        self.unknown: dict[object, tuple[float, float]] = {}  # name -> bounds
        self.truth: dict[object, float] = {}
        self.equations: list[tuple[dict, float]] = []
        self.inequalities: list[tuple[dict, float]] = []

    def see(self, name, label: str, truth: float, within: int = 0) -> float | None:
        """Record one published label; a number is known, anything else is an unknown. A
        number on a page that perturbs its figures (``within``, docs/disclosure.md) is an
        unknown within that distance of it: 0 may be a count up to ``within``, a figure above
        0 is a count of at least 1."""
        if label == "no data":
            return None
        if label.replace(",", "").isdigit() and within:
            value = int(label.replace(",", ""))
            self.unknown[name] = (
                (0, within) if value == 0 else (max(1, value - within), value + within)
            )
            self.truth[name] = truth
            return None
        if label.replace(",", "").isdigit():
            return float(label.replace(",", ""))
        if label == f"fewer than {self.threshold + 1}":
            self.unknown[name] = (1, self.threshold)
        else:
            assert label == "suppressed", label
            self.unknown[name] = (0, None)
        self.truth[name] = truth
        return None

    def _terms(self, signed):
        coefficients, constant = {}, 0.0
        for name, sign, known in signed:
            if name in self.unknown:
                coefficients[name] = coefficients.get(name, 0.0) + sign
            elif known is not None:
                constant += sign * known
        return coefficients, constant

    def sums(self, parts, whole, known: dict) -> None:
        """sum(parts) == whole."""
        signed = [(p, 1.0, known.get(p)) for p in parts] + [(whole, -1.0, known.get(whole))]
        coefficients, constant = self._terms(signed)
        if coefficients:
            self.equations.append((coefficients, constant))

    def at_most(self, small, large, known: dict) -> None:
        coefficients, constant = self._terms(
            [(small, 1.0, known.get(small)), (large, -1.0, known.get(large))]
        )
        if coefficients:
            self.inequalities.append((coefficients, constant))

    def ranges(self) -> dict[object, tuple[float, float]]:
        names = list(self.unknown)
        at = {n: k for k, n in enumerate(names)}

        def matrix(rows):
            if not rows:
                return None, None
            a = np.zeros((len(rows), len(names)))
            for r, (coefficients, _) in enumerate(rows):
                for n, c in coefficients.items():
                    a[r, at[n]] = c
            return a, np.array([-constant for _, constant in rows])

        a_eq, b_eq = matrix(self.equations)
        a_ub, b_ub = matrix(self.inequalities)
        bounds = [self.unknown[n] for n in names]
        out = {}
        for n in names:
            c = np.zeros(len(names))
            c[at[n]] = 1
            kw = {"A_eq": a_eq, "b_eq": b_eq, "A_ub": a_ub, "b_ub": b_ub, "bounds": bounds}
            low = linprog(c, method="highs", **kw)
            high = linprog(-c, method="highs", **kw)
            assert low.status == 0 and high.status in (0, 3), (low.message, high.message)
            out[n] = (low.fun, np.inf if high.status == 3 else -high.fun)
        return out

    def assert_nothing_pinned(self) -> None:
        for name, (low, high) in self.ranges().items():
            assert high - low >= 1 - 1e-6, f"{name} is pinned to {low:g}..{high:g}"
            assert low - 1e-6 <= self.truth[name] <= high + 1e-6, (
                name,
                low,
                high,
                self.truth[name],
            )

    def assert_no_small_count_pinned(self) -> None:
        """What an insider (a partner that knows its own counts) may not do: narrow a hidden
        small count (1 to the threshold) of someone else to one value. It may work out a
        complementary cell that holds no small count."""
        for name, (low, high) in self.ranges().items():
            truth = self.truth[name]
            assert low - 1e-6 <= truth <= high + 1e-6
            if 1 <= truth <= self.threshold:
                assert high - low >= 1 - 1e-6, f"{name} ({truth:g}) is pinned to {low:g}..{high:g}"
