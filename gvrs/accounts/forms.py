"""Sign-in with throttling: after ``MAX_FAILURES`` failed attempts for a user name (or from
an address) in ``WINDOW``, sign-in is refused until the window passes."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Q
from django.utils import timezone

from gvrs.accounts.models import LoginFailure

MAX_FAILURES = 5
WINDOW = dt.timedelta(minutes=15)


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


class ThrottledAuthenticationForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": "Too many failed sign-in attempts. Try again in 15 minutes.",
    }

    def clean(self):
        username = (self.data.get("username") or "").strip()
        ip = client_ip(self.request)
        since = timezone.now() - WINDOW
        recent = LoginFailure.objects.filter(at__gte=since).filter(
            Q(username__iexact=username) | Q(ip_address=ip) if ip else Q(username__iexact=username)
        )
        if recent.count() >= MAX_FAILURES:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            LoginFailure.objects.create(username=username[:150], ip_address=ip)
            raise
