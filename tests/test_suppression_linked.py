"""Suppression across linked tables: figures by program and by organization, an area's count
on the county's page and on its city's page. For random systems, a reader who stacks every
published table (each organization's row is the sum of its programs' rows; each city's total
is the sum of its areas; enrolled never outnumber identified) still cannot pin any hidden
cell: checked by linear programming written here from the tables' meaning, not from the
suppression code's own equations."""

from __future__ import annotations

import numpy as np
import pytest

from gvrs.analysis.suppression import LinkedTables, suppress_linked, suppress_table
from tests.suppression_reader import THRESHOLD, Reader


def _grouped(system: LinkedTables, counts, group, additive: bool):
    return system.grouped(np.asarray(counts), group, additive=additive)


def _random_counts(rng, shape):
    kind = rng.random(shape)
    return np.where(
        kind < 0.25,
        0,
        np.where(kind < 0.65, rng.integers(1, 11, shape), rng.integers(11, 90, shape)),
    ).astype(float)


def _read_grouped(reader, result, cells, orgs, grand, group, additive, tag):
    """Everything the three tables publish, written down as a reader would."""
    known = {}
    for name, ids in [(("p", tag), cells), (("o", tag), orgs)]:
        for (i, j), k in np.ndenumerate(ids):
            known[(*name, i, j)] = reader.see((*name, i, j), _label(result, k), result.values[k])
    for j, k in enumerate(grand):
        known[("t", tag, j)] = reader.see(("t", tag, j), _label(result, k), result.values[k])
    n_cols = cells.shape[1]
    data_cols = n_cols - 1 if additive else n_cols
    for j in range(n_cols):
        for g in range(group.max() + 1):
            members = [("p", tag, i, j) for i in np.flatnonzero(group == g)]
            reader.sums(members, ("o", tag, g, j), known)
        reader.sums([("o", tag, g, j) for g in range(orgs.shape[0])], ("t", tag, j), known)
    if additive:
        for prefix, n in (("p", cells.shape[0]), ("o", orgs.shape[0])):
            for i in range(n):
                reader.sums(
                    [(prefix, tag, i, j) for j in range(data_cols)],
                    (prefix, tag, i, data_cols),
                    known,
                )
        reader.sums([("t", tag, j) for j in range(data_cols)], ("t", tag, data_cols), known)
    return known


def _label(result, k) -> str:
    return result.view(np.array([[k]])).label(0, 0)


@pytest.mark.parametrize("seed", range(60))
def test_no_hidden_cell_of_random_tables_by_program_and_by_organization_can_be_solved(seed):
    rng = np.random.default_rng(seed)
    n_programs = int(rng.integers(2, 8))
    group = np.sort(rng.integers(0, int(rng.integers(1, 4)), n_programs))
    group = np.unique(group, return_inverse=True)[1]  # organizations numbered 0..G-1
    additive = bool(rng.random() < 0.5)
    counts = _random_counts(rng, (n_programs, int(rng.integers(1, 5))))
    system = LinkedTables()
    cells, orgs, grand = _grouped(system, counts, group, additive)
    result = system.suppress(THRESHOLD)
    reader = Reader()
    _read_grouped(reader, result, cells, orgs, grand, group, additive, "x")
    small = (result.values >= 1) & (result.values <= THRESHOLD)
    assert result.suppressed[small].all(), "every count from 1 to 10 is hidden"
    reader.assert_nothing_pinned()


@pytest.mark.parametrize("seed", range(40))
def test_a_funnel_whose_stages_are_ordered_gives_nothing_away_through_the_order(seed):
    """identified >= enrolled >= active: a reader who knows the order may combine a stage's
    column with the next stage's; the system's orderings keep that from pinning a cell."""
    rng = np.random.default_rng(1000 + seed)
    n_programs = int(rng.integers(2, 7))
    group = np.unique(np.sort(rng.integers(0, 3, n_programs)), return_inverse=True)[1]
    identified = rng.integers(0, 40, n_programs)
    enrolled = rng.binomial(identified, rng.uniform(0.3, 1.0))
    active = rng.binomial(enrolled, rng.uniform(0.3, 1.0))
    counts = np.column_stack([identified, enrolled, active]).astype(float)
    system = LinkedTables()
    cells, orgs, grand = _grouped(system, counts, group, additive=False)
    every = np.vstack([cells, orgs, grand[None, :]])
    system.at_most(every[:, 1], every[:, 0])
    system.at_most(every[:, 2], every[:, 1])
    result = system.suppress(THRESHOLD)
    reader = Reader()
    known = _read_grouped(reader, result, cells, orgs, grand, group, False, "f")
    names = [("p", "f", i) for i in range(n_programs)] + [
        ("o", "f", g) for g in range(orgs.shape[0])
    ]
    for prefix in names:
        for j in (1, 2):
            reader.at_most((*prefix, j), (*prefix, j - 1), known)
    for j in (1, 2):
        reader.at_most(("t", "f", j), ("t", "f", j - 1), known)
    reader.assert_nothing_pinned()


