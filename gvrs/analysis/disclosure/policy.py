"""Who may see which counts exactly, and how every other count is made safe to show.

Every figure gvrs shows counts records of one kind: incidents (a date, a kind, a place, an
area, the people hurt), where incidents happened (coordinates, block addresses), or a partner
organization's case records (participants, contacts, services, referrals). A reader who may
read the records themselves may see their counts exactly: counting adds nothing to what they
can read. Everyone else sees counts through this policy:

- **Pages a reader can query** (the overview's dates, areas and metrics, its map, partner
  figures and equity, which change whenever the case work does, the council report's partner
  figures): windows snapped to whole calendar months, and every count perturbed by the
  cell-key method (``gvrs.analysis.disclosure.perturb``): the same records always give the
  same figure, a difference of two figures carries two perturbations, and a count of 1 or
  more is never pinned to one value by any combination of figures. Map cells are shown for
  whole calendar years only, and only from ``map_minimum`` upwards.
- **The public page and its CSV**: the same perturbed figures (so the pages of nested places,
  and releases over time, combine into nothing exact), breakdowns fitted to the year's figure
  (``parts``), then figures from 1 to the threshold hidden with complementary suppression
  (``gvrs.analysis.suppression``), audited by linear programming
  (``gvrs.analysis.disclosure.audit``).

``Policy`` is the entry point every face uses (pages, reports, the API): it says whether an
audience may see a kind of record exactly, snaps a window, and protects counts.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field

import numpy as np

from gvrs.analysis.disclosure.perturb import (
    NoiseTable,
    by_month,
    cell_keys,
    perturb,
    record_keys,
    within_total,
)
from gvrs.analysis.disclosure.windows import month_index, whole_months

DEFAULT_THRESHOLD = 10
DEFAULT_MAP_MINIMUM = 5


class Records(enum.StrEnum):
    """The kinds of record a figure counts."""

    INCIDENTS = "incidents"  # date, kind, place, area, people killed or injured
    LOCATIONS = "locations"  # coordinates and block addresses of incidents
    CASES = "cases"  # a partner organization's participants, contacts, services, referrals


@dataclass(frozen=True)
class Audience:
    """What one reader may read record by record: incident records (``incidents``), their
    locations (``locations``), and the case records of its own partner organization
    (``organization``, its id). The public is ``Audience()``: none of them.

    Examples
    --------
    >>> viewer = Audience(incidents=True)
    >>> viewer.knows(Records.INCIDENTS), viewer.knows(Records.LOCATIONS)
    (True, False)
    >>> Audience(organization=3).knows(Records.CASES, organization=3)
    True
    >>> Audience(organization=3).knows(Records.CASES, organization=4)
    False
    """

    incidents: bool = False
    locations: bool = False
    organization: int | None = None

    def knows(self, records: Records, organization: int | None = None) -> bool:
        if records is Records.CASES:
            return self.organization is not None and organization == self.organization
        if records is Records.LOCATIONS:
            return self.locations
        return self.incidents


PUBLIC = Audience()


@dataclass(frozen=True)
class Window:
    """A window of days as a reader asked for it (``asked``) and as the policy answers it
    (``start``..``end``); ``snapped`` when the two differ. ``start`` is None when no whole
    month lies inside what was asked."""

    start: dt.date | None
    end: dt.date | None
    asked: tuple[dt.date, dt.date]
    snapped: bool

    @property
    def empty(self) -> bool:
        return self.start is None


@dataclass(frozen=True)
class Policy:
    """The deployment's disclosure policy.

    Parameters
    ----------
    key : bytes
        The deployment's secret, from which every record key is derived (never shown; the
        same on every app server, so every server shows the same figures).
    threshold : int
        Counts from 1 to this are small: never shown exactly outside the readers who may
        read their records, never pinned by any combination of figures.
    noise : NoiseTable
        The perturbation table of the cell-key method.
    map_minimum : int
        A map cell is shown to readers who may not read locations only from this perturbed
        count upwards.

    Notes
    -----
    Cell-key perturbation (Fraser & Wooton 2005; Thompson, Broadfoot & Elazar 2013) with
    windows snapped to whole months for queryable pages; cell suppression with an audit by
    linear programming (Cox 1980; Giessing & Repsilber 2002) for fixed publications.

    Examples
    --------
    >>> policy = Policy(key=b"the deployment's secret")
    >>> partner = Audience(organization=7)
    >>> policy.exact(partner, Records.INCIDENTS)
    False
    >>> w = policy.window(partner, dt.date(2025, 8, 4), dt.date(2025, 8, 5))
    >>> w.empty, w.snapped
    (True, True)
    >>> shown = policy.protect(partner, Records.INCIDENTS, [3, 0], policy.keys("incident", [1, 2]))
    >>> int(shown[1])
    0
    """

    key: bytes
    threshold: int = DEFAULT_THRESHOLD
    noise: NoiseTable = field(default_factory=NoiseTable)
    map_minimum: int = DEFAULT_MAP_MINIMUM

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a disclosure policy needs the deployment's secret key")
        if self.threshold < 1:
            raise ValueError("the threshold is at least 1")

    def exact(self, audience: Audience, records: Records, organization: int | None = None) -> bool:
        """Whether ``audience`` sees counts of ``records`` exactly."""
        return audience.knows(records, organization)

    def window(
        self,
        audience: Audience,
        since: dt.date,
        until: dt.date,
        records: Records = Records.INCIDENTS,
    ) -> Window:
        """The window ``since``..``until`` as ``audience`` may have it: as asked when it may
        read the records, otherwise the whole calendar months inside it."""
        if self.exact(audience, records):
            return Window(since, until, (since, until), False)
        months = whole_months(since, until)
        if months is None:
            return Window(None, None, (since, until), True)
        return Window(months[0], months[1], (since, until), months != (since, until))

    def keys(self, kind: str, ids) -> np.ndarray:
        """The record keys of records of ``kind`` ("incident", "participant", ...)."""
        return record_keys(self.key, kind, ids)

    def protect(
        self,
        audience: Audience,
        records: Records,
        counts,
        keys,
        organization: int | None = None,
    ) -> np.ndarray:
        """The figures ``audience`` may see for ``counts`` (cell keys ``keys``): the counts
        themselves when it may read the records, perturbed otherwise."""
        counts = np.asarray(counts, dtype=np.int64)
        if self.exact(audience, records, organization):
            return counts
        return perturb(counts, keys, self.noise)

    def grouped(
        self,
        audience: Audience,
        records: Records,
        kind: str,
        ids,
        groups,
        n_groups: int,
        weights=None,
        organization: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Counts of records per group and the figures ``audience`` may see for them.

        ``ids``: each record's identity (of ``kind``); ``groups``: its group, 0..n_groups-1;
        ``weights``: how many it counts for (default 1). Returns (counts, figures).

        Examples
        --------
        >>> policy = Policy(key=b"k")
        >>> counts, shown = policy.grouped(PUBLIC, Records.INCIDENTS, "incident", [1, 2, 3],
        ...                                [0, 0, 1], 3)
        >>> counts.tolist(), int(shown[2])
        ([2, 1, 0], 0)
        """
        ids = np.asarray(ids, dtype=np.int64)
        weights = np.ones(ids.size, dtype=np.int64) if weights is None else np.asarray(weights)
        groups = np.asarray(groups, dtype=np.intp)
        counts = np.bincount(groups, weights=weights, minlength=n_groups).astype(np.int64)
        keys = cell_keys(self.keys(kind, ids), weights, groups, n_groups)
        return counts, self.protect(audience, records, counts, keys, organization)

    def parts(
        self,
        kind: str,
        ids,
        groups,
        n_groups: int,
        total: tuple[int, int],
        weights=None,
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Counts per group of records that make up a total, and perturbed figures for them
        that add up to the total's figure (``total``: its count and figure), so a breakdown
        of a shown total agrees with it (``perturb.within_total``). A group ``n_groups`` is
        added for the rest of the total when the records are fewer; None when they are more,
        or when the parts' figures cannot add up to the total's without moving one of them
        ``cap`` or more from its own figure: then the breakdown keeps its own total.

        Examples
        --------
        >>> policy = Policy(key=b"k")
        >>> counts, shown = policy.parts("person", range(20), [0] * 12 + [1] * 8, 2, (23, 25))
        >>> counts.tolist(), int(shown.sum())
        ([12, 8, 3], 25)
        """
        ids = np.asarray(ids, dtype=np.int64)
        weights = np.ones(ids.size, dtype=np.int64) if weights is None else np.asarray(weights)
        groups = np.asarray(groups, dtype=np.intp)
        counts = np.bincount(groups, weights=weights, minlength=n_groups).astype(np.int64)
        keys = cell_keys(self.keys(kind, ids), weights, groups, n_groups)
        rest = total[0] - int(counts.sum())
        if rest < 0:
            return None
        # The rest has no records of its own to key: the middle of the key range, which
        # starts it at an offset of 0 (the fit then moves it like any part).
        counts = np.r_[counts, rest]
        keys = np.r_[keys, np.array([1 << 63], dtype=np.uint64)]
        try:
            return counts, within_total(counts, keys, total[0], total[1], self.noise)
        except ValueError:
            return None

    def monthly(
        self,
        kind: str,
        ids,
        days,
        first: dt.date,
        n_months: int,
        groups=None,
        n_groups: int = 1,
        weights=None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Counts and perturbed figures per group and calendar month from ``first``'s month,
        consistent within every whole calendar year (``perturb.by_month``): a perturbed
        monthly series, from which every window of whole months is a sum."""
        ids = np.asarray(ids, dtype=np.int64)
        weights = np.ones(ids.size, dtype=np.int64) if weights is None else np.asarray(weights)
        groups = np.zeros(ids.size, dtype=np.intp) if groups is None else np.asarray(groups)
        month = month_index(days, first)
        inside = (month >= 0) & (month < n_months)
        return by_month(
            month[inside],
            weights[inside],
            self.keys(kind, ids[inside]),
            groups[inside],
            n_groups,
            n_months,
            first.month,
            self.noise,
        )

    def on_map(self, figures) -> np.ndarray:
        """Which perturbed map cells may be drawn for a reader who may not read locations."""
        return np.asarray(figures) >= self.map_minimum
