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


def _protect(ids: np.ndarray, values, missing, hidden, low, high, sensitive=None) -> None:
    """Put every hidden cell of one augmented table on a movable rectangle of hidden cells,
    hiding the cheapest further cells needed. ``ids`` maps the table's positions to cells of
    ``values``; ``hidden`` is updated in place (a cell hidden here is hidden in every table it
    belongs to).

    All rectangles through a cell are scored at once: the four corners' signs, whether each
    corner can move up or down within its bounds, and the cost of the corners not yet hidden,
    as (R, C) arrays over the opposite corner.

    ``sensitive``: only these hidden cells need a rectangle (an insider's audit: the small
    counts it does not know; its own cells are passed as ``missing``, so no rectangle leans
    on a cell the insider can fill in)."""
    filled = np.nan_to_num(values[ids])
    gone = missing[ids]
    lo, hi = low[ids], high[ids]
    rows, cols = ids.shape
    last_row = np.arange(rows) == rows - 1
    last_col = np.arange(cols) == cols - 1
    # A total line flips the sign: a row's equation is (cells) - (total) = 0.
    row_flip = np.where(last_row, -1.0, 1.0)
    col_flip = np.where(last_col, -1.0, 1.0)
    can_up = filled < hi
    can_down = filled > lo
    protected = np.zeros(ids.shape, dtype=bool)
    todo = np.nonzero(hidden[ids] & ~gone & (True if sensitive is None else sensitive[ids]))
    order = np.arange(rows * cols).reshape(rows, cols)
    for i, j in sorted(zip(*todo, strict=True), key=lambda ij: filled[ij]):
        if protected[i, j]:
            continue
        now = hidden[ids]
        # Signs of the corners (i, j), (i, j2), (i2, j), (i2, j2) for every (i2, j2).
        s00 = row_flip[i] * col_flip[j]
        s01 = row_flip[i] * -col_flip  # (C,)
        s10 = -row_flip * col_flip[j]  # (R,)
        s11 = np.outer(-row_flip, -col_flip)  # (R, C)

        def ok(sign, up, down):
            return np.where(sign > 0, up, down), np.where(sign > 0, down, up)

        up00, down00 = ok(s00, can_up[i, j], can_down[i, j])
        up01, down01 = ok(s01, can_up[i, :], can_down[i, :])
        up10, down10 = ok(s10, can_up[:, j], can_down[:, j])
        up11, down11 = ok(s11, can_up, can_down)
        movable = (up00 & up01[None, :] & up10[:, None] & up11) | (
            down00 & down01[None, :] & down10[:, None] & down11
        )
        valid = movable & ~gone & ~gone[i, :][None, :] & ~gone[:, j][:, None]
        valid[i, :] = False
        valid[:, j] = False
        if not valid.any():
            # No movable rectangle (only possible around missing cells): hide the whole table
            # rather than publish a solvable cell.
            hidden[ids[~gone]] = True
            return
        new00 = ~now[i, j]
        new01, new10, new11 = ~now[i, :], ~now[:, j], ~now
        # Hide as little as possible; reuse hidden cells; avoid hiding totals.
        cost = (
            filled[i, j] * new00
            + (filled[i, :] * new01)[None, :]
            + (filled[:, j] * new10)[:, None]
            + filled * new11
        )
        count = int(new00) + new01[None, :].astype(int) + new10[:, None].astype(int) + new11
        totals = last_row[:, None].astype(int) + last_col[None, :].astype(int)
        keys = (order[valid], totals[valid], count[valid], cost[valid])
        best = np.lexsort(keys)[0]
        i2, j2 = divmod(int(order[valid][best]), cols)
        r, c = (i, i2), (j, j2)
        hidden[ids[np.ix_(r, c)]] = True
        protected[np.ix_(r, c)] = True


def _bounds(values: np.ndarray, primary: np.ndarray, threshold: int):
    return np.where(primary, 1.0, 0.0), np.where(primary, float(threshold), np.inf)


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
    Giessing & Repsilber (2002). Cells with no data are never used. A table that shares cells
    or totals with other published tables needs :func:`suppress_linked` instead.

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
    flat, hidden = values.ravel(), primary.ravel().copy()
    low, high = _bounds(flat, hidden, threshold)
    ids = np.arange(flat.size).reshape(values.shape)
    _protect(ids, flat, missing.ravel(), hidden, low, high)
    return SuppressedTable(values, primary, hidden.reshape(values.shape), threshold)