@pytest.mark.parametrize("seed", range(40))
def test_areas_on_the_county_page_and_on_each_city_page_are_hidden_alike(seed):
    rng = np.random.default_rng(2000 + seed)
    n_cities = int(rng.integers(1, 4))
    sizes = rng.integers(1, 5, n_cities)
    city_of = np.repeat(np.arange(n_cities), sizes)
    counts = _random_counts(rng, (city_of.size, 1))
    system = LinkedTables()
    areas = system.cells(counts)[:, 0]
    city_totals = []
    for c in range(n_cities):
        total = system.sums(areas[city_of == c][:, None], axis=0)[0]
        system.relate(np.append(areas[city_of == c], total)[:, None], lines="columns")
        city_totals.append(total)
    county = system.sums(np.array(city_totals)[:, None], axis=0)[0]
    system.relate(np.append(city_totals, county)[:, None], lines="columns")
    system.relate(np.append(areas, county)[:, None], lines="columns")
    result = system.suppress(THRESHOLD)
    reader = Reader()
    known = {
        ("a", i): reader.see(("a", i), _label(result, k), result.values[k])
        for i, k in enumerate(areas)
    }
    for c, k in enumerate(city_totals):
        known[("c", c)] = reader.see(("c", c), _label(result, k), result.values[k])
    known["county"] = reader.see("county", _label(result, county), result.values[county])
    for c in range(n_cities):
        reader.sums([("a", i) for i in np.flatnonzero(city_of == c)], ("c", c), known)
    reader.sums([("a", i) for i in range(areas.size)], "county", known)
    reader.assert_nothing_pinned()


def test_tables_suppressed_each_on_its_own_give_a_cell_away_and_jointly_they_do_not():
    """Organization A runs programs of 3 and 50 people, B of 40 and 60. Alone, the table by
    program hides the 3 and B's 40 (the cheapest partner); the table by organization hides
    nothing (53 and 100); together they say A's first program is 53 - 50 = 3."""
    by_program = suppress_table([3, 50, 40, 60])
    by_org = suppress_table([53, 100])
    assert by_program.display()[0][0] == "fewer than 11"
    assert by_program.display()[1][0] == "50" and by_org.display()[0][0] == "53"

    system = LinkedTables()
    group = np.array([0, 0, 1, 1])
    cells, orgs, grand = _grouped(system, np.array([[3], [50], [40], [60]]), group, False)
    result = system.suppress(THRESHOLD)
    labels = [_label(result, k) for k in cells[:, 0]]
    assert labels[0] == "fewer than 11" and labels[1] == "suppressed"
    reader = Reader()
    _read_grouped(reader, result, cells, orgs, grand, group, False, "x")
    reader.assert_nothing_pinned()


def test_the_reader_pins_a_cell_when_the_tables_are_suppressed_apart():
    """The check can fail: the separate suppressions of the example above, read together."""
    reader = Reader()
    known = {
        "A1": reader.see("A1", "fewer than 11", 3),
        "A2": reader.see("A2", "50", 50),
        "B1": reader.see("B1", "suppressed", 40),
        "B2": reader.see("B2", "60", 60),
        "A": reader.see("A", "53", 53),
        "B": reader.see("B", "100", 100),
        "T": reader.see("T", "153", 153),
    }
    reader.sums(["A1", "A2"], "A", known)
    reader.sums(["B1", "B2"], "B", known)
    reader.sums(["A1", "A2", "B1", "B2"], "T", known)
    with pytest.raises(AssertionError, match="A1 is pinned to 3"):
        reader.assert_nothing_pinned()


def test_an_order_every_reader_knows_can_pin_a_cell_unless_the_system_is_told():
    """Program P enrolled all 25 people it identified, Q enrolled 10 of 20; enrolled total
    35. Enrolled <= identified says P's enrolled is at most 25, so Q's is at least 10: with
    its label's "at most 10", pinned, unless the suppression knew the order."""
    values = np.array([25, 20, 45, 25, 10, 35], dtype=float)
    identified = np.array([[0, 0], [1, 1], [2, 2]])
    enrolled = np.array([[3, 3], [4, 4], [5, 5]])
    blind = suppress_linked(values, [identified, enrolled])
    told = suppress_linked(values, [identified, enrolled], at_most=[(3, 0), (4, 1), (5, 2)])

    def read(result):
        reader = Reader()
        names = ["P", "Q", "T", "eP", "eQ", "eT"]
        known = {n: reader.see(n, _label(result, k), values[k]) for k, n in enumerate(names)}
        reader.sums(["P", "Q"], "T", known)
        reader.sums(["eP", "eQ"], "eT", known)
        for e, i in (("eP", "P"), ("eQ", "Q"), ("eT", "T")):
            reader.at_most(e, i, known)
        return reader

    assert read(blind).ranges()["eQ"] == pytest.approx((10, 10))
    read(told).assert_nothing_pinned()


def test_totals_that_do_not_add_up_are_refused():
    system = LinkedTables()
    cells = system.cells([[3], [4]])
    wrong = system.cells([[8]])
    with pytest.raises(ValueError, match="does not add up"):
        system.relate(np.vstack([cells, wrong]), lines="columns")
    with pytest.raises(ValueError, match="at most"):
        system.at_most(wrong[0], cells[0])
