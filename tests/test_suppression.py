"""Small-cell and complementary suppression, audited by linear programming: for random tables
and their margins, no hidden cell can be solved from what is shown."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from gvrs.analysis.suppression import MISSING, SUPPRESSED, augment, suppress_table


def _range_of_hidden_cells(result) -> dict[tuple[int, int], tuple[float, float]]:
    """Each hidden cell's least and greatest value given everything shown, the table's
    equations (every row and column of the augmented table adds up) and the bounds a reader
    knows: a primary cell lies in [1, threshold], any count is >= 0."""
    values, hidden = result.values, result.suppressed
    rows, cols = values.shape
    missing = np.isnan(values)
    unknown = [tuple(ij) for ij in np.argwhere(hidden)]
    index = {ij: k for k, ij in enumerate(unknown)}
    a_eq, b_eq = [], []
    lines = [[(i, j) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(cols)]
    for line in lines:
        coeffs = np.zeros(len(unknown))
        constant = 0.0
        for position, (i, j) in enumerate(line):
            if missing[i, j]:
                continue
            # cells minus their total = 0; the total is the last entry of the line
            sign = -1.0 if position == len(line) - 1 else 1.0
            if (i, j) in index:
                coeffs[index[(i, j)]] += sign
            else:
                constant += sign * values[i, j]
        if coeffs.any():
            a_eq.append(coeffs)
            b_eq.append(-constant)
    bounds = [(1, result.threshold) if result.primary[ij] else (0, None) for ij in unknown]
    ranges = {}
    for ij, k in index.items():
        objective = np.zeros(len(unknown))
        objective[k] = 1.0
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        assert low.status == 0 and high.status in (0, 3), (low.message, high.message)
        top = np.inf if high.status == 3 else -high.fun
        ranges[ij] = (low.fun, top)
    return ranges


def _random_table(rng) -> np.ndarray:
    rows, cols = rng.integers(1, 7, size=2)
    kind = rng.random((rows, cols))
    table = np.where(
        kind < 0.25,
        0,
        np.where(
            kind < 0.6, rng.integers(1, 11, (rows, cols)), rng.integers(11, 200, (rows, cols))
        ),
    ).astype(float)
    if rng.random() < 0.2:
        table[rng.integers(rows), rng.integers(cols)] = np.nan
    return table


@pytest.mark.parametrize("seed", range(300))
def test_no_hidden_cell_of_a_random_table_can_be_solved(seed):
    rng = np.random.default_rng(seed)
    table = _random_table(rng)
    result = suppress_table(table, threshold=10)
    filled = np.nan_to_num(result.values)
    small = ~np.isnan(result.values) & (filled >= 1) & (filled <= 10)
    assert (result.suppressed[small]).all(), "every count from 1 to 10 is hidden"
    for (i, j), (low, high) in _range_of_hidden_cells(result).items():
        assert high - low > 1e-6, f"cell {(i, j)} of\n{result.values}\nis solved as {low}"
        # The true value is one of the values a reader must consider possible.
        assert low - 1e-6 <= result.values[i, j] <= high + 1e-6


def test_a_table_without_small_counts_is_shown_whole():
    result = suppress_table([[12, 40], [25, 60]])
    assert not result.suppressed.any()
    assert result.display() == [["12", "40", "52"], ["25", "60", "85"], ["37", "100", "137"]]


def test_a_lone_small_cell_takes_three_others_with_it():
    result = suppress_table([[3, 40], [25, 60]])
    assert result.suppressed.sum() == 4
    assert result.display()[0][0] == "fewer than 11"
    assert SUPPRESSED in [label for row in result.display() for label in row]


def test_suppressed_zero_and_missing_are_three_different_things():
    result = suppress_table([[4, 30, 70], [15, 20, 60], [0, 500, np.nan]])
    labels = result.display()
    assert labels[2][0] == "0"
    assert labels[2][2] == MISSING
    assert labels[0][0] == "fewer than 11"
    assert labels[0][1] == SUPPRESSED
    assert result.cell(2, 0) == 0 and result.cell(2, 2) == MISSING
    assert result.cell(0, 0) == "fewer than 11"


def test_a_line_with_no_data_has_no_total():
    values = augment([[np.nan, 3], [np.nan, 40]])
    assert np.isnan(values[2, 0]) and values[2, 1] == 43 and values[2, 2] == 43
    assert suppress_table([[np.nan, 3], [np.nan, 40]]).display()[2][0] == MISSING


def test_margins_count_only_cells_with_data():
    assert augment([[1, np.nan], [2, 3]])[0, 2] == 1
    assert augment([[1, np.nan], [2, 3]])[2, 2] == 6


@pytest.mark.parametrize(
    ("table", "message"),
    [([[-1, 2]], "whole numbers"), ([[1.5, 2]], "whole numbers"), (np.zeros((2, 2, 2)), "two")],
)
def test_it_refuses_what_is_not_a_count_table(table, message):
    with pytest.raises(ValueError, match=message):
        suppress_table(table)


def test_the_audit_catches_a_cell_hidden_alone():
    """Primary suppression without complementary cells is solvable: the check can fail."""
    from gvrs.analysis.suppression import SuppressedTable

    values = augment([[3, 40], [25, 60]])
    primary = np.zeros_like(values, dtype=bool)
    primary[0, 0] = True
    lone = SuppressedTable(values, primary, primary.copy(), 10)
    ((low, high),) = _range_of_hidden_cells(lone).values()
    assert low == pytest.approx(3) and high == pytest.approx(3)


def test_the_solver_prints_nothing_on_standard_output():
    """HiGHS writes a banner from C++ when a process makes its first solver; a command's
    output (JSON for scripts) must stay its own."""
    import subprocess
    import sys

    code = (
        "import highspy\n"
        "from gvrs.analysis.suppression import _quiet_highs\n"
        "_quiet_highs(highspy); _quiet_highs(highspy)\n"
        "print('only this')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout == "only this\n"
