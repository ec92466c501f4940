"""Forms of the review pages; ``clean_*`` return domain values."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from gvrs.accounts.models import Organization
from gvrs.data.schema import Circumstance
from gvrs.incidents.models import Area, Incident
from gvrs.reviews.models import Conflict, Group, Response, Review

_TEXT = {"rows": 3}


class ReviewForm(forms.Form):
    group_involvement = forms.ChoiceField(choices=Review.Involvement.choices)
    evidence = forms.CharField(
        widget=forms.Textarea(attrs=_TEXT),
        required=False,
        help_text="what the involvement rests on (required when confirmed or suspected)",
    )
    circumstance = forms.ChoiceField(
        choices=[(c.value, c.value.replace("_", " ")) for c in Circumstance]
    )
    victim_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    suspect_groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    retaliation_risk = forms.ChoiceField(choices=[("", "—"), *Review.Risk.choices], required=False)
    risk_reason = forms.CharField(widget=forms.Textarea(attrs=_TEXT), required=False)

    def __init__(self, *args, groups, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["victim_groups"].queryset = groups
        self.fields["suspect_groups"].queryset = groups

    def clean(self):
        data = super().clean()
        involvement = data.get("group_involvement")
        if involvement in (Review.Involvement.CONFIRMED, Review.Involvement.SUSPECTED):
            if not data.get("victim_groups") and not data.get("suspect_groups"):
                self.add_error("victim_groups", "Name the group of the victims or of the suspects.")
            if not (data.get("evidence") or "").strip():
                self.add_error("evidence", "Say what the involvement rests on.")
        if data.get("retaliation_risk") and not (data.get("risk_reason") or "").strip():
            self.add_error("risk_reason", "Give the reason for the risk.")
        if not data.get("retaliation_risk"):
            self.add_error("retaliation_risk", "Assess the retaliation risk.")
        return data


class ResponseForm(forms.Form):
    kind = forms.ChoiceField(choices=Response.Kind.choices)
    owner = forms.CharField(max_length=150, help_text="the person or team who does it")
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.all(), required=False, help_text="their organization"
    )
    due_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text="within 24 hours for the plan",
    )
    follow_up = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class ResponseUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=Response.Status.choices)
    follow_up = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class DesignationForm(forms.Form):
    criteria = forms.CharField(
        widget=forms.Textarea(attrs=_TEXT),
        help_text="which criteria are met (a name, a claimed area, a pattern of violence)",
    )
    evidence = forms.CharField(widget=forms.Textarea(attrs=_TEXT))
    expires_on = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="leave empty for the policy's full term (12 months by default)",
    )


class GroupForm(DesignationForm):
    name = forms.CharField(max_length=120)
    areas = forms.ModelMultipleChoiceField(queryset=Area.objects.none(), required=False)
    field_order = ["name", "areas", "criteria", "evidence", "expires_on"]

    def __init__(self, *args, areas, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["areas"].queryset = areas


class ConflictForm(forms.Form):
    group_a = forms.ModelChoiceField(queryset=Group.objects.none())
    group_b = forms.ModelChoiceField(queryset=Group.objects.none())
    kind = forms.ChoiceField(choices=Conflict.Kind.choices)
    started_on = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    ended_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    evidence = forms.CharField(widget=forms.Textarea(attrs=_TEXT), required=False)
    incidents = forms.CharField(
        required=False,
        help_text="record numbers of the incidents that evidence it, separated by commas",
    )

    def __init__(self, *args, groups, places: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group_a"].queryset = groups
        self.fields["group_b"].queryset = groups
        self.places = places

    def clean_incidents(self) -> list[Incident]:
        numbers = [n.strip() for n in self.cleaned_data["incidents"].split(",") if n.strip()]
        found = {
            i.source_id: i
            for i in Incident.objects.filter(source_id__in=numbers, jurisdiction_id__in=self.places)
        }
        missing = [n for n in numbers if n not in found]
        if missing:
            raise forms.ValidationError(f"No incident here with record number {missing[0]}.")
        return [found[n] for n in numbers]

    def clean(self):
        data = super().clean()
        if data.get("group_a") and data.get("group_a") == data.get("group_b"):
            self.add_error("group_b", "A conflict or alliance is between two different groups.")
        if (
            data.get("ended_on")
            and data.get("started_on")
            and data["ended_on"] < data["started_on"]
        ):
            self.add_error("ended_on", "It cannot end before it started.")
        return data


def default_due() -> dt.datetime:
    return timezone.localtime() + dt.timedelta(hours=24)
