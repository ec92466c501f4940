"""The ``gvrs`` command: Django's management commands with gvrs's settings preset.

``gvrs import``, ``gvrs stats`` and the rest are management commands of the domain apps, so the
same code serves the terminal, the tests (``call_command``) and the web application. Before a
command that reads or writes the registry, the database is brought up to date, so a fresh
``GVRS_HOME`` needs no separate set-up step.

``gvrs --help`` lists gvrs's own commands only; Django's own (``migrate``, ``createsuperuser``,
``shell``…) stay reachable as ``gvrs django COMMAND``. Asking for help never creates a file or
touches a database.
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
from pathlib import Path

# Commands that must not trigger an automatic migration (they manage the schema themselves,
# or never touch the database).
_NO_AUTO_MIGRATE = {
    "help",
    "version",
    "migrate",
    "makemigrations",
    "sqlmigrate",
    "showmigrations",
    "check",
    "shell",
    "dbshell",
    "squashmigrations",
}
_HELP_FLAGS = {"-h", "--help"}
_PACKAGE = Path(__file__).resolve().parent


def gvrs_commands() -> dict[str, str]:
    """gvrs's own commands and their one-line summaries, read from the command modules' source
    (not imported) so that help needs neither Django nor a database."""
    commands = {}
    for path in sorted(_PACKAGE.glob("*/management/commands/*.py")):
        if path.stem.startswith("_"):
            continue
        module = ast.parse(path.read_text(encoding="utf-8"))
        commands[path.stem] = _summary(module)
    return dict(sorted(commands.items()))


def _summary(module: ast.Module) -> str:
    """The command class's ``help``; of an f-string, the text before its first field."""
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "help" for t in node.targets
        ):
            if isinstance(node.value, ast.Constant):
                return str(node.value.value)
            if isinstance(node.value, ast.JoinedStr):
                head = []
                for part in node.value.values:
                    if not isinstance(part, ast.Constant):
                        break
                    head.append(str(part.value))
                return "".join(head).rstrip(" (:") + "."
    return (ast.get_docstring(module) or "").split("\n\n")[0].replace("\n", " ")


def print_help(out=None) -> None:
    out = out or sys.stdout
    commands = gvrs_commands()
    width = max(map(len, commands))
    lines = [
        "usage: gvrs COMMAND [options]      (gvrs COMMAND --help for a command's options)",
        "",
        "Commands:",
        *(f"  {name:<{width}}  {summary}" for name, summary in commands.items()),
        "",
        "Django's own commands (migrate, createsuperuser, changepassword, shell, dbshell…) run",
        "as `gvrs django COMMAND`. The database is GVRS_HOME's SQLite file unless",
        "GVRS_DATABASE_URL names another; it is created on first use.",
    ]
    out.write("\n".join(lines) + "\n")


def _use_demo_home() -> None:
    """Point GVRS_HOME at its ``demo`` folder so the demo never touches the real registry."""
    from gvrs.env import gvrs_home

    if not os.environ.get("GVRS_DATABASE_URL"):
        os.environ["GVRS_HOME"] = str(gvrs_home() / "demo")


def _quiet_broken_pipe() -> None:
    """Output piped into ``head`` and closed early: stop without a traceback (the recipe of
    the Python docs, "Note on SIGPIPE": point stdout at devnull so the final flush succeeds)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvrs.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in _HELP_FLAGS or args == ["help"]:
        print_help()
        return
    if args[0] == "django":
        args = args[1:] or ["help"]
    asks_help = bool(_HELP_FLAGS.intersection(args)) or args[0] == "help"
    if asks_help:
        # Help reads no registry: settings must not create GVRS_HOME, a key or a database.
        os.environ["GVRS_NO_WRITE"] = "1"
    elif args[:1] == ["demo"] or (args[:1] == ["serve"] and "--demo" in args):
        _use_demo_home()
    if args[0] in ("serve", "demo") and not asks_help:
        # Served pages get compressed, immutably cached static files (WhiteNoise).
        os.environ.setdefault("GVRS_COMPRESSED_STATIC", "1")
    import django
    from django.core.management import execute_from_command_line

    try:
        django.setup()
        if not asks_help and args[0] not in _NO_AUTO_MIGRATE and not args[0].startswith("-"):
            from gvrs.operations.database import ensure_database

            ensure_database()
        if _skips_checks(args):
            args = [args[0], "--skip-checks", *args[1:]]
        with _working(args, enabled=not asks_help):
            execute_from_command_line(["gvrs", *args])
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except KeyboardInterrupt:
        # Ctrl-C: a line, not a traceback. Whatever a command stores, it stores in
        # transactions, so nothing is half-written; a half-built demo is rebuilt next time.
        sys.stderr.write(f"\ngvrs {args[0]}: interrupted\n")
        sys.exit(130)


# Django's system checks read the URL configuration, and so import every view and what the
# views import (the report's charts, the public dashboard, the evaluation designs): seconds
# of start-up for a command that reads a count. The commands that serve run them (runserver
# does, `gvrs django check` does); the others skip them.
_RUN_CHECKS = {"serve", "worker", "demo"}


def _skips_checks(args: list[str]) -> bool:
    return (
        args[0] in gvrs_commands()
        and args[0] not in _RUN_CHECKS
        and "--skip-checks" not in args
        and not _HELP_FLAGS.intersection(args)
    )


# Commands that draw their own progress, serve, or talk to the user.
_OWN_PROGRESS = {"import", "serve", "worker", "demo", "shell", "dbshell", "django", "help"}


def shows_progress(args: list[str]) -> bool:
    """Whether the generic progress bar may appear: not for commands that draw their own or
    talk to the user, and never for JSON or CSV output."""
    fmt = next((a.split("=", 1)[1] for a in args if a.startswith("--format=")), None)
    if "--format" in args[:-1]:
        fmt = args[args.index("--format") + 1]
    return args[0] not in _OWN_PROGRESS and fmt in (None, "table")


@contextlib.contextmanager
def _working(args: list[str], *, enabled: bool):
    """Any command still working after two seconds shows a pulsing bar with the elapsed time
    on a terminal, until it prints its first line of output. Never with JSON or CSV output,
    which scripts read."""
    from gvrs.cliutil import progress

    enabled = enabled and shows_progress(args)
    with progress(f"gvrs {args[0]}", enabled=enabled) as bar:
        real = sys.stdout
        sys.stdout = _StopOnWrite(real, bar)
        try:
            yield
        finally:
            sys.stdout = real


class _StopOnWrite:
    """stdout, which takes the progress bar away before the command's first output."""

    def __init__(self, stream, bar) -> None:
        self._stream, self._bar = stream, bar

    def write(self, text: str) -> int:
        self._bar.stop()
        return self._stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


if __name__ == "__main__":
    main()