# --- Linked tables -----------------------------------------------------------------------
#
# Figures published side by side are rarely independent: a table by program and a table by
# organization share their grand total, and each organization's row is the sum of its
# programs' rows; an area's count appears on the county's page and on its city's page, whose
# totals add up to the county's. Suppressing each table on its own lets a reader combine
# them: a cell hidden in one table may be shown in another, or solved there from a different
# set of complementary cells. So the tables are stacked into one system: every cell is one
# variable however many tables show it, every table adds its row and column equations, and
# orderings every reader knows (of the people identified, no more can be enrolled) add
# inequalities. Suppression is decided once, over the whole system.


@dataclass(frozen=True)
class LinkedSuppression:
    """Every cell of a set of linked tables, and which a reader may see.

    ``values``, ``primary`` and ``suppressed`` are flat arrays over all cells; ``tables``
    holds each table as an augmented array of cell indices (its last row and last column are
    its totals; a one-column table is a list of cells above its total); ``at_most`` the pairs
    (a, b) with value[a] <= value[b] known to every reader.
    """

    values: np.ndarray
    primary: np.ndarray
    suppressed: np.ndarray
    threshold: int
    tables: tuple[np.ndarray, ...]
    at_most: tuple[tuple[int, int], ...]

    def view(self, ids) -> SuppressedTable:
        """The cells ``ids`` (any shape) as a table a page shows."""
        ids = np.asarray(ids, dtype=int)
        return SuppressedTable(
            self.values[ids], self.primary[ids], self.suppressed[ids], self.threshold
        )


