"""The partner figures published outside the organizations, as one linked system of tables.

Three views leave the organizations: all partners (the city's page), the partners other than
the reader's own (a partner's page) and each organization on its own (the council report).
Decided apart, they let a partner subtract: its own counts, which its staff know exactly,
from "all partners", or "all partners" from "the others", and recover a small count of
another organization. Here they are one system, decided once: the cells by program and by
organization, the grand total, and for each organization the "all the others" row it is
shown, with each organization an insider that knows its own cells
(``suppress_linked(insiders=...)``). Every view is then cut from that one decision.

Framework-free: counts in, cell indices and the decision out, so that the bench and a
notebook build the same system as the pages.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from gvrs.analysis.suppression import DEFAULT_THRESHOLD, LinkedSuppression, LinkedTables

STAGES = ["identified", "contacted", "enrolled", "active", "completed"]
# What every reader knows of the funnel (each stage's people are among the earlier stage's):
# (stage, the stage it cannot outnumber).
STAGE_ORDER = [
    ("contacted", "identified"),
    ("enrolled", "identified"),
    ("active", "enrolled"),
    ("completed", "enrolled"),
]
MEASURES = ["alive", "not_shot", "not_arrested_firearm", "in_school_or_work"]
# Tables whose columns are parts of a whole (each row has a total); the others are measures.
ADDITIVE = ("services", "referrals")


@dataclass(frozen=True)
class OutsideSystem:
    """The decision and where each view's cells are.

    ``ids[k]``: (cells by program (P, C), by organization (G, C), grand total (C,)) of
    table ``k``; ``others[k][g]``: the cells "every organization but g" (C,), present when
    there are two organizations or more; ``group[i]``: the organization of program i."""

    group: np.ndarray
    ids: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    others: dict[str, dict[int, np.ndarray]]
    values: np.ndarray
    result: LinkedSuppression


def _order(system: LinkedTables, funnel: np.ndarray, outcomes: np.ndarray) -> None:
    for stage, earlier in STAGE_ORDER:
        system.at_most(funnel[:, STAGES.index(stage)], funnel[:, STAGES.index(earlier)])
    for j in range(len(MEASURES)):
        system.at_most(outcomes[:, j], funnel[:, STAGES.index("identified")])


_DECIDED: OrderedDict[str, OutsideSystem] = OrderedDict()
_KEPT = 32


def outside_system(
    counts: dict[str, np.ndarray], group, threshold: int = DEFAULT_THRESHOLD
) -> OutsideSystem:
    """Build and decide the system. ``counts``: per table ("funnel" (P, 5), "services",
    "referrals", "outcomes" (P, 4); NaN: no data), rows by program; ``group[i]``: program i's
    organization, numbered 0..G-1.

    The decision is a pure function of its inputs and takes up to seconds for many
    organizations, while one page or report cuts several views from it: the last few are
    kept in this process, keyed by a digest of the counts (never in a shared cache, which
    would hold the exact counts outside the organizations)."""
    group = np.asarray(group, dtype=int)
    digest = hashlib.sha256(repr(threshold).encode())
    for k in sorted(counts):
        digest.update(k.encode())
        digest.update(np.ascontiguousarray(counts[k], dtype=float).tobytes())
        digest.update(repr(np.shape(counts[k])).encode())
    digest.update(group.tobytes())
    key = digest.hexdigest()
    if key in _DECIDED:
        _DECIDED.move_to_end(key)
        return _DECIDED[key]
    decided = _decide(counts, group, threshold)
    _DECIDED[key] = decided
    while len(_DECIDED) > _KEPT:
        _DECIDED.popitem(last=False)
    return decided


def _decide(counts: dict[str, np.ndarray], group: np.ndarray, threshold: int) -> OutsideSystem:
    system = LinkedTables()
    ids = {k: system.grouped(counts[k], group, additive=k in ADDITIVE) for k in counts}

    def stacked(k):
        cells, groups, grand = ids[k]
        return np.vstack([cells, groups, grand[None, :]])

    _order(system, stacked("funnel"), stacked("outcomes"))
    organizations = int(group.max()) + 1
    others: dict[str, dict[int, np.ndarray]] = {k: {} for k in ids}
    if organizations == 2:
        # "All the others" is the other organization's own row: the same cells, not copies
        # (a copy tied by an equation would need protecting in step with its original).
        for k in ids:
            for g in range(2):
                others[k][g] = ids[k][1][1 - g]
    elif organizations > 2:
        for k in ids:
            _, groups, grand = ids[k]
            lines = "both" if k in ADDITIVE else "columns"
            for g in range(organizations):
                rest = np.delete(groups, g, axis=0)
                other = system.sums(rest, axis=0)
                system.relate(np.vstack([rest, other]), lines=lines)
                system.relate(np.vstack([groups[g], other, grand]), lines=lines)
                others[k][g] = other
        for g in range(organizations):
            _order(system, others["funnel"][g][None, :], others["outcomes"][g][None, :])
    insiders = [
        np.concatenate([np.r_[ids[k][0][group == g].ravel(), ids[k][1][g]] for k in ids])
        for g in range(organizations)
    ]
    # Organization g alone is shown its "all the others" row (three or more organizations:
    # with two, that row is the other organization's own, shown to everyone).
    private = (
        [np.concatenate([others[k][g] for k in ids]) for g in range(organizations)]
        if organizations > 2
        else []
    )
    result = system.suppress(threshold, insiders=insiders, private=private)
    return OutsideSystem(group, ids, others, system.values(np.arange(len(system))), result)
