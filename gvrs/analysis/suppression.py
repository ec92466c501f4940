"""Small-cell and complementary suppression of count tables published with their margins.

A table of counts is published with its row totals, column totals and grand total. Counts from
1 to ``threshold`` are hidden (primary suppression: "fewer than 11" for the default threshold
of 10); zero is shown, because a zero identifies nobody. Hiding a cell is not enough when the
totals are shown: a lone hidden cell in a row is its total minus the rest. Complementary
suppression hides further cells until no hidden cell can be solved from what is shown.

The check is exact for the linear relations a table and its margins carry. Think of the table
with its margins as an (R+1) x (C+1) array whose last row and column are the totals. Every row
and every column of that array is one linear equation. A hidden cell is safe when the shown
values, the equations and the bounds every reader knows (a primary cell lies in
[1, threshold], any count is >= 0) still allow it more than one value. That holds when the cell
lies on a cycle of hidden cells along which the values can move by +d/-d without crossing a
bound. For every primary cell we hide, if needed, the cheapest rectangle (two rows, two
columns of the augmented array) through it that can move; every hidden cell then lies on such
a rectangle, and hiding more cells only widens what the others may be. The test suite checks
the result independently by linear programming (scipy): each hidden cell's minimum and maximum
subject to everything shown differ.

Missing cells (NaN, "no data") are neither zero nor suppressed: margins add the cells that
have data, and a missing cell takes no part in the equations.

Notes
-----
Cell suppression with rectangles ("hypercube method") follows Giessing & Repsilber (2002),
"Tools and strategies to protect multiple tables with the GHQUAR cell suppression engine";
the audit by linear programming is the one described by Cox (1980), "Suppression methodology
and statistical disclosure control", JASA 75(370).

Examples
--------
>>> t = suppress_table([[3, 40], [25, 60]])
>>> t.display()[0][0], t.display()[0][1]
('fewer than 11', 'suppressed')
>>> t.display()[2][2]  # the grand total is shown
'128'
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD = 10
SUPPRESSED = "suppressed"
MISSING = "no data"


@dataclass(frozen=True)
class SuppressedTable:
    """A count table with its margins, and which cells a reader may see.

    ``values`` is the augmented (R+1) x (C+1) array: the cells, each row's total in the last
    column, each column's total in the last row, the grand total in the corner; NaN where a
    cell has no data. ``primary`` marks cells hidden because they are small, ``suppressed``
    every hidden cell (primary and complementary).
    """

    values: np.ndarray
    primary: np.ndarray
    suppressed: np.ndarray
    threshold: int

    @property
    def missing(self) -> np.ndarray:
        return np.isnan(self.values)

    def shown(self) -> np.ndarray:
        """The values a reader may see: NaN where hidden or missing."""
        return np.where(self.suppressed, np.nan, self.values)

    def label(self, i: int, j: int) -> str:
        """What a reader sees in one cell: the count, "fewer than N", "suppressed" or "no data"."""
        if self.missing[i, j]:
            return MISSING
        if self.primary[i, j]:
            return f"fewer than {self.threshold + 1}"
        if self.suppressed[i, j]:
            return SUPPRESSED
        return f"{int(self.values[i, j]):,}"

    def display(self) -> list[list[str]]:
        rows, cols = self.values.shape
        return [[self.label(i, j) for j in range(cols)] for i in range(rows)]

    def cell(self, i: int, j: int) -> int | str:
        """One cell for machine-readable output: an int, or the label of why it is not one."""
        if self.missing[i, j] or self.suppressed[i, j]:
            return self.label(i, j)
        return int(self.values[i, j])


def augment(table: np.ndarray) -> np.ndarray:
    """The table with its row totals, column totals and grand total (NaN cells not counted)."""
    cells = np.asarray(table, dtype=float)
    if cells.ndim == 1:
        cells = cells[:, None]
    if cells.ndim != 2:
        raise ValueError(f"a count table has one or two dimensions, not {cells.ndim}")
    known = np.nan_to_num(cells)
    if (known < 0).any() or (known != np.round(known)).any():
        raise ValueError("counts must be whole numbers >= 0")
    rows, cols = cells.shape
    has = ~np.isnan(cells)
    out = np.empty((rows + 1, cols + 1))
    out[:rows, :cols] = cells
    # A line with no data at all has no total either ("no data", never 0).
    out[:rows, cols] = np.where(has.any(axis=1), known.sum(axis=1), np.nan)
    out[rows, :cols] = np.where(has.any(axis=0), known.sum(axis=0), np.nan)
    out[rows, cols] = known.sum() if has.any() else np.nan
    return out


def _direction(shape: tuple[int, int], r: tuple[int, int], c: tuple[int, int]) -> np.ndarray:
    """Signs (+1/-1) of the four cells of rectangle rows ``r`` x columns ``c`` along which the
    augmented table's equations stay satisfied: a row's equation is (cells) - (total) = 0, so
    a total line flips the sign."""
    rows, cols = shape
    a = np.array([1.0, -1.0]) * np.where(np.array(r) == rows - 1, -1.0, 1.0)
    b = np.array([1.0, -1.0]) * np.where(np.array(c) == cols - 1, -1.0, 1.0)
    return np.outer(a, b)


def _can_move(values, low, high, r, c) -> bool:
    """Whether the rectangle's four values can move a little one way or the other without
    leaving their bounds."""
    sign = _direction(values.shape, r, c)
    block = values[np.ix_(r, c)]
    lo, hi = low[np.ix_(r, c)], high[np.ix_(r, c)]
    up = np.all(np.where(sign < 0, block > lo, block < hi))
    down = np.all(np.where(sign > 0, block > lo, block < hi))
    return bool(up or down)


def suppress_table(table, threshold: int = DEFAULT_THRESHOLD) -> SuppressedTable:
    """Hide small counts and enough other cells that none of them can be worked out.

    Parameters
    ----------
    table : array-like of int, shape (R, C) or (R,)
        Counts; NaN where there are no data. Margins are added here.
    threshold : int
        Counts from 1 to ``threshold`` are hidden (default 10: "fewer than 11").

    Returns
    -------
    SuppressedTable
        The augmented table and its masks.

    Notes
    -----
    Primary suppression of counts in [1, threshold], then for each primary cell not yet on a
    movable cycle, the rectangle through it that hides the least (sum of newly hidden counts),
    Giessing & Repsilber (2002). Cells with no data are never used.

    Examples
    --------
    >>> suppress_table([5, 30, 40]).display()[0]
    ['fewer than 11', 'fewer than 11']
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    values = augment(table)
    missing = np.isnan(values)
    filled = np.nan_to_num(values)
    primary = ~missing & (filled >= 1) & (filled <= threshold)
    suppressed = primary.copy()
    low = np.where(primary, 1.0, 0.0)
    high = np.where(primary, float(threshold), np.inf)
    rows, cols = values.shape
    protected = np.zeros_like(primary)
    for i, j in sorted(zip(*np.nonzero(primary), strict=True), key=lambda ij: filled[ij]):
        if protected[i, j]:
            continue
        best = None
        for i2 in range(rows):
            if i2 == i:
                continue
            for j2 in range(cols):
                if j2 == j:
                    continue
                r, c = (i, i2), (j, j2)
                if missing[np.ix_(r, c)].any() or not _can_move(filled, low, high, r, c):
                    continue
                block = filled[np.ix_(r, c)]
                new = ~suppressed[np.ix_(r, c)]
                # Hide as little as possible; reuse hidden cells; avoid hiding totals.
                cost = (block[new].sum(), new.sum(), int(i2 == rows - 1) + int(j2 == cols - 1))
                if best is None or cost < best[0]:
                    best = (cost, r, c)
        if best is None:
            # No movable rectangle (only possible around missing cells): hide the whole table
            # rather than publish a solvable cell.
            suppressed[~missing] = True
            break
        _, r, c = best
        suppressed[np.ix_(r, c)] = True
        protected[np.ix_(r, c)] = True
    return SuppressedTable(values, primary, suppressed, threshold)
