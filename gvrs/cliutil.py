"""Small helpers shared by the management commands: output formats and argument types."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import difflib
import json
import sys
import threading
from typing import TextIO

import pandas as pd

OUTPUT_FORMATS = ("table", "csv", "json")


def parse_date(text: str) -> dt.date:
    """argparse type for YYYY-MM-DD; a bad date is a usage error (exit 2)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def did_you_mean(word: str, choices) -> str:
    """ " did you mean 'homicides'?" (with its leading space) or "" when nothing is close."""
    by_lower = {str(c).lower(): str(c) for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=3, cutoff=0.75)
    if not close:
        return ""
    return " did you mean " + " or ".join(repr(by_lower[c]) for c in close) + "?"


def _jsonable(value):
    if isinstance(value, dt.date | dt.time | dt.datetime | pd.Timestamp):
        return value.isoformat()
    if pd.isna(value) if not isinstance(value, list | dict) else False:
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def write_frame(frame: pd.DataFrame, fmt: str, out: TextIO, title: str | None = None) -> None:
    """Print a DataFrame as a rich table (people), CSV or JSON records (scripts)."""
    if fmt == "csv":
        from gvrs.data.csvsafe import frame_text

        out.write(frame_text(frame))
    elif fmt == "json":
        records = [
            {k: _jsonable(v) for k, v in row.items()} for row in frame.to_dict(orient="records")
        ]
        out.write(json.dumps(records, indent=2) + "\n")
    else:
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title)
        for column in frame.columns:
            numeric = pd.api.types.is_numeric_dtype(frame[column])
            table.add_column(str(column), justify="right" if numeric else "left")
        for row in frame.itertuples(index=False):
            table.add_row(*("" if _jsonable(v) is None else str(v) for v in row))
        Console(file=out, width=160).print(table)


class _Bar:
    """A rich progress bar on stderr that shows itself only after ``delay_s`` seconds."""

    def __init__(self, description: str, total: float | None, delay_s: float) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TimeElapsedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._task = self._progress.add_task(description, total=total)
        self._lock = threading.Lock()
        self._stopped = False
        self._timer = threading.Timer(delay_s, self._start)
        self._timer.daemon = True
        self._timer.start()

    def _start(self) -> None:
        with self._lock:
            if not self._stopped:
                self._progress.start()

    def advance(self, done: float | None = None, description: str | None = None) -> None:
        changes = {"completed": done} if done is not None else {}
        if description:
            changes["description"] = description
        self._progress.update(self._task, **changes)

    def stop(self) -> None:
        with self._lock:
            if not self._stopped:
                self._stopped = True
                self._timer.cancel()
                self._progress.stop()


class _NoBar:
    def advance(self, done=None, description=None) -> None:
        pass

    def stop(self) -> None:
        pass


@contextlib.contextmanager
def progress(
    description: str, *, enabled: bool = True, total: float | None = None, delay_s: float = 2.0
):
    """A progress bar on the terminal for work that may take a while.

    It appears only when stderr is a terminal, ``enabled`` is true (callers pass False for JSON
    and CSV output) and the work is still running after ``delay_s`` seconds, so quick commands
    and piped output stay clean. Yields an object with ``advance(done, description)`` and
    ``stop()``; with ``total`` unknown the bar pulses beside the elapsed time.
    """
    bar = _Bar(description, total, delay_s) if enabled and sys.stderr.isatty() else _NoBar()
    try:
        yield bar
    finally:
        bar.stop()
