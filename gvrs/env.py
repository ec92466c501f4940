"""Typed readers for the environment variables gvrs understands.

Every setting that varies between a laptop and a deployment is read here, once, so that the
settings module stays declarative and each variable's default is written in one place.
"""

from __future__ import annotations

import os
from pathlib import Path

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigurationError(RuntimeError):
    """An environment variable holds a value gvrs cannot use."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name}={raw!r} is not a yes/no value (use 1/0, true/false)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a whole number") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def writes_allowed() -> bool:
    """False while the command line only prints help (``GVRS_NO_WRITE``, set by ``gvrs.cli``):
    then nothing may be created on disk, not even ``GVRS_HOME``."""
    return not env_bool("GVRS_NO_WRITE", False)


def gvrs_home() -> Path:
    """Where the embedded database, secret key and uploads live (``GVRS_HOME``).

    Defaults to ``~/.gvrs`` so that one analyst on a laptop needs no set-up at all.
    """
    home = Path(os.environ.get("GVRS_HOME") or Path.home() / ".gvrs").expanduser()
    if writes_allowed():
        home.mkdir(parents=True, exist_ok=True)
    return home
