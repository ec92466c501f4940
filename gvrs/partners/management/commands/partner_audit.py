"""``gvrs partner-audit``: the audit log of partner data, for an oversight body.

Every read and change of participants, plans, contacts, services, mediations, outcomes and
referrals, and every grant of access to them (``access.grant``, ``access.revoke``), with every
column the audit log holds (so snapshots of who the user was are exported as they were
written), as CSV or JSON lines. CSV cells a spreadsheet would run as a
formula are made inert (``gvrs.data.csvsafe``), as in every CSV gvrs writes.
"""

from __future__ import annotations

import datetime as dt
import json
import sys

from django.core.management.base import BaseCommand, CommandError

from gvrs.accounts.models import AuditEvent
from gvrs.data import csvsafe
from gvrs.partners.audit import oversight_events


def _value(event: AuditEvent, field) -> str:
    # A user is exported as its id; who they were (name, roles, organization) is in the
    # snapshot columns written with the event.
    value = getattr(event, field.attname)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return "" if value is None else str(value)


class Command(BaseCommand):
    help = "Export the audit log of partner data (CSV or JSON lines) for an oversight body."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="first day, YYYY-MM-DD (UTC)")
        parser.add_argument("--until", help="last day, YYYY-MM-DD (UTC)")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
        parser.add_argument("--out", help="file to write (default: standard output)")

    def handle(self, *args, **options) -> None:
        events = oversight_events()
        for name, op in (("since", "gte"), ("until", "lte")):
            if options[name]:
                try:
                    day = dt.date.fromisoformat(options[name])
                except ValueError:
                    raise CommandError(
                        f"--{name} {options[name]!r} is not a date (YYYY-MM-DD)", returncode=2
                    ) from None
                events = events.filter(**{f"at__date__{op}": day})
        fields = [f for f in AuditEvent._meta.concrete_fields]
        out = open(options["out"], "w", newline="") if options["out"] else sys.stdout  # noqa: SIM115
        try:
            n = 0
            if options["format"] == "csv":
                writer = csvsafe.writer(out)
                writer.writerow([f.name for f in fields])
                for event in events.iterator():
                    # Details and names are typed by users: a cell a spreadsheet would run as
                    # a formula is made inert. JSON lines are data, not a sheet: left exact.
                    writer.writerow([_value(event, f) for f in fields])
                    n += 1
            else:
                for event in events.iterator():
                    out.write(json.dumps({f.name: _value(event, f) for f in fields}) + "\n")
                    n += 1
        finally:
            if options["out"]:
                out.close()
        if options["out"]:
            self.stdout.write(f"{n} audit events written to {options['out']}")
