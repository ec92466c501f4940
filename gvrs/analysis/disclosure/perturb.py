"""Cell-key perturbation: every count shown is moved by a small amount fixed by the records
it counts, so asking again, or asking for the same records another way, gives the same
figure, and a difference of two figures carries the perturbation of both.

Each record gets a secret pseudo-random **record key** (SipHash-2-4 of its identity under the
deployment's key). A figure's **cell key** is the sum of the keys of the records it counts,
each as many times as it counts them, modulo 2^64: it is the same whenever the same records
are counted, and unrelated (to anyone without the key) as soon as one record differs. The
cell key picks the figure's perturbation from a fixed table of small offsets (the
"perturbation table"), whose row depends on the count:

- a count of 0 is never moved (the policy never invents records where there are none);
- any other count is moved by at most ``cap`` either way and never below 0, with the
  offsets' probabilities falling by ``ratio`` per unit and summing to a mean of zero (a small
  count may read 0).

Whatever a reader combines, a count of 1 or more always has at least two values it may take:
the figure shown is consistent with the count itself and with counts one away. A year's
months, once the year is over, are perturbed consistently with the year: the year is
perturbed as one cell and its months' offsets are moved, a unit at a time, until they add up
to the year's, so a year reads within ``cap`` of its count rather than twelve offsets away.

Notes
-----
The cell-key method of the Australian Bureau of Statistics, Fraser & Wooton (2005), "A
proposed method for confidentialising tabular output to protect against differencing",
UNECE Work Session on Statistical Data Confidentiality; Thompson, Broadfoot & Elazar (2013),
"Methodology for the automatic confidentialisation of statistical outputs from remote
servers at the Australian Bureau of Statistics"; used by the Office for National Statistics
for the 2021 Census. The offsets follow the two-sided geometric distribution of Ghosh,
Roughgarden & Sundararajan (2009), "Universally utility-maximizing privacy mechanisms",
truncated at ``cap`` and at zero. Record keys: Aumasson & Bernstein (2012), "SipHash: a fast
short-input PRF", INDOCRYPT 2012.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

_U64 = np.uint64


def _rotl(x: np.ndarray, bits: int) -> np.ndarray:
    return (x << _U64(bits)) | (x >> _U64(64 - bits))


def _sip_round(v0, v1, v2, v3):
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash64(key: bytes, messages) -> np.ndarray:
    """SipHash-2-4 of each 64-bit integer in ``messages`` (as its 8 little-endian bytes)
    under the 16-byte ``key``, for whole arrays at once.

    Examples
    --------
    The reference test vector (key 00 01 ... 0f, message 00 01 ... 07):

    >>> m = int.from_bytes(bytes(range(8)), "little")
    >>> hex(int(siphash64(bytes(range(16)), [m])[0]))
    '0x93f5f5799a932462'
    """
    if len(key) != 16:
        raise ValueError("a SipHash key has 16 bytes")
    m = np.asarray(messages, dtype=_U64)
    k0 = np.full(m.shape, int.from_bytes(key[:8], "little"), dtype=_U64)
    k1 = np.full(m.shape, int.from_bytes(key[8:], "little"), dtype=_U64)
    v0 = k0 ^ _U64(0x736F6D6570736575)
    v1 = k1 ^ _U64(0x646F72616E646F6D)
    v2 = k0 ^ _U64(0x6C7967656E657261)
    v3 = k1 ^ _U64(0x7465646279746573)
    v3 = v3 ^ m
    for _ in range(2):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    v0 = v0 ^ m
    last = _U64(8 << 56)  # the final block: the message's length in its top byte
    v3 = v3 ^ last
    for _ in range(2):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    v0 = v0 ^ last
    v2 = v2 ^ _U64(0xFF)
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def record_keys(secret: bytes, kind: str, ids) -> np.ndarray:
    """The secret key of each record of ``kind`` (e.g. "incident", "participant"), by its
    identity ``ids`` (integers): uniform 64-bit numbers, unrelated between kinds.

    Examples
    --------
    >>> a = record_keys(b"secret", "incident", [1, 2, 3])
    >>> bool((a == record_keys(b"secret", "incident", [1, 2, 3])).all())
    True
    >>> bool((a != record_keys(b"secret", "participant", [1, 2, 3])).all())
    True
    """
    subkey = hashlib.blake2b(kind.encode(), key=secret, digest_size=16).digest()
    return siphash64(subkey, np.asarray(ids, dtype=np.int64).astype(_U64))


def cell_keys(keys, weights, groups, n_groups: int) -> np.ndarray:
    """Each group's cell key: the sum modulo 2^64 of its records' keys, each taken as many
    times as the record is counted (``weights``: e.g. the people shot in an incident).

    Examples
    --------
    >>> k = np.array([5, 7, 2**64 - 1], dtype=np.uint64)
    >>> cell_keys(k, [1, 2, 1], [0, 0, 1], 2).tolist()
    [19, 18446744073709551615]
    """
    keys = np.asarray(keys, dtype=_U64)
    weights = np.asarray(weights, dtype=np.int64).astype(_U64)
    out = np.zeros(n_groups, dtype=_U64)
    with np.errstate(over="ignore"):
        np.add.at(out, np.asarray(groups, dtype=np.intp), keys * weights)
    return out


@lru_cache(maxsize=16)
def _rows(ratio: float, cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative probabilities of the offsets -cap..cap for counts 1..cap (row x-1; a count
    above cap uses row cap-1), each row mean-zero and never below -count."""
    offsets = np.arange(-cap, cap + 1)
    weights = ratio ** np.abs(offsets).astype(float)
    rows = np.zeros((cap, offsets.size))
    for count in range(1, cap + 1):
        w = np.where(offsets >= -count, weights, 0.0)
        # Scale the upward offsets so the row's mean is zero: a count that cannot go down as
        # far as it can go up would otherwise read high on average.
        down = -(offsets[offsets < 0] * w[offsets < 0]).sum()
        up = (offsets[offsets > 0] * w[offsets > 0]).sum()
        w = np.where(offsets > 0, w * down / up, w)
        rows[count - 1] = np.cumsum(w / w.sum())
    rows[:, -1] = 1.0
    return offsets, rows


