"""Who was shot: the fields of the people in the incidents, to filter and break figures down by.

A person field is named as in the canonical CSV: ``victim_sex``, ``victim_age``,
``victim_age_group``, ``victim_race``, ``victim_ethnicity``, and ``victim_<key>`` for each
field a source's mapping adds (``[victim_fields]``: NIBRS adds ``victim_injury``,
``victim_offense``, ``victim_relationship`` ...). A figure filtered or broken down by one
counts the people it counts (the killed for homicides, the killed and injured for people
shot, every victim for ``firearm_violence_victims``), one by one as their records say; a
figure of incidents counts the incidents with at least one such victim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce

from gvrs.data.metrics import Metric
from gvrs.data.schema import VICTIM_FIELD_PREFIX, Sex
from gvrs.incidents.models import PersonInvolved

NOT_RECORDED = "not recorded"
# Age bands of a victim whose exact age is known (a source's own published band is kept).
AGE_GROUPS = (
    (0, 17, "under 18"),
    (18, 24, "18–24"),
    (25, 34, "25–34"),
    (35, 44, "35–44"),
    (45, 54, "45–54"),
    (55, 200, "55 and over"),
)
_EXTRA_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")


class PersonFieldError(ValueError):
    """An unknown person field or a malformed filter; the message lists the fields."""


@dataclass(frozen=True)
class PersonField:
    name: str  # victim_sex
    label: str  # "Sex"
    column: str = ""  # PersonInvolved's column, or "" for a computed one
    extra: str = ""  # the key of a field a mapping adds

    def expression(self):
        """The field's value for each person, as text ("" when not recorded)."""
        if self.name == "victim_age_group":
            bands = [
                When(age__gte=low, age__lte=high, then=Value(label))
                for low, high, label in AGE_GROUPS
            ]
            return Case(
                When(~Q(age_group=""), then=F("age_group")),
                *bands,
                default=Value(""),
                output_field=CharField(),
            )
        if self.extra:
            return Coalesce(
                KeyTextTransform(self.extra, "extra"), Value(""), output_field=CharField()
            )
        if self.name == "victim_age":
            return Coalesce(Cast("age", CharField()), Value(""), output_field=CharField())
        return F(self.column)


CANONICAL = {
    "victim_sex": PersonField("victim_sex", "Sex", "sex"),
    "victim_age": PersonField("victim_age", "Age", "age"),
    "victim_age_group": PersonField("victim_age_group", "Age group"),
    "victim_race": PersonField("victim_race", "Race", "race_ethnicity"),
    "victim_ethnicity": PersonField("victim_ethnicity", "Ethnicity", "ethnicity"),
}


def person_field(name: str) -> PersonField:
    """The person field ``name``: a canonical one, or ``victim_<key>`` of a mapping's."""
    if name in CANONICAL:
        return CANONICAL[name]
    key = name.removeprefix(VICTIM_FIELD_PREFIX)
    # A field a mapping adds is known when some person holds it (the first one found).
    if (
        name.startswith(VICTIM_FIELD_PREFIX)
        and _EXTRA_KEY.fullmatch(key)
        and PersonInvolved.objects.filter(extra__has_key=key).exists()
    ):
        return PersonField(name, key.replace("_", " ").capitalize(), extra=key)
    raise PersonFieldError(
        f"unknown person field {name!r}; fields: {', '.join(available_fields())}"
    )


def available_fields() -> list[str]:
    """The canonical person fields and those the registry's sources add."""
    from gvrs.data.mapping import available_formats, load_format

    added = set()
    for name in available_formats():
        mapping = load_format(name)
        added |= {VICTIM_FIELD_PREFIX + key for key in mapping.victim_fields}
    return [*CANONICAL, *sorted(added)]


def parse_where(items: list[str] | tuple[str, ...]) -> dict[str, list[str]]:
    """``["victim_sex=F", "victim_race=White"]`` -> {field: [values]}; the same field twice
    means either value."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise PersonFieldError(f"--where {item!r}: write FIELD=VALUE, e.g. victim_sex=F")
        out.setdefault(name.strip(), []).append(value.strip())
    return out


def _sex(value: str) -> str:
    """M, F, U (or the words) as stored."""
    folded = value.strip().casefold()
    for sex in Sex:
        if folded in (sex.value, sex.value[0]):
            return sex.value
    return folded


def person_filter(where: dict[str, list[str]] | tuple, prefix: str = "") -> Q:
    """The people whose fields have one of the given values each (case-insensitively;
    "not recorded" for an empty one). ``prefix`` reaches the person from another model
    ("people__")."""
    q = Q()
    for name, values in dict(where).items():
        field = person_field(name)
        either = Q()
        for value in values:
            if field.name == "victim_sex":
                value = _sex(value)
            either |= _matches(field, value, prefix)
        q &= either
    return q


def _matches(field: PersonField, value: str, prefix: str) -> Q:
    blank = value.strip().casefold() == NOT_RECORDED
    if field.name == "victim_age_group":
        for low, high, label in AGE_GROUPS:
            if value.strip().casefold() == label.casefold():
                return Q(**{f"{prefix}age_group": ""}) & Q(
                    **{f"{prefix}age__gte": low, f"{prefix}age__lte": high}
                ) | Q(**{f"{prefix}age_group__iexact": label})
        if blank:
            return Q(**{f"{prefix}age_group": "", f"{prefix}age__isnull": True})
        return Q(**{f"{prefix}age_group__iexact": value})
    if field.name == "victim_age":
        if blank:
            return Q(**{f"{prefix}age__isnull": True})
        if not value.isdigit():
            raise PersonFieldError(f"victim_age is a whole number of years, not {value!r}")
        return Q(**{f"{prefix}age": int(value)})
    if field.extra:
        lookup = f"{prefix}extra__{field.extra}"
        if blank:
            return Q(**{f"{lookup}__isnull": True}) | Q(**{lookup: ""})
        return Q(**{f"{lookup}__iexact": value})
    if blank:
        return Q(**{f"{prefix}{field.column}": ""})
    return Q(**{f"{prefix}{field.column}__iexact": value})


def counted(metric: Metric, prefix: str = "") -> Q:
    """The victims a metric counts: the killed, the injured, both, or every one."""
    if metric.count == "killed":
        return Q(**{f"{prefix}killed": True})
    if metric.count == "injured":
        return Q(**{f"{prefix}injured": True})
    if metric.count == "victims":
        return Q(**{f"{prefix}killed": True}) | Q(**{f"{prefix}injured": True})
    return Q()


def value_label(field: PersonField, value) -> str:
    text = "" if value is None else str(value).strip()
    if not text or (field.name == "victim_sex" and text == Sex.UNKNOWN):
        return NOT_RECORDED
    return text


def order(field: PersonField, values: list[str]) -> list[str]:
    """Age groups in age order, ages by number, others by name; "not recorded" last."""
    bands = {label: i for i, (_, _, label) in enumerate(AGE_GROUPS)}

    def key(value: str):
        if value == NOT_RECORDED:
            return (2, 0, "")
        if field.name == "victim_age" and value.isdigit():
            return (0, int(value), "")
        return (0, bands.get(value, len(bands)), value)

    return sorted(values, key=key)