class LinkedTables:
    """Builder of a system of linked count tables.

    Cells are created with :meth:`cells` (or :meth:`sums` for totals computed from other
    cells) and related with :meth:`relate`; :meth:`suppress` decides what is hidden.

    Examples
    --------
    Two programs of one organization, and the organization's row shared with a table of
    organizations:

    >>> system = LinkedTables()
    >>> programs = system.cells([[4], [30]])
    >>> org = system.sums(programs, axis=0)
    >>> other = system.cells([[50]])
    >>> orgs = np.vstack([org, other])
    >>> grand = system.sums(orgs, axis=0)
    >>> system.relate(np.vstack([programs, org]), lines="columns")
    >>> system.relate(np.vstack([orgs, grand]), lines="columns")
    >>> result = system.suppress(threshold=10)
    >>> [result.view(programs).display()[k][0] for k in range(2)]
    ['fewer than 11', 'suppressed']
    """

    def __init__(self) -> None:
        self._values: list[float] = []
        self._tables: list[np.ndarray] = []
        self._at_most: list[tuple[int, int]] = []

    def cells(self, counts) -> np.ndarray:
        """New cells holding ``counts`` (NaN: no data); their indices, in the same shape."""
        counts = np.asarray(counts, dtype=float)
        known = np.nan_to_num(counts)
        if (known < 0).any() or (known != np.round(known)).any():
            raise ValueError("counts must be whole numbers >= 0")
        start = len(self._values)
        self._values.extend(counts.ravel().tolist())
        return np.arange(start, start + counts.size).reshape(counts.shape)

    def __len__(self) -> int:
        return len(self._values)

    def values(self, ids) -> np.ndarray:
        return np.asarray(self._values)[np.asarray(ids, dtype=int)]

    def sums(self, ids, axis: int) -> np.ndarray:
        """New total cells: the sums of ``ids`` along ``axis`` (cells without data not
        counted; a line with no data at all has no total either)."""
        block = self.values(ids)
        has = ~np.isnan(block)
        total = np.where(has.any(axis=axis), np.nan_to_num(block).sum(axis=axis), np.nan)
        return self.cells(total)

    def relate(self, ids, *, lines: str = "both") -> None:
        """Declare a published table: ``ids`` is augmented (last row: column totals; last
        column: row totals). ``lines="columns"`` for a table whose columns are separate
        measures (no row totals): each column adds up to its last cell."""
        ids = np.asarray(ids, dtype=int)
        if ids.ndim != 2 or ids.shape[0] < 2:
            raise ValueError("a linked table needs at least one row above its totals")
        values = self.values(ids)
        if lines == "both":
            if ids.shape[1] < 2:
                raise ValueError("a two-way table needs a column of row totals")
            tables = [ids]
        elif lines == "columns":
            # A column and its total, written as a table whose "row total" is the cell itself
            # (the rectangles then pair rows; the row equations are empty).
            tables = [np.column_stack([ids[:, j], ids[:, j]]) for j in range(ids.shape[1])]
        else:
            raise ValueError(f"lines is 'both' or 'columns', not {lines!r}")
        for table in tables:
            cells = np.nan_to_num(self.values(table)[:-1, :-1]) if lines == "both" else None
            if cells is not None:
                rows_ok = np.allclose(cells.sum(axis=1), np.nan_to_num(values[:-1, -1]))
                cols_ok = np.allclose(cells.sum(axis=0), np.nan_to_num(values[-1, :-1]))
                if not (rows_ok and cols_ok):
                    raise ValueError("a table's totals do not add up")
            else:
                column = self.values(table[:, 0])
                if not np.isclose(np.nan_to_num(column[:-1]).sum(), np.nan_to_num(column[-1])):
                    raise ValueError("a column's total does not add up")
            self._tables.append(table)

    def grouped(self, counts, group, *, additive: bool):
        """Rows of ``counts`` grouped (``group[i]``: the group of row i, numbered 0..G-1),
        published three ways: a table by row, a table by group, and each group's rows above
        the group's total. ``additive``: the columns are parts of a whole and each row has a
        total; otherwise each column is a measure of its own.

        Returns the cell indices ``(rows, groups, grand)``: shapes (R, C'), (G, C'), (C',),
        where C' is C + 1 when ``additive`` (the row totals last).
        """
        group = np.asarray(group, dtype=int)
        cells = self.cells(counts)
        if cells.ndim != 2 or cells.shape[0] != group.size or cells.shape[0] == 0:
            raise ValueError("grouped counts need one group per row and at least one row")
        if additive:
            cells = np.column_stack([cells, self.sums(cells, axis=1)])
        lines = "both" if additive else "columns"
        subtotals = []
        for g in range(group.max() + 1):
            members = cells[group == g]
            if members.shape[0] == 0:
                raise ValueError(f"group {g} has no rows")
            subtotal = self.sums(members, axis=0)
            self.relate(np.vstack([members, subtotal]), lines=lines)
            subtotals.append(subtotal)
        groups = np.vstack(subtotals)
        grand = self.sums(groups, axis=0)
        self.relate(np.vstack([groups, grand]), lines=lines)
        self.relate(np.vstack([cells, grand]), lines=lines)
        return cells, groups, grand

    def at_most(self, small, large) -> None:
        """Every reader knows value[small] <= value[large], cell by cell (e.g. enrolled
        participants never outnumber the participants identified)."""
        for a, b in zip(np.ravel(small), np.ravel(large), strict=True):
            va, vb = self._values[a], self._values[b]
            if not (np.isnan(va) or np.isnan(vb)) and va > vb:
                raise ValueError(f"cell {a} ({va:g}) is said to be at most cell {b} ({vb:g})")
            self._at_most.append((int(a), int(b)))

    def suppress(
        self, threshold: int = DEFAULT_THRESHOLD, insiders=(), private=()
    ) -> LinkedSuppression:
        """Decide what is hidden; ``insiders``: the cells each insider knows, ``private``:
        the cells each is shown alone (see :func:`suppress_linked`)."""
        return suppress_linked(
            np.asarray(self._values, dtype=float),
            self._tables,
            self._at_most,
            threshold,
            insiders,
            private,
        )


def _equations(values, hidden, tables):
    """Each line of each table as (indices of its hidden cells, their coefficients, the
    constant the shown cells contribute): sum(coef * x) + constant = 0."""
    missing = np.isnan(values)
    out = []
    for table in tables:
        for line in [*table, *table.T]:
            coefficients: dict[int, float] = {}
            constant = 0.0
            for position, k in enumerate(line):
                if missing[k]:
                    continue
                sign = -1.0 if position == len(line) - 1 else 1.0
                if hidden[k]:
                    coefficients[k] = coefficients.get(k, 0.0) + sign
                else:
                    constant += sign * values[k]
            coefficients = {k: c for k, c in coefficients.items() if c}
            if coefficients:
                out.append((coefficients, constant))
    return out


