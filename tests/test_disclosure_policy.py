"""The disclosure policy's parts, checked against what they promise: record keys are SipHash
(the reference vector), a figure depends only on the records it counts, zero is never moved,
offsets stay within the table and average zero, a whole year's months add up to the year, no
reader's linear program pins a count from what a group's figures show, and only whole months
are answered to a reader who may not read the records."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy.optimize import linprog

from gvrs.analysis.disclosure import PUBLIC, Audience, NoiseTable, Policy, Records, perturb
from gvrs.analysis.disclosure.perturb import by_month, cell_keys, record_keys, siphash64

KEY = b"a deployment's secret"


def test_record_keys_are_siphash_2_4_as_published():
    # Aumasson & Bernstein's test vectors: key 00..0f, messages 00..07 and 07..00 bytes.
    key = bytes(range(16))
    message = int.from_bytes(bytes(range(8)), "little")
    assert int(siphash64(key, [message])[0]) == 0x93F5F5799A932462


def test_the_same_records_give_the_same_figure_and_one_more_record_a_fresh_one():
    policy = Policy(key=KEY)
    ids = np.arange(1, 2001)
    counts_a, shown_a = policy.grouped(PUBLIC, Records.INCIDENTS, "incident", ids, ids % 400, 400)
    _, shown_b = policy.grouped(PUBLIC, Records.INCIDENTS, "incident", ids, ids % 400, 400)
    assert (shown_a == shown_b).all()
    # Asked the other way round (records in another order): the same figures.
    order = np.random.default_rng(1).permutation(ids.size)
    _, shown_c = policy.grouped(
        PUBLIC, Records.INCIDENTS, "incident", ids[order], (ids % 400)[order], 400
    )
    assert (shown_a == shown_c).all()
    # One more record in every group: each group's offset is drawn again, unrelated to the
    # first (a reader cannot subtract the two figures to find the new record).
    more = np.r_[ids, np.arange(5001, 5401)]
    _, shown_d = policy.grouped(PUBLIC, Records.INCIDENTS, "incident", more, more % 400, 400)
    offsets_before = shown_a - counts_a
    offsets_after = shown_d - (counts_a + 1)
    same = (offsets_before == offsets_after).mean()
    # Two independent draws agree with probability sum p^2 (about 0.33 for this table).
    p = NoiseTable().distribution(5)[1]
    assert abs(same - (p**2).sum()) < 0.06


def test_zero_is_never_moved_and_no_figure_leaves_the_table():
    table = NoiseTable()
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 30, 50_000)
    keys = rng.integers(0, 2**63, 50_000, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    shown = perturb(counts, keys, table)
    assert (shown[counts == 0] == 0).all()
    assert (shown >= 0).all()
    assert (np.abs(shown - counts) <= table.cap).all()


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 9, 40])
def test_offsets_average_zero_for_every_count(count):
    rng = np.random.default_rng(count)
    keys = rng.integers(0, 2**63, 200_000, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    offsets = perturb(np.full(keys.size, count), keys) - count
    assert abs(offsets.mean()) < 0.01
    values, probabilities = NoiseTable().distribution(count)
    assert abs(float(probabilities @ values)) < 1e-12
    # The offsets drawn follow the table.
    observed = np.array([(offsets == v).mean() for v in values])
    assert np.abs(observed - probabilities).max() < 0.005


def test_a_whole_years_months_add_up_to_the_year_perturbed_as_one_cell():
    rng = np.random.default_rng(5)
    n = 600
    ids = np.arange(n)
    month = rng.integers(0, 30, n)  # July 2022 .. December 2024
    groups = rng.integers(0, 6, n)
    weights = rng.integers(1, 3, n)
    keys = record_keys(KEY, "incident", ids)
    counts, shown = by_month(month, weights, keys, groups, 6, 30, first_year_month=7)
    for g in range(6):
        for january in (6, 18):  # 2023 and 2024 are whole; the second half of 2022 is not
            span = slice(january, january + 12)
            inside = (groups == g) & (month >= january) & (month < january + 12)
            year_key = cell_keys(keys[inside], weights[inside], np.zeros(inside.sum(), int), 1)
            assert shown[g, span].sum() == perturb([weights[inside].sum()], year_key)[0]
        # Months outside a whole year are perturbed each on its own.
        for m in range(6):
            inside = (groups == g) & (month == m)
            key = cell_keys(keys[inside], weights[inside], np.zeros(inside.sum(), int), 1)
            assert shown[g, m] == perturb([counts[g, m]], key)[0]
    assert (np.abs(shown - counts) <= NoiseTable().cap).all()
    assert (shown[counts == 0] == 0).all()


def _reader_ranges(month_figures: np.ndarray, cap: int) -> list[tuple[float, float]]:
    """A reader's least and greatest value of each month from what is shown: the months'
    figures and the year's (their sum), each within the published cap of its count, counts
    >= 0, a figure above 0 only for a count above 0 (zero is never moved, but a small count
    may read 0)."""
    n = month_figures.size
    a_ub, b_ub = [], []
    bounds = []
    for y in month_figures:
        low = 0 if y == 0 else max(1, y - cap)
        bounds.append((low, y + cap))
    year = month_figures.sum()
    if year > 0:
        a_ub += [np.ones(n), -np.ones(n)]
        b_ub += [year + cap, -max(1, year - cap)]
    ranges = []
    for k in range(n):
        c = np.zeros(n)
        c[k] = 1
        low = linprog(c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
        high = linprog(-c, A_ub=np.array(a_ub), b_ub=np.array(b_ub), bounds=bounds, method="highs")
        ranges.append((low.fun, -high.fun))
    return ranges


def test_a_breakdown_adds_up_to_its_total_and_never_strays_far_from_its_own_figures():
    """``Policy.parts``: the parts of a shown total (a public page's areas of a year) are
    fitted to the total's figure, each within cap - 1 of the figure the same records get on
    their own (the overview's), so the two figures together still leave every count two
    values; when that cannot add up, None (the table keeps its own total)."""
    policy = Policy(key=KEY)
    cap = policy.noise.cap
    rng = np.random.default_rng(5)
    fitted = 0
    for trial in range(300):
        n = int(rng.integers(1, 2000))
        ids = np.arange(trial * 10_000, trial * 10_000 + n)
        groups = rng.integers(0, int(rng.integers(1, 8)), size=n)
        k = int(groups.max()) + 1
        total = (n, int(policy.protect(PUBLIC, Records.INCIDENTS, [n], [trial])[0]))
        counts, own = policy.grouped(PUBLIC, Records.INCIDENTS, "incident", ids, groups, k)
        found = policy.parts("incident", ids, groups, k, total)
        if found is None:
            continue
        fitted += 1
        parts_counts, shown = found
        assert parts_counts[:k].tolist() == counts.tolist() and parts_counts[k] == 0
        assert int(shown.sum()) == total[1] and shown[k] == 0
        assert (np.abs(shown[:k] - own) <= cap - 1).all()
        assert (np.abs(shown[:k] - counts) <= cap).all() and (shown[:k][counts == 0] == 0).all()
        # Both figures within cap of the count: at least two counts fit both.
        low = np.maximum(np.maximum(shown[:k], own) - cap, np.where(counts > 0, 1, 0))
        high = np.minimum(shown[:k], own) + cap
        assert (high - low >= 1).all()
    assert fitted > 250
    # The rest of a total with fewer records than it counts is a part of its own.
    counts, shown = policy.parts("person", range(20), [0] * 12 + [1] * 8, 2, (23, 25))
    assert counts.tolist() == [12, 8, 3] and int(shown.sum()) == 25
    # More records than the total: no breakdown adds up to it.
    assert policy.parts("person", range(20), [0] * 20, 1, (10, 10)) is None


def test_no_reader_pins_a_month_of_a_whole_year():
    rng = np.random.default_rng(11)
    cap = NoiseTable().cap
    for trial in range(40):
        n = int(rng.integers(1, 40))
        month = rng.integers(0, 12, n)
        keys = record_keys(KEY, "incident", np.arange(n) + 1000 * trial)
        counts, shown = by_month(month, np.ones(n), keys, np.zeros(n, int), 1, 12, 1)
        for k, (low, high) in enumerate(_reader_ranges(shown[0], cap)):
            assert low - 1e-6 <= counts[0, k] <= high + 1e-6
            if counts[0, k] > 0:
                assert high - low >= 1 - 1e-6, (trial, k, counts[0], shown[0])


def test_a_reader_without_the_records_gets_whole_months_only():
    policy = Policy(key=KEY)
    partner = Audience(organization=1)
    assert policy.window(partner, dt.date(2025, 8, 4), dt.date(2025, 8, 5)).empty
    window = policy.window(partner, dt.date(2025, 1, 1), dt.date(2025, 8, 5))
    assert (window.start, window.end, window.snapped) == (
        dt.date(2025, 1, 1),
        dt.date(2025, 7, 31),
        True,
    )
    # Every "until" in August gives the same window: one day cannot be told from the next.
    jan = dt.date(2025, 1, 1)
    ends = {policy.window(partner, jan, dt.date(2025, 8, d)).end for d in range(1, 31)}
    assert ends == {dt.date(2025, 7, 31)}
    analyst = Audience(incidents=True)
    exact = policy.window(analyst, dt.date(2025, 8, 4), dt.date(2025, 8, 5))
    assert (exact.start, exact.end, exact.snapped) == (
        dt.date(2025, 8, 4),
        dt.date(2025, 8, 5),
        False,
    )


def test_readers_see_exactly_only_what_they_may_read():
    policy = Policy(key=KEY)
    counts = np.arange(200)
    keys = record_keys(KEY, "incident", np.arange(200))
    viewer = Audience(incidents=True)
    assert (policy.protect(viewer, Records.INCIDENTS, counts, keys) == counts).all()
    assert (policy.protect(viewer, Records.LOCATIONS, counts, keys) != counts).any()
    assert (policy.protect(PUBLIC, Records.INCIDENTS, counts, keys) != counts).any()
    mine = Audience(organization=4)
    assert (policy.protect(mine, Records.CASES, counts, keys, organization=4) == counts).all()
    assert (policy.protect(mine, Records.CASES, counts, keys, organization=5) != counts).any()


@pytest.mark.django_db
def test_each_role_is_the_audience_its_permissions_make_it(people, settings):
    from django.contrib.auth.models import AnonymousUser

    from gvrs.accounts.audience import audience_of, deployment_policy

    assert audience_of(AnonymousUser()) == PUBLIC
    assert audience_of(people["police"]) == Audience(incidents=True, locations=True)
    assert audience_of(people["admin"]) == Audience(incidents=True, locations=True)
    assert audience_of(people["analyst"]) == Audience(incidents=True)
    assert audience_of(people["viewer"]) == Audience(incidents=True)
    assert audience_of(people["partner"]) == PUBLIC
    people["viewer"].is_active = False
    assert audience_of(people["viewer"]) == PUBLIC
    # The policy's secret is the deployment's: set, or derived from the secret key.
    settings.GVRS_DISCLOSURE_KEY = ""
    derived = deployment_policy().key
    settings.SECRET_KEY = settings.SECRET_KEY + "-rotated"
    assert deployment_policy().key != derived
    settings.GVRS_DISCLOSURE_KEY = "kept through a rotation"
    assert deployment_policy().key == b"kept through a rotation"
