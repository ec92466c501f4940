"""Forms of the incident registry pages; ``clean_*`` return domain types."""

from __future__ import annotations

from django import forms

from gvrs.data.mapping import MappingError, available_formats, load_format
from gvrs.data.states import state_code

DETECT = "detect"


class IncidentSearchForm(forms.Form):
    SORTS = {
        "-date": ("-occurred_on", "-occurred_time"),
        "date": ("occurred_on", "occurred_time"),
        "kind": ("kind", "-occurred_on"),
        "jurisdiction": ("jurisdiction__name", "-occurred_on"),
        "-victims": ("-killed", "-injured", "-occurred_on"),
    }
    q = forms.CharField(
        required=False, label="Search", help_text="record number, area or place", max_length=100
    )
    place = forms.CharField(
        required=False,
        label="Place",
        max_length=200,
        help_text="a state, county or city (the places inside it included)",
    )
    kind = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "All kinds"), *kinds]

    def clean_sort(self) -> tuple[str, ...]:
        return self.SORTS[self.cleaned_data.get("sort") or "-date"]

    def clean_place(self):
        """The jurisdiction named (name or slug), or None; an unknown name suggests one."""
        from gvrs.cliutil import did_you_mean
        from gvrs.incidents.models import Jurisdiction

        name = self.cleaned_data.get("place", "").strip()
        if not name:
            return None
        try:
            return Jurisdiction.objects.named(name)
        except Jurisdiction.DoesNotExist:
            names = Jurisdiction.objects.values_list("name", flat=True).distinct()
            hint = did_you_mean(name, names)
            raise forms.ValidationError(f"No place is called {name!r}.{hint}") from None
        except Jurisdiction.MultipleObjectsReturned:
            raise forms.ValidationError(
                f"Several places are called {name!r}; use the name with its state or county."
            ) from None

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            raise forms.ValidationError("The end date is before the start date.")
        return cleaned


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (plain or .gz), XLSX or Parquet")
    format = forms.ChoiceField(initial=DETECT)
    jurisdiction = forms.CharField(
        required=False, help_text="for rows that name none, e.g. Bakersfield"
    )
    accept_valid = forms.BooleanField(
        required=False, label="Import the valid rows and set invalid ones aside"
    )
    state = forms.CharField(
        required=False,
        help_text="state of places the file names without one, e.g. CA "
        "(default: the format's, else the deployment's)",
    )
    new_places = forms.BooleanField(
        required=False,
        label="Create places whose name already exists elsewhere in the state "
        "(a separate place; an existing one is never moved)",
    )
    covers_from = forms.DateField(
        required=False,
        label="Data from",
        help_text="first day the file covers (default: its first date)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    covers_through = forms.DateField(
        required=False,
        label="Data through",
        help_text="last day the file covers (default: its latest date, strays left out)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("covers_from"), cleaned.get("covers_through")
        if start and end and end < start:
            self.add_error("covers_through", "ends before the data start")
        return cleaned

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [(DETECT, "Detect from the columns")] + [
            (name, load_format(name).title) for name in available_formats()
        ]

    def clean_format(self):
        name = self.cleaned_data["format"]
        if name == DETECT:
            return None
        try:
            return load_format(name)
        except MappingError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_state(self) -> str:
        text = self.cleaned_data["state"].strip()
        if text and state_code(text) is None:
            raise forms.ValidationError(f"{text!r} is not a US state (e.g. CA or California)")
        return state_code(text) if text else ""