def _problems(values, hidden, primary, tables, at_most, threshold, only=None):
    """The reader's linear programs, one per group of hidden cells that share an equation or
    an inequality: yields (cells, A_eq, b_eq, A_ub, b_ub, bounds) for a
    ``_Program``."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    unknown = np.flatnonzero(hidden)
    if unknown.size == 0:
        return
    index = {int(k): n for n, k in enumerate(unknown)}
    equations = _equations(values, hidden, tables)
    inequalities = []  # (coefficients, constant): sum(coef * x) + constant <= 0
    for a, b in at_most:
        if np.isnan(values[a]) or np.isnan(values[b]):
            continue
        coefficients, constant = {}, 0.0
        for k, sign in ((a, 1.0), (b, -1.0)):
            if hidden[k]:
                coefficients[k] = coefficients.get(k, 0.0) + sign
            else:
                constant += sign * values[k]
        if coefficients:
            inequalities.append((coefficients, constant))
    heads, tails = list(range(unknown.size)), list(range(unknown.size))
    for coefficients, _ in [*equations, *inequalities]:
        members = [index[k] for k in coefficients]
        heads.extend([members[0]] * len(members))  # a star joins them as well as a clique
        tails.extend(members)
    link = coo_matrix((np.ones(len(heads)), (heads, tails)), shape=(unknown.size,) * 2)
    _, group = connected_components(link, directed=False)
    wanted = set(index) if only is None else {int(k) for k in only} & set(index)
    low_bound, high_bound = _bounds(values, np.asarray(primary), threshold)
    for g in np.unique(group[[index[k] for k in wanted]]) if wanted else []:
        members = [int(k) for k in unknown[group == g]]
        position = {k: n for n, k in enumerate(members)}

        def matrix(rows, members=members, position=position):
            if not rows:
                return None, None
            a = np.zeros((len(rows), len(members)))
            b = np.zeros(len(rows))
            for r, (coefficients, constant) in enumerate(rows):
                for k, c in coefficients.items():
                    a[r, position[k]] = c
                b[r] = -constant
            return a, b

        a_eq, b_eq = matrix([e for e in equations if next(iter(e[0])) in position])
        a_ub, b_ub = matrix([e for e in inequalities if next(iter(e[0])) in position])
        bounds = [
            (low_bound[k], None if np.isinf(high_bound[k]) else high_bound[k]) for k in members
        ]
        yield members, {"A_eq": a_eq, "b_eq": b_eq, "A_ub": a_ub, "b_ub": b_ub, "bounds": bounds}


def _quiet_highs(highspy):
    """A HiGHS solver that prints nothing. The first one a process makes writes HiGHS's banner
    to standard output from C++, before any option can be set, so it is made with file
    descriptor 1 pointed at /dev/null for that moment (a command's output stays its own:
    `gvrs report --format json` is read by scripts)."""
    import os
    import sys

    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
    return highs


class _Program:
    """One group's linear program, built once and solved for many objectives.

    HiGHS keeps its basis between solves when only the objective changes, so each further
    solve is a few simplex steps: about 0.1 ms here, against 5-6 ms for a fresh
    ``scipy.optimize.linprog`` call (which rebuilds and checks the model every time). The
    audit solves thousands of these when each partner organization is audited as an insider.
    """

    def __init__(self, problem: dict) -> None:
        import highspy

        inf = highspy.kHighsInf
        self._optimal = highspy.HighsModelStatus.kOptimal
        self._unbounded = (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        )
        self._highs = highs = _quiet_highs(highspy)
        bounds = problem["bounds"]
        n = len(bounds)
        self._n = n
        self._columns = np.arange(n, dtype=np.int32)
        lower = np.array([b[0] for b in bounds], dtype=float)
        upper = np.array([inf if b[1] is None else b[1] for b in bounds], dtype=float)
        empty_i, empty_f = np.zeros(0, dtype=np.int32), np.zeros(0)
        highs.addCols(
            n, np.zeros(n), lower, upper, 0, np.zeros(n, dtype=np.int32), empty_i, empty_f
        )
        for a, b, equal in (
            (problem["A_eq"], problem["b_eq"], True),
            (problem["A_ub"], problem["b_ub"], False),
        ):
            if a is None:
                continue
            rows, cols = np.nonzero(a)
            starts = np.searchsorted(rows, np.arange(a.shape[0])).astype(np.int32)
            low = b if equal else np.full(len(b), -inf)
            highs.addRows(
                a.shape[0], low, b, rows.size, starts, cols.astype(np.int32), a[rows, cols]
            )
        status = self._run(np.zeros(n))
        if status != self._optimal:
            raise ValueError(
                "the published figures are inconsistent: "
                + highs.modelStatusToString(highs.getModelStatus())
            )

    def _run(self, objective):
        highs = self._highs
        highs.changeColsCost(self._n, self._columns, np.asarray(objective, dtype=float))
        highs.run()
        status = highs.getModelStatus()
        if status != self._optimal and status not in self._unbounded:
            # A warm start from an unbounded ray can leave the simplex undecided: start over.
            highs.clearSolver()
            highs.run()
            status = highs.getModelStatus()
        return status

    def minimum(self, objective) -> tuple[float, np.ndarray | None]:
        """The least value of ``objective @ x`` and a solution; -inf (no solution) when the
        objective has no lower bound."""
        status = self._run(objective)
        if status in self._unbounded:
            return -np.inf, None
        if status != self._optimal:
            raise ValueError(
                "the reader's program could not be solved: "
                + self._highs.modelStatusToString(status)
            )
        solution = np.asarray(self._highs.getSolution().col_value)
        return float(np.dot(objective, solution)), solution

    def range_of(self, n: int) -> tuple[float, float]:
        """Variable ``n``'s least and greatest value."""
        objective = np.zeros(self._n)
        objective[n] = 1.0
        least, _ = self.minimum(objective)
        most, _ = self.minimum(-objective)
        return least, -most


