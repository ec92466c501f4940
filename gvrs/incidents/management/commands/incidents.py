"""``gvrs incidents``: list incidents from the registry."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from gvrs.cliutil import OUTPUT_FORMATS, parse_date, write_frame
from gvrs.data.schema import GroupInvolvement, Kind
from gvrs.incidents.frames import incident_queryset, incidents_frame
from gvrs.incidents.lookup import find_jurisdiction
from gvrs.incidents.models import Area
from gvrs.incidents.people import PersonFieldError, parse_where, person_filter


class Command(BaseCommand):
    help = "List incidents (newest first)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--jurisdiction", help="name or slug; includes places inside it")
        parser.add_argument("--kind", help=", ".join(k.value for k in Kind))
        parser.add_argument("--since", type=parse_date, help="first date, YYYY-MM-DD")
        parser.add_argument("--until", type=parse_date, help="last date, YYYY-MM-DD")
        parser.add_argument("--area", help="neighborhood or beat (its name)")
        parser.add_argument(
            "--group-involvement",
            choices=[g.value for g in GroupInvolvement],
            help="yes, no or unknown",
        )
        parser.add_argument(
            "--where",
            action="append",
            default=[],
            metavar="FIELD=VALUE",
            help="incidents with a victim whose field has this value, e.g. victim_sex=F or "
            "victim_age_group='under 18' (repeat: the same field means either value)",
        )
        parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table")
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            help="at most this many (default: all; 100 for a table)",
        )

    def handle(self, *args, **options) -> None:
        kinds = [k.value for k in Kind]
        if options["kind"] and options["kind"] not in kinds:
            raise CommandError(
                f"unknown kind {options['kind']!r}; valid: {', '.join(kinds)}", returncode=2
            )
        jurisdiction = (
            find_jurisdiction(options["jurisdiction"]) if options["jurisdiction"] else None
        )
        try:
            given = options["where"]
            where = parse_where([given] if isinstance(given, str) else given)
            person_filter(where)
        except PersonFieldError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if options["area"] and not Area.objects.filter(name__iexact=options["area"]).exists():
            raise CommandError(f"no area named {options['area']!r}", returncode=2)
        qs = incident_queryset(
            jurisdiction=jurisdiction,
            area=options["area"],
            group_involvement=options["group_involvement"],
            where=where,
            kind=options["kind"],
            since=options["since"],
            until=options["until"],
        )
        limit = options["limit"] or (100 if options["format"] == "table" else None)
        total = qs.count()
        frame = incidents_frame(qs[:limit] if limit else qs)
        frame["occurred_on"] = frame["occurred_on"].dt.date
        if options["format"] == "table":
            # A terminal is narrow: the columns a person scans; csv/json carry them all.
            frame = frame[
                [
                    "source_id",
                    "kind",
                    "occurred_on",
                    "occurred_time",
                    "jurisdiction",
                    "area",
                    "killed",
                    "injured",
                    "group_involvement",
                ]
            ]
        write_frame(frame, options["format"], self.stdout, title="Incidents")
        if options["format"] == "table":
            self.stdout.write(f"{min(total, len(frame)):,} of {total:,} incidents shown")
