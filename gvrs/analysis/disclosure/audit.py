"""Whether a hidden figure can be worked out from what a publication shows.

``gvrs.analysis.suppression`` hides the cells of one table and its margins so that none can be
solved from that table. A publication often shows more: a count for "the same months last
year" is a sum of some cells of the monthly table, a sentence gives a bound ("fewer than 11").
Each extra figure is one more linear relation a reader can use. This module audits the whole
publication at once: the unknowns are the table's hidden entries, the relations are the
table's rows and columns plus every extra figure, and each hidden entry's least and greatest
value is found by linear programming. An entry whose least and greatest values coincide is
disclosed; a publisher must hide more before printing.

Notes
-----
The audit is the one described by Cox (1980), "Suppression methodology and statistical
disclosure control", JASA 75(370): minimise and maximise each suppressed cell subject to the
published table. Solved with HiGHS through ``scipy.optimize.linprog``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from gvrs.analysis.suppression import SuppressedTable

PINNED_WIDTH = 0.5  # an entry whose range is narrower than this is known to the reader


@dataclass(frozen=True)
class ExtraFigure:
    """A figure published beside the table: the sum of some of its inner cells.

    ``cells`` is a boolean mask of the inner (R x C) table; ``low``..``high`` is what the
    publication says of the sum: equal bounds for a number shown, (1, threshold) for
    "fewer than N", (0, inf) for a figure shown as "suppressed".
    """

    cells: np.ndarray
    low: float
    high: float


def hidden_ranges(
    table: SuppressedTable, extras: list[ExtraFigure] = ()
) -> dict[tuple[int, int], tuple[float, float]]:
    """The least and greatest value each hidden entry of ``table`` may take, given everything
    shown: the table's other entries, its row and column equations, the bounds every reader
    knows (a "fewer than N" entry lies in [1, threshold], every count is >= 0) and the
    ``extras``.

    Parameters
    ----------
    table : SuppressedTable
        The augmented table with its masks.
    extras : list of ExtraFigure
        Figures published beside it, each a sum of inner cells.

    Returns
    -------
    dict
        (row, column) of the augmented table -> (least, greatest); ``inf`` when unbounded.

    Examples
    --------
    >>> from gvrs.analysis.suppression import suppress_table
    >>> t = suppress_table([[3, 40], [25, 60]])
    >>> hidden_ranges(t)[(0, 0)]
    (1.0, 10.0)
    """
    values, hidden = table.values, table.suppressed
    rows, cols = values.shape
    missing = np.isnan(values)
    unknown = [tuple(int(x) for x in ij) for ij in np.argwhere(hidden & ~missing)]
    if not unknown:
        return {}
    index = {ij: k for k, ij in enumerate(unknown)}
    a_eq, b_eq, a_ub, b_ub = [], [], [], []

    def line(entries: list[tuple[int, int, float]]) -> tuple[np.ndarray, float]:
        coeffs, constant = np.zeros(len(unknown)), 0.0
        for i, j, sign in entries:
            if missing[i, j]:
                continue
            if (i, j) in index:
                coeffs[index[(i, j)]] += sign
            else:
                constant += sign * values[i, j]
        return coeffs, constant

    # Each row and column of the augmented table: its cells minus its total equal zero.
    lines = [[(i, j, -1.0 if j == cols - 1 else 1.0) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j, -1.0 if i == rows - 1 else 1.0) for i in range(rows)] for j in range(cols)]
    for entries in lines:
        coeffs, constant = line(entries)
        if coeffs.any():
            a_eq.append(coeffs)
            b_eq.append(-constant)
    for extra in extras:
        entries = [(int(i), int(j), 1.0) for i, j in np.argwhere(extra.cells)]
        coeffs, constant = line(entries)
        if not coeffs.any():
            continue
        if extra.low == extra.high:
            a_eq.append(coeffs)
            b_eq.append(extra.low - constant)
            continue
        if extra.low > 0:
            a_ub.append(-coeffs)
            b_ub.append(constant - extra.low)
        if np.isfinite(extra.high):
            a_ub.append(coeffs)
            b_ub.append(extra.high - constant)
    bounds = [(1, table.threshold) if table.primary[ij] else (0, None) for ij in unknown]
    kwargs = {
        "A_eq": np.array(a_eq) if a_eq else None,
        "b_eq": np.array(b_eq) if b_eq else None,
        "A_ub": np.array(a_ub) if a_ub else None,
        "b_ub": np.array(b_ub) if b_ub else None,
        "bounds": bounds,
        "method": "highs",
    }
    ranges = {}
    for ij, k in index.items():
        objective = np.zeros(len(unknown))
        objective[k] = 1.0
        low = linprog(objective, **kwargs)
        high = linprog(-objective, **kwargs)
        if low.status != 0 or high.status not in (0, 3):
            raise ValueError(f"the published figures contradict each other: {low.message}")
        ranges[ij] = (float(low.fun), np.inf if high.status == 3 else float(-high.fun))
    return ranges


def disclosed(table: SuppressedTable, extras: list[ExtraFigure] = ()) -> list[tuple[int, int]]:
    """Hidden entries a reader can work out exactly from what is shown (none, when safe).

    Examples
    --------
    >>> from gvrs.analysis.suppression import suppress_table
    >>> import numpy as np
    >>> t = suppress_table([[3, 40, 22], [25, 60, 30]])
    >>> t.display()[0]
    ['fewer than 11', '40', 'suppressed', '65']
    >>> disclosed(t)
    []
    >>> two_months = np.array([[True, True, False], [False, False, False]])
    >>> disclosed(t, [ExtraFigure(two_months, 43, 43)])  # 3 + 40 shown: 3 is solved
    [(0, 0), (0, 2), (1, 0), (1, 2)]
    """
    return [
        ij for ij, (low, high) in hidden_ranges(table, extras).items() if high - low < PINNED_WIDTH
    ]