def feasible_ranges(
    values, suppressed, primary, tables, at_most=(), threshold: int = DEFAULT_THRESHOLD, only=None
) -> dict[int, tuple[float, float]]:
    """Each hidden cell's least and greatest value given everything shown, every table's
    equations, the orderings in ``at_most`` and the bounds a reader knows (a primary cell lies
    in [1, threshold], any count is >= 0).

    Notes
    -----
    The audit by linear programming of Cox (1980), solved with HiGHS (``highspy``); the
    hidden cells are split into independent groups (cells
    that share no equation) and each group is solved on its own.
    """
    values = np.asarray(values, dtype=float)
    hidden = np.asarray(suppressed) & ~np.isnan(values)
    wanted = None if only is None else {int(k) for k in only}
    ranges: dict[int, tuple[float, float]] = {}
    for members, problem in _problems(values, hidden, primary, tables, at_most, threshold, only):
        program = _Program(problem)
        for n, k in enumerate(members):
            if wanted is not None and k not in wanted:
                continue
            ranges[k] = program.range_of(n)
    return ranges


def _exposed(values, hidden, primary, tables, at_most, threshold, only=None) -> list[int]:
    """The hidden cells (of ``only``, if given) a reader can pin. Cheap first: a few
    solutions of the reader's programs in random directions; a cell seen at two values at
    least 1 apart is free and needs no program of its own. Only the rest get their exact
    least and greatest values."""
    rng = np.random.default_rng(0)
    pinned = []
    wanted = None if only is None else set(np.flatnonzero(only).tolist())
    for members, problem in _problems(
        values, hidden, primary, tables, at_most, threshold, None if only is None else wanted
    ):
        size = len(members)
        seen_low = np.full(size, np.inf)
        seen_high = np.full(size, -np.inf)
        objectives = [np.ones(size), -np.ones(size)]
        objectives += [rng.choice([-1.0, 1.0], size) for _ in range(6)]
        program = _Program(problem)
        for objective in objectives:
            _, solution = program.minimum(objective)
            if solution is not None:
                seen_low = np.minimum(seen_low, solution)
                seen_high = np.maximum(seen_high, solution)
        for n, k in enumerate(members):
            if seen_high[n] - seen_low[n] >= 1 - 1e-7 or (wanted is not None and k not in wanted):
                continue
            if _pinned(k, *program.range_of(n), primary, threshold):
                pinned.append(k)
    return pinned


