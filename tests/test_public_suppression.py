"""The public page's suppression, audited from the outside: random towns are published, the
CSV is read as a stranger would read it, and every linear relation the page implies (rows and
columns adding up, last year's same months, rates, breakdowns adding up to the year) goes into
a linear program. For each hidden figure its least and greatest possible value, given all that
is published, must differ by at least one: not even the hidden perturbed figure can be pinned
(and the count behind it is further hidden by the perturbation). The true counts are kept
beside the data, so the test also checks every shown number is within the perturbation of its
count and no small figure is shown."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pytest
from scipy.optimize import linprog

from gvrs.analysis.disclosure import ExtraFigure, disclosed, hidden_ranges
from gvrs.analysis.suppression import suppress_table
from tests.public_helpers import make_random_town, read_csv, table_of

pytestmark = pytest.mark.django_db
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
THRESHOLD = 10
CAP = 5  # the perturbation table's largest offset


class Published:
    """The unknowns a reader faces (every hidden figure of the CSV) and what binds them."""

    def __init__(self) -> None:
        self.names: dict[tuple, int] = {}
        self.bounds: list[tuple[float, float | None]] = []
        self.a_eq: list[dict[int, float]] = []
        self.b_eq: list[float] = []
        self.a_ub: list[dict[int, float]] = []
        self.b_ub: list[float] = []
        self.known: dict[tuple, float] = {}

    def figure(self, name: tuple, text: str) -> None:
        if text == "no data":
            return
        if re.fullmatch(r"\d+", text):
            self.known[name] = float(text)
            return
        assert text in (f"fewer than {THRESHOLD + 1}", "suppressed"), (name, text)
        self.names[name] = len(self.bounds)
        self.bounds.append((1, THRESHOLD) if text.startswith("fewer") else (0, None))

    def has(self, name: tuple) -> bool:
        return name in self.names or name in self.known

    def sum_equals(self, parts: list[tuple], total: tuple) -> None:
        """sum(parts) - total = 0, over figures that exist."""
        row, constant = {}, 0.0
        for name, sign in [(p, 1.0) for p in parts if self.has(p)] + [(total, -1.0)]:
            if name in self.known:
                constant += sign * self.known[name]
            else:
                row[self.names[name]] = row.get(self.names[name], 0.0) + sign
        if row:
            self.a_eq.append(row)
            self.b_eq.append(-constant)
        else:
            assert abs(constant) < 1e-9, f"published figures disagree: {parts} vs {total}"

    def between(self, name: tuple, low: float, high: float) -> None:
        if name in self.known:
            assert low - 1e-9 <= self.known[name] <= high + 1e-9
            return
        self.a_ub.append({self.names[name]: 1.0})
        self.b_ub.append(high)
        self.a_ub.append({self.names[name]: -1.0})
        self.b_ub.append(-low)

    def ranges(self) -> dict[tuple, tuple[float, float]]:
        n = len(self.bounds)

        def dense(rows):
            out = np.zeros((len(rows), n))
            for i, row in enumerate(rows):
                for k, v in row.items():
                    out[i, k] = v
            return out

        kwargs = {"bounds": self.bounds, "method": "highs"}
        if self.a_eq:
            kwargs |= {"A_eq": dense(self.a_eq), "b_eq": self.b_eq}
        if self.a_ub:
            kwargs |= {"A_ub": dense(self.a_ub), "b_ub": self.b_ub}
        out = {}
        for name, k in self.names.items():
            c = np.zeros(n)
            c[k] = 1
            low, high = linprog(c, **kwargs), linprog(-c, **kwargs)
            assert low.status == 0 and high.status in (0, 3), (low.message, high.message)
            out[name] = (low.fun, np.inf if high.status == 3 else -high.fun)
        return out


def _reader_view(rows: list[dict[str, str]]) -> Published:
    """Everything the CSV says, as equations and bounds over its hidden figures."""
    seen = Published()
    months = table_of(rows, "months")
    years = [r for r, c in months if c == "Total" and not r.startswith("All years")]
    everything = next(r for r, c in months if r.startswith("All years"))
    for (row, column), text in months.items():
        seen.figure(("months", row, column), text)
    for row in [*years, everything]:
        seen.sum_equals([("months", row, m) for m in MONTHS], ("months", row, "Total"))
    for column in [*MONTHS, "Total"]:
        seen.sum_equals([("months", y, column) for y in years], ("months", everything, column))
    by_year = {y.split(" ")[0]: y for y in years}
    for (row, _), text in table_of(rows, "year_to_date").items():
        seen.figure(("ytd", row), text)
        span, year = row.rsplit(" ", 1)
        if "–" in span:
            a, b = span.split("–")
            parts = [
                ("months", by_year[year], m) for m in MONTHS[MONTHS.index(a) : MONTHS.index(b) + 1]
            ]
        else:
            parts = [("months", by_year[year], "Total")]
        seen.sum_equals(parts, ("ytd", row))
    rates = table_of(rows, "rates")
    for (year, column), text in rates.items():
        if column == "Count":
            seen.figure(("rate-count", year), text)
            seen.sum_equals([("months", year, "Total")], ("rate-count", year))
        if column == "Per 100,000" and text != "suppressed":
            population = float(rates[(year, "Population")])
            rate = float(text.replace(",", ""))
            # A rate rounded to 0.1 bounds its count.
            seen.between(
                ("rate-count", year),
                (rate - 0.05) * population / 1e5,
                (rate + 0.05) * population / 1e5,
            )
    areas = table_of(rows, "areas")
    year = next(iter({column for _, column in areas}), None)
    for key in ("areas", "age_group", "sex", "race"):
        table = table_of(rows, key)
        if not table:
            continue
        for (row, _), text in table.items():
            seen.figure((key, row), text)
        seen.sum_equals([(key, r) for r, _ in table if r != "Total"], (key, "Total"))
        # A breakdown adds up to the year's total, unless its parts' figures add up to more
        # (each is moved on its own): then it shows its own total, a different number.
        own = seen.known.get((key, "Total"))
        if own is None or own == seen.known.get(("months", year, "Total")):
            seen.sum_equals([(key, "Total")], ("months", year, "Total"))
    return seen


def _true_value(name: tuple, truth, breakdown_year: int) -> int:
    kind = name[0]
    if kind == "months":
        _, row, column = name
        if row.startswith("All years"):
            pairs = [
                (y, m) for (y, m) in truth.months if column == "Total" or MONTHS[m - 1] == column
            ]
            return sum(truth.months[p] for p in pairs if p in _published_months(truth))
        year = int(row.split(" ")[0])
        if column == "Total":
            return sum(
                n
                for (y, m), n in truth.months.items()
                if y == year and (y, m) in _published_months(truth)
            )
        return truth.months[(year, MONTHS.index(column) + 1)]
    if kind in ("ytd",):
        span, year = name[1].rsplit(" ", 1)
        a, b = span.split("–") if "–" in span else ("Jan", "Dec")
        return sum(
            truth.months[(int(year), m)] for m in range(MONTHS.index(a) + 1, MONTHS.index(b) + 2)
        )
    if kind == "rate-count":
        return sum(n for (y, _), n in truth.months.items() if y == int(name[1]))
    source = {
        "areas": truth.areas,
        "age_group": truth.ages,
        "sex": truth.sexes,
        "race": truth.races,
    }
    counts = source[kind][breakdown_year]
    return sum(counts.values()) if name[1] == "Total" else counts[name[1]]


def _published_months(truth) -> set:
    # The fixture's coverage ends on 20 August 2023: August is not a whole month.
    return {(y, m) for y in range(2021, 2024) for m in range(1, 13) if (y, m) < (2023, 8)}


@pytest.mark.parametrize("seed", range(8))
def test_no_hidden_figure_of_a_random_town_can_be_pinned(client, seed):
    town, truth = make_random_town(seed)
    response = client.get(f"/public/{town.slug}/data.csv")
    assert response.status_code == 200
    rows = read_csv(response.content)
    breakdown = [r for r in rows if r["table"] == "areas"]
    year = int(breakdown[0]["column"]) if breakdown else None
    seen = _reader_view(rows)
    assert seen.names, "random small counts leave something to hide"
    for name, value in seen.known.items():
        true = _true_value(name, truth, year)
        # Every figure is perturbed (docs/disclosure.md): a month, a whole year or a part of
        # a year's breakdown within CAP of its count, a sum of them within CAP of each part.
        assert abs(value - true) <= _tolerance(name), f"{name} shows {value}, the data hold {true}"
        assert not 1 <= value <= THRESHOLD, f"{name} shows a small figure {value}"
    for name, (low, high) in seen.ranges().items():
        # Hidden figures are perturbed figures: not even those can be pinned.
        assert high - low >= 1 - 1e-6, f"{name} is pinned to {low} by what the page publishes"
        if seen.bounds[seen.names[name]] == (1, THRESHOLD):
            true = _true_value(name, truth, year)
            assert 1 <= true <= THRESHOLD + CAP, (name, true)


def _tolerance(name: tuple) -> int:
    """How far a shown figure may be from its count: CAP for one perturbed figure (a month,
    a whole year, a part of a year's breakdown), CAP per month for sums of months."""
    if name[0] == "months" and (name[1].startswith("All years") or "(" in name[1]):
        return CAP * 12 * 3 if name[2] == "Total" or name[1].startswith("All") else CAP
    if name[0] == "ytd":
        return CAP * 12
    return CAP


def test_last_years_same_months_are_suppressed_when_they_would_give_a_cell_away(client):
    """January 2022 (5, a figure from 1 to 10 whatever its offset short of 5) is hidden with a
    rectangle through another month; February 2022 (40) is shown. "January and February
    2022" would pin January's figure."""
    counts = {(y, m): 30 for y in (2021, 2022) for m in range(1, 13)}
    counts |= {(2022, 1): 5, (2022, 2): 40, (2023, 1): 30, (2023, 2): 30}
    town, _ = make_random_town(0, through=dt.date(2023, 3, 20), counts=counts)
    rows = read_csv(client.get(f"/public/{town.slug}/data.csv").content)
    months = table_of(rows, "months")
    assert months[("2022", "Jan")] == "fewer than 11" and months[("2022", "Feb")].isdigit()
    ytd = table_of(rows, "year_to_date")
    assert ytd[("Jan–Feb 2023", "Count")].isdigit()
    assert ytd[("Jan–Feb 2022", "Count")] == "suppressed"
    seen = _reader_view(rows)
    assert all(high - low >= 1 for low, high in seen.ranges().values())
    page = client.get(f"/public/{town.slug}/").content.decode()
    assert "no change is published for Jan–Feb 2023 against Jan–Feb 2022, because" in page


def test_the_last_month_of_a_coverage_ending_mid_month_is_no_data(client):
    town, _ = make_random_town(1)
    months = table_of(read_csv(client.get(f"/public/{town.slug}/data.csv").content), "months")
    assert months[("2023 (Jan–Jul)", "Aug")] == "no data"
    assert months[("2023 (Jan–Jul)", "Dec")] == "no data"
    assert ("2023 (Jan–Jul)", "Total") in months


# The audit the page uses before publishing an extra figure, checked by brute force.


CAP = 30  # the enumeration tries inner counts up to this


def _brute_force(table, extras):
    """Every integer filling of the hidden inner cells (up to ``CAP``) consistent with what
    is shown, enumerated at once with numpy: each hidden entry's least and greatest value."""
    values, hidden, primary = table.values, table.suppressed, table.primary
    inner = values[:-1, :-1]
    unknown = [tuple(ij) for ij in np.argwhere(hidden[:-1, :-1])]
    if not unknown:
        return {}
    ranges = [
        np.arange(1, table.threshold + 1) if primary[ij] else np.arange(0, CAP + 1)
        for ij in unknown
    ]
    grid = np.stack([g.ravel() for g in np.meshgrid(*ranges, indexing="ij")])
    cells = np.repeat(inner[None, :, :], grid.shape[1], axis=0)
    for k, (i, j) in enumerate(unknown):
        cells[:, i, j] = grid[k]
    full = np.zeros((grid.shape[1], *values.shape))
    full[:, :-1, :-1] = cells
    full[:, :-1, -1] = cells.sum(axis=2)
    full[:, -1, :-1] = cells.sum(axis=1)
    full[:, -1, -1] = cells.sum(axis=(1, 2))
    ok = np.ones(grid.shape[1], dtype=bool)
    for i, j in np.argwhere(~hidden):
        ok &= full[:, i, j] == values[i, j]
    for i, j in np.argwhere(primary):
        ok &= (full[:, i, j] >= 1) & (full[:, i, j] <= table.threshold)
    for extra in extras:
        total = cells[:, extra.cells].sum(axis=1)
        ok &= (total >= extra.low) & (total <= extra.high)
    return {
        (int(i), int(j)): (full[ok, i, j].min(), full[ok, i, j].max())
        for i, j in np.argwhere(hidden)
    }


@pytest.mark.parametrize("seed", range(16))
def test_the_audit_agrees_with_brute_force_on_small_tables(seed):
    rng = np.random.default_rng(seed)
    table = rng.choice([0, 2, 5, 12, 14], size=(2, 2)).astype(float)
    result = suppress_table(table, threshold=10)
    mask = np.zeros((2, 2), dtype=bool)
    mask[0, : rng.integers(1, 3)] = True
    value = table[mask].sum()
    for extras in ([], [ExtraFigure(mask, value, value)], [ExtraFigure(mask, 1, 10)]):
        if extras and extras[0].low == 1 and not 1 <= value <= 10:
            continue
        exact = _brute_force(result, extras)
        lp = hidden_ranges(result, extras)
        assert set(exact) == set(lp)
        for ij, (low, high) in exact.items():
            assert lp[ij][0] == pytest.approx(low, abs=1e-6), (ij, lp[ij], (low, high))
            if lp[ij][1] < CAP:  # beyond CAP the enumeration is cut short
                assert lp[ij][1] == pytest.approx(high, abs=1e-6), (ij, lp[ij], (low, high))
        pinned = sorted(ij for ij, (low, high) in exact.items() if low == high)
        assert disclosed(result, extras) == pinned


def test_a_sum_of_last_years_months_can_give_a_hidden_cell_away():
    result = suppress_table([[3, 40, 22], [25, 60, 30]], threshold=10)
    mask = np.zeros((2, 3), dtype=bool)
    mask[0, :2] = True  # "the same months last year": 3 + 40
    assert disclosed(result) == []
    assert disclosed(result, [ExtraFigure(mask, 43, 43)])
