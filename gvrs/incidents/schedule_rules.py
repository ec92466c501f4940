"""What a scheduled import's settings must be, checked when an administrator saves one (the
model's ``clean``) and read when it runs: one source (a folder or an https:// address), and a
mapping that parses (a shipped format or a TOML mapping saved with it)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from gvrs.data.mapping import MappingError, available_formats, load_format, parse_mapping


def check_schedule(schedule) -> dict[str, str]:
    """What is wrong with a schedule's settings, by field (empty: nothing)."""
    problems = {}
    if bool(schedule.folder) == bool(schedule.url):
        problems["folder"] = "give a folder or an https:// address, one of the two"
    if schedule.url and urlsplit(schedule.url).scheme != "https":
        problems["url"] = "only https:// addresses are fetched (the data are police records)"
    if schedule.folder and not Path(schedule.folder).is_absolute():
        problems["folder"] = "give the folder's full path on the server"
    if schedule.format_name and schedule.format_name not in available_formats():
        problems["format_name"] = f"no such format; formats: {', '.join(available_formats())}"
    if not schedule.format_name and not schedule.mapping.strip():
        problems["mapping"] = "name a shipped format or give a mapping"
    if not schedule.format_name and schedule.mapping.strip():
        try:
            mapping_of(schedule)
        except MappingError as exc:
            problems["mapping"] = str(exc)
    if schedule.every_minutes < 1:
        problems["every_minutes"] = "at least every minute"
    return problems


def mapping_of(schedule):
    """The schedule's mapping: its shipped format, or the TOML mapping saved with it."""
    if schedule.format_name:
        return load_format(schedule.format_name)
    try:
        document = tomllib.loads(schedule.mapping)
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"the mapping of {schedule.name!r} is not TOML: {exc}") from None
    return parse_mapping(document, f"the mapping of {schedule.name!r}")