def _pinned(k: int, low: float, high: float, primary, threshold: int) -> bool:
    """Whether a reader can narrow a hidden cell to one value. A primary cell's label already
    gives [1, threshold]; with a threshold of 1 it gives the value itself."""
    room = min(1.0, threshold - 1.0) if primary[k] else 1.0
    return high - low < room - 1e-7


def _nearest_free(k: int, neighbours: dict, taken: np.ndarray, through: np.ndarray) -> list[int]:
    """The cells nearest ``k`` that could still be hidden: its neighbours, or when every one
    is hidden or known to the reader, the neighbours of the hidden cells it shares lines with,
    and so on (a hidden cell of another organization's row can protect ``k`` only through the
    lines that join them)."""
    seen, layer = {k}, [k]
    while layer:
        reached = {m for c in layer for m in neighbours.get(c, ()) if m not in seen}
        free = [m for m in reached if not taken[m]]
        if free:
            return free
        seen |= reached
        layer = [m for m in reached if through[m]]
    return []


@dataclass(frozen=True)
class _Reader:
    """One reader of the published system: the cells it knows whatever is shown, the cells it
    is shown at all, and so the tables and orderings it can write down."""

    known: np.ndarray
    visible: np.ndarray
    tables: tuple[np.ndarray, ...]
    at_most: tuple[tuple[int, int], ...]
    insider: bool

    @classmethod
    def of(cls, size, tables, at_most, known=(), private=None, mine=()) -> _Reader:
        knows = np.zeros(size, dtype=bool)
        knows[np.asarray(known, dtype=int).ravel()] = True
        visible = np.ones(size, dtype=bool)
        if private is not None:
            visible &= ~private
            visible[np.asarray(mine, dtype=int).ravel()] = True
        return cls(
            knows,
            visible,
            tuple(t for t in tables if visible[t].all()),
            tuple((a, b) for a, b in at_most if visible[a] and visible[b]),
            len(known) > 0,
        )


