"""The subscription form: a place (name, slug or path) and the kinds to receive."""

from __future__ import annotations

from django import forms

from gvrs.cliutil import did_you_mean
from gvrs.incidents.models import Jurisdiction
from gvrs.notifications.models import KIND_PERMISSIONS, Kind


class SubscribeForm(forms.Form):
    place = forms.CharField(max_length=200, help_text="a city, county or state, e.g. Kern County")
    kinds = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Email me about")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kinds"].choices = allowed_kinds(user)

    def clean_place(self) -> Jurisdiction:
        name = self.cleaned_data["place"].strip()
        try:
            return Jurisdiction.objects.named(name)
        except Jurisdiction.DoesNotExist:
            names = Jurisdiction.objects.values_list("name", flat=True).distinct()
            raise forms.ValidationError(
                f"No place is called {name!r}.{did_you_mean(name, names)}"
            ) from None
        except Jurisdiction.MultipleObjectsReturned:
            raise forms.ValidationError(
                f"Several places are called {name!r}; give its path, e.g. 'CA > {name}'."
            ) from None


def allowed_kinds(user) -> list[tuple[str, str]]:
    """The kinds this user's role may receive."""
    return [
        (kind.value, kind.label)
        for kind in Kind
        if any(user.has_perm(p) for p in KIND_PERMISSIONS[kind])
    ]
