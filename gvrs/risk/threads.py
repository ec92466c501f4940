"""``--threads`` on the risk commands, falling back to ``GVRS_THREADS``, then every core.

The thread count changes how long Knox's permutations and the contagion fit take, never
their results (``gvrs.analysis.parallel``)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError

from gvrs.analysis.parallel import ThreadsError, parse_threads


def add_threads_argument(parser) -> None:
    parser.add_argument(
        "--threads",
        help="threads for the compiled kernels, 1 to the number of cores, or all (default: "
        "GVRS_THREADS, else every core); the results are the same on any number",
    )


def threads_option(options) -> int | None:
    """The thread count asked for (None: every core); a bad value is a usage error that
    names ``--threads`` or ``GVRS_THREADS`` and says why."""
    try:
        if options.get("threads") is not None:
            return parse_threads(options["threads"], "--threads")
        return parse_threads(settings.GVRS_THREADS, "GVRS_THREADS")
    except ThreadsError as exc:
        raise CommandError(str(exc), returncode=2) from None
