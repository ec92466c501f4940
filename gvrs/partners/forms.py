"""Forms for partner work. Every choice offered is limited to the user's own organization
(programs, participants, areas are public places), and ``clean_*`` returns domain values."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from gvrs.accounts.models import Organization
from gvrs.incidents.models import Area
from gvrs.partners.models import (
    Consent,
    Contact,
    Goal,
    Mediation,
    Participant,
    Program,
    Service,
)

CONSENT_TEXT_VERSION = "2026-01"  # the consent form shown at intake; bump when its text changes
_DATE = forms.DateInput(attrs={"type": "date"})


def _not_future(day: dt.date | None, what: str) -> dt.date | None:
    if day and day > timezone.localdate():
        raise forms.ValidationError(f"{what} cannot be in the future")
    return day


class IntakeForm(forms.Form):
    program = forms.ModelChoiceField(queryset=Program.objects.none())
    name = forms.CharField(max_length=200)
    date_of_birth = forms.DateField(required=False, widget=_DATE)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(max_length=300, required=False)
    area = forms.ModelChoiceField(
        queryset=Area.objects.none(), required=False, help_text="neighborhood of residence"
    )
    eligibility_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    priority_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    consent_referral = forms.BooleanField(
        required=False, label="Agrees to disclosure to another partner when referred"
    )
    referral_fields = forms.MultipleChoiceField(
        choices=[(f, f.replace("_", " ")) for f in Consent.SHAREABLE_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="What may travel with a referral",
    )
    consent_aggregate = forms.BooleanField(
        required=False, label="Agrees to be counted in aggregate reports"
    )
    consent_text_version = forms.CharField(max_length=40, initial=CONSENT_TEXT_VERSION)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(organization=organization)
        self.fields["area"].queryset = Area.objects.select_related("jurisdiction").order_by(
            "jurisdiction__name", "name"
        )

    def clean_date_of_birth(self) -> dt.date | None:
        day = _not_future(self.cleaned_data["date_of_birth"], "a date of birth")
        if day and day < dt.date(1900, 1, 1):
            raise forms.ValidationError("a date of birth before 1900 is not plausible")
        return day

    def clean(self):
        data = super().clean()
        if data.get("referral_fields") and not data.get("consent_referral"):
            self.add_error("referral_fields", "fields can travel only with consent to disclose")
        return data

    def consents(self) -> dict[str, tuple[bool, list[str]]]:
        data = self.cleaned_data
        return {
            Consent.Kind.REFER_TO_PARTNER: (
                data["consent_referral"],
                data["referral_fields"] if data["consent_referral"] else [],
            ),
            Consent.Kind.AGGREGATE_REPORTING: (data["consent_aggregate"], []),
        }


class PersonalForm(forms.Form):
    """A participant's personal fields, corrected after intake. ``version`` is the digest of
    the values the form was opened with (``actions.personal_version``)."""

    name = forms.CharField(max_length=200, error_messages={"required": "a name is required"})
    date_of_birth = forms.DateField(required=False, widget=_DATE)
    phone = forms.CharField(max_length=40, required=False)
    address = forms.CharField(max_length=300, required=False)
    area = forms.ModelChoiceField(
        queryset=Area.objects.none(), required=False, help_text="neighborhood of residence"
    )
    version = forms.CharField(widget=forms.HiddenInput, max_length=40)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.select_related("jurisdiction").order_by(
            "jurisdiction__name", "name"
        )

    def clean_date_of_birth(self) -> dt.date | None:
        return IntakeForm.clean_date_of_birth(self)


class GoalStatusForm(forms.Form):
    goal = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=Goal.Status.choices)


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(choices=Consent.Kind.choices)
    granted = forms.BooleanField(required=False)
    fields = forms.MultipleChoiceField(
        choices=[(f, f.replace("_", " ")) for f in Consent.SHAREABLE_FIELDS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    text_version = forms.CharField(max_length=40, initial=CONSENT_TEXT_VERSION)


class ExitForm(forms.Form):
    reason = forms.ChoiceField(choices=Participant.ExitReason.choices)
    on = forms.DateField(widget=_DATE, initial=timezone.localdate)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"], "an exit date")


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Name")
    status = forms.ChoiceField(
        choices=[("", "any status"), *Participant.Status.choices], required=False
    )


class GoalForm(forms.Form):
    domain = forms.ChoiceField(choices=Goal.Domain.choices)
    description = forms.CharField(max_length=500)
    target_on = forms.DateField(required=False, widget=_DATE)


class MilestoneForm(forms.Form):
    goal = forms.IntegerField(widget=forms.HiddenInput)
    description = forms.CharField(max_length=500)
    due_on = forms.DateField(required=False, widget=_DATE)


class QuickContactForm(forms.Form):
    """Everything but the participant has a default: a contact takes two taps and a button."""

    participant = forms.ModelChoiceField(queryset=Participant.objects.none())
    on = forms.DateField(widget=_DATE, initial=timezone.localdate, label="Date")
    kind = forms.ChoiceField(choices=Contact.Kind.choices, initial=Contact.Kind.IN_PERSON)
    place = forms.ChoiceField(choices=Contact.Place.choices, initial=Contact.Place.STREET)
    duration_minutes = forms.IntegerField(min_value=1, max_value=24 * 60, initial=15)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, participants, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants
        self.fields["participant"].label_from_instance = lambda p: p.name

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"], "a contact")


class ServiceForm(forms.Form):
    kind = forms.ChoiceField(choices=Service.Kind.choices)
    delivered_on = forms.DateField(widget=_DATE, initial=timezone.localdate)
    note = forms.CharField(required=False, max_length=500)

    def clean_delivered_on(self) -> dt.date:
        return _not_future(self.cleaned_data["delivered_on"], "a service")


_ANSWER = forms.NullBooleanSelect


class OutcomeForm(forms.Form):
    window_start = forms.DateField(widget=_DATE)
    window_end = forms.DateField(widget=_DATE)
    alive = forms.NullBooleanField(widget=_ANSWER)
    not_shot = forms.NullBooleanField(widget=_ANSWER)
    not_arrested_firearm = forms.NullBooleanField(
        widget=_ANSWER, label="Not arrested for a firearm offence"
    )
    in_school_or_work = forms.NullBooleanField(widget=_ANSWER)

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end < start:
            self.add_error("window_end", "the window ends before it starts")
        if end:
            _not_future(end, "an outcome window")
        return data


class ReferralForm(forms.Form):
    to_organization = forms.ModelChoiceField(queryset=Organization.objects.none(), label="To")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    needs = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="travels only if the participant's consent covers needs",
    )

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_organization"].queryset = Organization.objects.filter(
            kind=Organization.Kind.PARTNER
        ).exclude(pk=organization.pk)


class RespondForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("decline", "decline")])
    program = forms.ModelChoiceField(queryset=Program.objects.none(), required=False)
    decline_reason = forms.CharField(required=False, max_length=500)

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = Program.objects.filter(organization=organization)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "accept" and not data.get("program"):
            self.add_error("program", "choose the program that takes the person")
        if data.get("decision") == "decline" and not (data.get("decline_reason") or "").strip():
            self.add_error("decline_reason", "say why the referral is declined")
        return data


class CompleteForm(forms.Form):
    outcome = forms.CharField(max_length=500)


class MediationForm(forms.ModelForm):
    """A mediation, with the organization's own participants who were in it (names inside
    the organization only)."""

    class Meta:
        model = Mediation
        fields = ["on", "area", "parties", "participants", "outcome", "note"]
        widgets = {"on": _DATE}
        help_texts = {"participants": "your participants who were among the parties"}

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["participants"]
        field.queryset = Participant.objects.filter(
            organization=organization, purged_at__isnull=True
        )
        field.label_from_instance = lambda p: p.name
        field.widget.attrs["size"] = 6

    def clean(self):
        data = super().clean()
        named = data.get("participants")
        if named is not None and data.get("parties") and len(named) > data["parties"]:
            self.add_error("participants", "more participants named than parties")
        return data

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"], "a mediation")


class RetaliationForm(forms.Form):
    on = forms.DateField(widget=_DATE, initial=timezone.localdate)
    area = forms.ModelChoiceField(queryset=Area.objects.all(), required=False)
    note = forms.CharField(required=False, max_length=500)

    def clean_on(self) -> dt.date:
        return _not_future(self.cleaned_data["on"], "an interrupted retaliation")


class ProgramForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "name",
            "kind",
            "capacity",
            "caseload_per_worker",
            "contact_standard_days",
            "retention_days",
        ]

    def clean_capacity(self) -> int:
        capacity = self.cleaned_data["capacity"]
        if capacity < 1:
            raise forms.ValidationError("a program takes at least one participant")
        return capacity
