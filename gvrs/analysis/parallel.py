"""How many threads the compiled risk kernels (Knox's permutations, the contagion fit) use.

The kernels are numba loops with ``prange``; each iteration of a parallel loop owns its
outputs (one permutation's table, one event's sums, one row of a grid) and computes them in a
fixed order, so the results are the same bit for bit on 1 thread or 64. ``using_threads``
sets numba's thread count for the calling thread (numba keeps it per thread) and puts it back.

Threads are given as ``--threads`` on the risk commands or ``GVRS_THREADS``; ``parse_threads``
reads either, naming it in its error. The default is every core numba may use (its
``NUMBA_NUM_THREADS``, the machine's cores unless that variable says fewer).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Threads waiting at the end of a parallel loop sleep instead of spinning (GNU OpenMP spins
# by default): on a machine shared with other programs, spinning threads take cores from
# them and, at 100,000 events, cost the contagion fit 70% more CPU for nothing. Read when
# numba first starts its threads; a value set by the user is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba


class ThreadsError(ValueError):
    """A thread count gvrs cannot use; the message names where it came from and why."""


def max_threads() -> int:
    """Threads numba may run: the cores, unless NUMBA_NUM_THREADS says fewer."""
    return int(numba.config.NUMBA_NUM_THREADS)


def parse_threads(raw: str | int | None, name: str = "threads") -> int | None:
    """A thread count as given on the command line or in the environment: a whole number
    from 1 to `max_threads`, or "all" (and None or blank) for every core, returned as None.

    Examples
    --------
    >>> parse_threads("1", "--threads"), parse_threads("all", "GVRS_THREADS")
    (1, None)
    >>> parse_threads("0", "--threads")
    Traceback (most recent call last):
    ...
    gvrs.analysis.parallel.ThreadsError: --threads 0: give at least 1 thread
    """
    if raw is None:
        return None
    text = str(raw).strip()
    shown = f"{name}={text!r}" if name.isupper() else f"{name} {text}"
    if text == "" or text.lower() == "all":
        return None
    try:
        threads = int(text)
    except ValueError:
        raise ThreadsError(
            f"{shown}: not a whole number (give 1 to {max_threads()}, or all)"
        ) from None
    return check_threads(threads, shown)


def check_threads(threads: int | None, shown: str = "threads") -> int | None:
    """``threads`` if numba can run that many (None stays None: every core)."""
    if threads is None:
        return None
    if threads < 1:
        raise ThreadsError(f"{shown}: give at least 1 thread")
    most = max_threads()
    if threads > most:
        raise ThreadsError(
            f"{shown}: more than the {most} cores numba can use here (give 1 to {most}, or all)"
        )
    return threads


# One parallel analysis at a time per process: each already takes every core it is given,
# and numba's workqueue threading layer (its fallback where OpenMP is missing) aborts the
# process when two threads launch parallel loops at once.
_LAUNCH = threading.RLock()


@contextmanager
def using_threads(threads: int | None) -> Iterator[int]:
    """Run the compiled kernels inside the block on ``threads`` threads (None: every core);
    yields the count used."""
    count = check_threads(threads) or max_threads()
    with _LAUNCH:
        before = numba.get_num_threads()
        numba.set_num_threads(count)
        try:
            yield count
        finally:
            numba.set_num_threads(before)
