"""Small builders for partner case work, all through ``gvrs.partners.actions``."""

from __future__ import annotations

import datetime as dt

from gvrs.accounts.models import Organization
from gvrs.partners import actions
from gvrs.partners.models import Consent, Program

ALL_FIELDS = ["address", "date_of_birth", "name", "needs", "phone"]


def make_program(user, organization: str, name: str = "Fellowship", **fields) -> Program:
    org = Organization.objects.get(name=organization)
    defaults = {"kind": "fellowship", "capacity": 20, "caseload_per_worker": 15}
    return actions.create_program(user, org, name=name, **{**defaults, **fields})


def make_participant(
    user,
    program: Program,
    name: str,
    *,
    refer_fields=("name", "phone"),
    aggregate: bool = True,
    enrol: bool = True,
    **fields,
):
    participant = actions.record_intake(
        user,
        program.organization,
        program,
        name=name,
        eligibility_reason=fields.pop("eligibility_reason", "shot twice this year; asked for help"),
        consents={
            Consent.Kind.REFER_TO_PARTNER: (bool(refer_fields), list(refer_fields)),
            Consent.Kind.AGGREGATE_REPORTING: (aggregate, []),
        },
        consent_text_version="2026-01",
        **fields,
    )
    if enrol:
        participant = actions.enrol_participant(user, participant, on=dt.date(2026, 1, 5))
    return participant
