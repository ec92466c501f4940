"""Finding the place a command line names, with a "did you mean" when it names none."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.text import slugify

from gvrs.cliutil import did_you_mean
from gvrs.incidents.models import NATION_NAMES, Jurisdiction, national_place


def find_jurisdiction(name: str) -> Jurisdiction:
    """The place a command names (name, slug or path); unknown or ambiguous, a usage error
    (exit 2) that offers the names it could have meant."""
    if slugify(name) in NATION_NAMES and national_place() is not None:
        return national_place()
    try:
        return Jurisdiction.objects.named(name)
    except Jurisdiction.DoesNotExist:
        names = Jurisdiction.objects.values_list("name", flat=True).distinct()
        hint = did_you_mean(name, names)
        raise CommandError(
            f"unknown jurisdiction {name!r};{hint or ' no place has a similar name.'}"
            " (`gvrs jurisdictions --search TEXT` finds places)",
            returncode=2,
        ) from None
    except Jurisdiction.MultipleObjectsReturned:
        candidates = "; ".join(
            f"{j.path} (slug {j.slug})" for j in Jurisdiction.objects.all_named(name)[:10]
        )
        raise CommandError(
            f"jurisdiction {name!r} is ambiguous: {candidates}; give its slug or its path "
            "with the state, e.g. 'CA > Fresno'",
            returncode=2,
        ) from None