def suppress_linked(
    values, tables, at_most=(), threshold: int = DEFAULT_THRESHOLD, insiders=(), private=()
) -> LinkedSuppression:
    """Hide small counts across a system of linked tables so that no hidden cell can be
    worked out from everything the tables publish together.

    Parameters
    ----------
    values : array-like, shape (n,)
        Every cell of every table (NaN: no data).
    tables : sequence of int arrays
        Each an augmented table of cell indices (last row and column: totals).
    at_most : sequence of (int, int)
        Pairs (a, b) with value[a] <= value[b], known to every reader.
    threshold : int
        Counts from 1 to ``threshold`` are hidden.
    insiders : sequence of int arrays
        For each reader who knows some cells exactly whether shown or not (a partner
        organization knows its own programs' counts), the cells it knows. The audit is run
        for the outside reader and again for each insider, with the insider's cells as if
        shown; the small counts an insider does not know are put on rectangles of cells it
        does not know either, and one it can still pin gets such a cell hidden beside it.
    private : sequence of int arrays
        Aligned with ``insiders``: cells shown to that insider alone (a partner's "all the
        other partners" row). No other reader can write down a table holding one of them.

    Returns
    -------
    LinkedSuppression

    Notes
    -----
    Primary suppression, then the rectangles of Giessing & Repsilber (2002) table by table,
    repeated until no table hides a further cell (a cell hidden in one table is hidden in
    every table that shows it); then the linear-programming audit of Cox (1980) over the whole
    stacked system, equations and orderings together, for each reader. A cell the audit finds
    pinned gets a neighbour hidden (a cell it shares a line or an ordering with, the smallest
    first, or the nearest such cell beyond hidden ones) and the rounds repeat until the audit
    passes for every reader.

    Examples
    --------
    >>> r = suppress_linked([3, 40, 43], [np.array([[0, 0], [1, 1], [2, 2]])])
    >>> r.suppressed.tolist()  # 3 and 40 hidden, their total shown
    [True, True, False]
    """
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    values = np.asarray(values, dtype=float)
    tables = tuple(np.asarray(t, dtype=int) for t in tables)
    at_most = tuple((int(a), int(b)) for a, b in at_most)
    missing = np.isnan(values)
    filled = np.nan_to_num(values)
    primary = ~missing & (filled >= 1) & (filled <= threshold)
    hidden = primary.copy()
    # Cells labelled "fewer than N" (the label tells every reader 1..threshold). A small count
    # stays hidden whatever its label; see the repair below for when it loses the label.
    labelled = primary.copy()
    low, high = _bounds(values, primary, threshold)
    totals = np.zeros(values.size, dtype=bool)
    for table in tables:
        totals[table[-1, :]] = True
        if table.shape[1] > 2 or (table[:, 0] != table[:, 1]).any():  # not a lone column
            totals[table[:, -1]] = True
    neighbours: dict[int, set[int]] = {}
    for table in tables:
        for line in [*table, *table.T]:
            for k in line:
                neighbours.setdefault(int(k), set()).update(int(m) for m in line)
    for a, b in at_most:
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    if private and len(private) != len(insiders):
        raise ValueError("private cells are given per insider")
    hidden_from = None
    if private:
        hidden_from = np.zeros(values.size, dtype=bool)
        for cells in private:
            hidden_from[np.asarray(cells, dtype=int).ravel()] = True
    readers = [_Reader.of(values.size, tables, at_most, private=hidden_from)]
    for n, cells in enumerate(insiders):
        mine = private[n] if private else ()
        readers.append(_Reader.of(values.size, tables, at_most, cells, hidden_from, mine))

    def _still_pinned(k: int, hidden: np.ndarray, reader: _Reader, also: int | None) -> bool:
        """Whether cell ``k`` is pinned for ``reader``, with cell ``also`` hidden too (a
        probe)."""
        trial = hidden & ~reader.known
        if also is not None:
            trial[also] = True
        lo, hi = feasible_ranges(
            values, trial, labelled, reader.tables, reader.at_most, threshold, [k]
        )[k]
        return _pinned(k, lo, hi, labelled, threshold)

    for _ in range(values.size + 1):
        while True:
            before = hidden.sum()
            for table in tables:
                _protect(table, values, missing, hidden, low, high)
            # Each insider's small counts it does not know, on rectangles of cells it does not
            # know either (another organization's rows and the totals).
            for reader in readers[1:]:
                for table in reader.tables:
                    _protect(
                        table,
                        values,
                        missing | reader.known,
                        hidden,
                        low,
                        high,
                        primary & ~reader.known,
                    )
            if hidden.sum() == before:
                break
        # Repair every pinned cell of this round before auditing again (an audit of a large
        # system costs more than a few probes); a cell that an earlier repair of the round
        # already freed is left as it is.
        audited, repaired = False, False
        for reader in readers:
            # The outside reader may pin no hidden cell it is shown; an insider no small
            # count it does not know (a complementary cell it can work out, say another
            # partner's 40 services, is not a count of fewer than 11 people).
            wanted = reader.visible & (primary & ~reader.known if reader.insider else True)
            exposed = _exposed(
                values,
                hidden & ~missing & ~reader.known & reader.visible,
                labelled,
                reader.tables,
                reader.at_most,
                threshold,
                wanted,
            )
            if not exposed:
                continue
            audited = True
            for k in exposed:
                if not _still_pinned(k, hidden, reader, None):
                    continue
                taken = hidden | missing | reader.known | ~reader.visible
                through = hidden & ~reader.known & reader.visible
                candidates = sorted(
                    _nearest_free(k, neighbours, taken, through),
                    key=lambda m: (bool(totals[m]), filled[m], m),
                )
                if not candidates or (
                    reader.insider
                    and all(_still_pinned(k, hidden, reader, m) for m in candidates[:4])
                ):
                    if reader.insider and labelled[k]:
                        # An organization holding all but a few of a small total: its own part
                        # and the label's "at most 10" pin the rest, however much else is
                        # hidden. The total then reads "suppressed", which bounds nothing.
                        labelled[k] = False
                        repaired = True
                        continue
                    if not candidates:
                        continue
                chosen = next(
                    (m for m in candidates[:4] if not _still_pinned(k, hidden, reader, m)),
                    None,
                )
                hidden[candidates[0] if chosen is None else chosen] = True
                repaired = True
        if not audited:
            break
        if not repaired:
            # Nothing left to hide next to a pinned cell: hide everything rather than publish it.
            hidden[~missing] = True
            break
    return LinkedSuppression(values, labelled, hidden, threshold, tables, at_most)
