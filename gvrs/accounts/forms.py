"""Sign-in and password change, throttled by django-axes (``gvrs.accounts.throttle``)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.contrib.auth.signals import user_login_failed

from gvrs.accounts.throttle import client_ip, locked_message, one_attempt_at_a_time


class ThrottledAuthenticationForm(AuthenticationForm):
    """Each attempt is evaluated alone for its address: axes' lockout checks (per user name
    and address, and per address across names) and its failure record happen inside one
    lock, so parallel attempts cannot all slip through before the first failures are
    counted."""

    def clean(self):
        username = (self.data.get("username") or "").strip()
        error = None
        with one_attempt_at_a_time(username, client_ip(self.request) if self.request else None):
            try:
                cleaned = super().clean()
            except forms.ValidationError as exc:
                error = exc  # raised after the commit, so the failure stays recorded
        if error is not None:
            raise error
        return cleaned


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The old-password check counts as a sign-in attempt for the user's name: a wrong old
    password is a failure to axes, and a locked-out pair cannot keep guessing here."""

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        from axes.handlers.proxy import AxesProxyHandler

        old = self.cleaned_data["old_password"]
        credentials = {"username": self.user.get_username()}
        with one_attempt_at_a_time(credentials["username"], client_ip(self.request)):
            if AxesProxyHandler.is_locked(self.request, credentials):
                raise forms.ValidationError(locked_message(self.request), code="throttled")
            ok = self.user.check_password(old)
            if not ok:
                user_login_failed.send(
                    sender=__name__, credentials=credentials, request=self.request
                )
        if not ok:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old


class TokenForm(forms.Form):
    """A new API token: what it is for and how long it lasts (it is always read-only)."""

    name = forms.CharField(max_length=100, help_text="what it is for, e.g. Power BI dashboard")
    lifetime_days = forms.TypedChoiceField(
        label="Expires after",
        coerce=int,
        initial=90,
        choices=[(7, "7 days"), (30, "30 days"), (90, "90 days"), (365, "1 year")],
    )
