"""Reading a user's TOML file (a mapping, a metrics file) with errors that name the file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

MAX_TOML_BYTES = 2**20


def read_toml(path: str | Path, error: type[Exception], what: str) -> dict[str, Any]:
    """The parsed document, or ``error`` saying which file is missing or not valid TOML."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a folder, not a {what} file")
    if path.exists() and not path.is_file():
        raise error(f"{path}: is not a regular file (a device or a pipe), not a {what} file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError:
        raise error(f"{path}: no such {what} file") from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {what} file ({exc.strerror or exc})") from None
    if len(raw) > MAX_TOML_BYTES:
        raise error(f"{path}: a {what} file is a few kilobytes; this one is over 1 MB")
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(
            f"{path}: line {line}: bytes {raw[exc.start : exc.end]!r} are not UTF-8 "
            f"(a {what} file is UTF-8 text)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML ({exc})") from None
