"""Forms of the incident registry pages; ``clean_*`` return domain types."""

from __future__ import annotations

from django import forms

from gvrs.data.mapping import MappingError, available_formats, load_format

DETECT = "detect"


class IncidentSearchForm(forms.Form):
    SORTS = {
        "-date": ("-occurred_on", "-occurred_time"),
        "date": ("occurred_on", "occurred_time"),
        "kind": ("kind", "-occurred_on"),
        "jurisdiction": ("jurisdiction__name", "-occurred_on"),
        "-victims": ("-killed", "-injured", "-occurred_on"),
    }
    q = forms.CharField(required=False, label="Search", help_text="record number or area")
    kind = forms.ChoiceField(required=False)
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in SORTS])

    def __init__(self, *args, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "All kinds"), *kinds]

    def clean_sort(self) -> tuple[str, ...]:
        return self.SORTS[self.cleaned_data.get("sort") or "-date"]


class UploadForm(forms.Form):
    file = forms.FileField(help_text="CSV (plain or .gz), XLSX or Parquet")
    format = forms.ChoiceField(initial=DETECT)
    jurisdiction = forms.CharField(
        required=False, help_text="for rows that name none, e.g. Bakersfield"
    )
    accept_valid = forms.BooleanField(
        required=False, label="Import the valid rows and set invalid ones aside"
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