@dataclass(frozen=True)
class NoiseTable:
    """The perturbation table: offsets from ``-cap`` to ``cap`` with probabilities falling by
    ``ratio`` per unit (a two-sided geometric distribution), never taking a count below 0,
    with a mean of zero for every count; 0 is never moved.

    Examples
    --------
    >>> table = NoiseTable()
    >>> offsets, p = table.distribution(1)
    >>> [int(o) for o in offsets], abs(round(float(p @ offsets), 12))
    ([-1, 0, 1, 2, 3, 4, 5], 0.0)
    """

    ratio: float = 0.3
    cap: int = 5

    def __post_init__(self) -> None:
        if not 0 < self.ratio < 1:
            raise ValueError("the ratio of a perturbation table lies between 0 and 1")
        if self.cap < 1:
            raise ValueError("a perturbation table moves counts by at least 1")

    def distribution(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """The offsets a count may be moved by and their probabilities."""
        if count == 0:
            return np.array([0]), np.array([1.0])
        offsets, rows = _rows(self.ratio, self.cap)
        cdf = rows[min(count, self.cap) - 1]
        p = np.diff(np.r_[0.0, cdf])
        keep = p > 0
        return offsets[keep], p[keep]

    def offsets(self, counts, keys) -> np.ndarray:
        """Each count's offset, chosen by its cell key (the top 53 bits, as a uniform number
        in [0, 1), through the inverse of its row's cumulative distribution)."""
        counts = np.asarray(counts, dtype=np.int64)
        offsets, rows = _rows(self.ratio, self.cap)
        u = (np.asarray(keys, dtype=_U64) >> _U64(11)).astype(np.float64) / 2.0**53
        row = np.clip(counts, 1, self.cap) - 1
        # The first offset whose cumulative probability exceeds u.
        index = (u[..., None] >= rows[row]).sum(axis=-1)
        return np.where(counts > 0, offsets[np.minimum(index, offsets.size - 1)], 0)

    def bounds(self, count: int) -> tuple[int, int]:
        """The least and greatest offset a count may be moved by."""
        if count == 0:
            return 0, 0
        return -min(count, self.cap), self.cap


def perturb(counts, keys, table: NoiseTable | None = None) -> np.ndarray:
    """The figures to show for ``counts``, each moved by the offset its cell key picks.

    Parameters
    ----------
    counts : array of int
        True counts (>= 0).
    keys : array of uint64
        Their cell keys (``cell_keys``).
    table : NoiseTable
        The perturbation table (default: ``NoiseTable()``).

    Returns
    -------
    numpy.ndarray of int
        Counts plus offsets, never below 0; 0 where the count is 0.

    Notes
    -----
    Cell-key perturbation, Fraser & Wooton (2005); Thompson, Broadfoot & Elazar (2013).

    Examples
    --------
    >>> keys = cell_keys(record_keys(b"k", "incident", [1, 2, 3]), [1, 1, 1], [0, 0, 1], 2)
    >>> shown = perturb([2, 1], keys)
    >>> bool((shown == perturb([2, 1], keys)).all()), bool((shown >= 0).all())
    (True, True)
    """
    table = table or NoiseTable()
    counts = np.asarray(counts, dtype=np.int64)
    if (counts < 0).any():
        raise ValueError("counts are whole numbers >= 0")
    return counts + table.offsets(counts, keys)


def _fit(
    offsets: np.ndarray,
    counts: np.ndarray,
    keys: np.ndarray,
    target: int,
    cap: int,
    max_shift: int | None = None,
):
    """Move ``offsets`` a unit at a time until they sum to ``target``, each staying within
    its own bounds (never below -count, never beyond cap; 0 for a count of 0) and, with
    ``max_shift``, within that many units of where it started. The unit goes to the offset
    it brings nearest zero, ties broken by the cell keys: a deterministic choice no reader
    can reproduce without the keys. ValueError when the target cannot be reached."""
    out = offsets.astype(np.int64).copy()
    low = -np.minimum(counts, cap)
    high = np.where(counts > 0, cap, 0)
    if max_shift is not None:
        low = np.maximum(low, out - max_shift)
        high = np.minimum(high, out + max_shift)
    order = np.argsort(keys, kind="stable")
    while (delta := target - int(out.sum())) != 0:
        step = 1 if delta > 0 else -1
        room = (out + step >= low) & (out + step <= high)
        candidates = order[room[order]]
        if candidates.size == 0:
            raise ValueError("the offsets cannot reach their total")
        best = candidates[np.argmin(np.abs(out[candidates] + step))]  # the first of the ties
        out[best] += step
    return out


def by_month(
    month: np.ndarray,
    weights,
    keys,
    groups,
    n_groups: int,
    n_months: int,
    first_year_month: int,
    table: NoiseTable | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Counts and perturbed figures per group and month, consistent within each whole year.

    Parameters
    ----------
    month : array of int
        Each record's month, 0 for the first month of the span.
    weights, keys : arrays
        How many times each record counts, and its record key.
    groups : array of int
        Each record's group (0..n_groups-1): a place, an area.
    n_groups, n_months : int
        The shape of the result.
    first_year_month : int
        The calendar month (1-12) of month 0: a year is "whole" when all its twelve months
        lie in the span.

    Returns
    -------
    (counts, figures) : two int arrays of shape (n_groups, n_months)
        In a whole year the figures of a group's months add up to the figure of the group's
        year, itself perturbed as one cell; elsewhere each month is perturbed on its own.

    Notes
    -----
    Cell-key perturbation (Fraser & Wooton 2005) of each month and of each whole year, the
    months' offsets then moved a unit at a time to add up to the year's.

    Examples
    --------
    >>> keys = record_keys(b"k", "incident", range(40))
    >>> months = np.arange(40) % 12
    >>> counts, shown = by_month(months, np.ones(40), keys, np.zeros(40, int), 1, 12, 1)
    >>> int(counts.sum()), abs(int(shown.sum()) - 40) <= NoiseTable().cap
    (40, True)
    """
    table = table or NoiseTable()
    month = np.asarray(month, dtype=np.intp)
    weights = np.asarray(weights, dtype=np.int64)
    groups = np.asarray(groups, dtype=np.intp)
    cells = groups * n_months + month
    counts = np.bincount(cells, weights=weights, minlength=n_groups * n_months)
    counts = counts.astype(np.int64).reshape(n_groups, n_months)
    ckeys = cell_keys(keys, weights, cells, n_groups * n_months).reshape(n_groups, n_months)
    offsets = table.offsets(counts, ckeys)
    start = (13 - first_year_month) % 12  # the first January of the span
    for january in range(start, n_months - 11, 12):
        span = slice(january, january + 12)
        with np.errstate(over="ignore"):
            year_keys = ckeys[:, span].sum(axis=1, dtype=_U64)
        year_counts = counts[:, span].sum(axis=1)
        year_offsets = table.offsets(year_counts, year_keys)
        for g in np.flatnonzero(year_counts):
            offsets[g, span] = _fit(
                offsets[g, span], counts[g, span], ckeys[g, span], int(year_offsets[g]), table.cap
            )
    return counts, counts + offsets


def within_total(
    counts, keys, total_count: int, total_figure: int, table: NoiseTable | None = None
) -> np.ndarray:
    """Perturbed figures of the parts of a total that add up to the total's own figure.

    Parameters
    ----------
    counts, keys : arrays
        The parts' true counts and cell keys; they add up to ``total_count`` (a part holding
        the rest, e.g. "not recorded", is one of them).
    total_count, total_figure : int
        The total's count and its perturbed figure (shown elsewhere).

    Returns
    -------
    numpy.ndarray of int
        Each part's count plus its offset, the offsets moved a unit at a time (as a whole
        year's months are, ``by_month``) until they add up to the total's, none by more than
        ``cap - 1``: a part may be shown elsewhere unmoved (the overview shows the same
        records' own figure), and two figures ``cap`` or less apart each within ``cap`` of
        the count always leave it two values. ValueError when that cannot add up.

    Examples
    --------
    >>> ids = record_keys(b"k", "incident", range(30))
    >>> keys = cell_keys(ids, np.ones(30), np.arange(30) % 3, 3)
    >>> shown = within_total([10, 10, 10], keys, 30, 32)
    >>> int(shown.sum()), bool((abs(shown - 10) <= 5).all())
    (32, True)
    """
    table = table or NoiseTable()
    counts = np.asarray(counts, dtype=np.int64)
    keys = np.asarray(keys, dtype=_U64)
    if int(counts.sum()) != total_count:
        raise ValueError("the parts do not add up to the total")
    offsets = table.offsets(counts, keys)
    shift = table.cap - 1
    return counts + _fit(offsets, counts, keys, total_figure - total_count, table.cap, shift)
