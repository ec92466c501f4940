"""The account pages gvrs adds to Django's own sign-in views: the password change that counts
a wrong old password as a failed sign-in, and what a locked-out attempt gets."""

from __future__ import annotations

from django.contrib.auth import views as auth
from django.shortcuts import render

from gvrs.accounts.forms import ThrottledAuthenticationForm, ThrottledPasswordChangeForm
from gvrs.accounts.throttle import locked_message


class PasswordChangeView(auth.PasswordChangeView):
    form_class = ThrottledPasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


def lockout_response(request, response=None, credentials=None, *args, **kwargs):
    """What a locked-out attempt gets (django-axes' AXES_LOCKOUT_CALLABLE): the sign-in page
    with the reason, status 429."""
    form = ThrottledAuthenticationForm(request, data=request.POST or None)
    form.is_bound = False
    return render(
        request,
        "accounts/login.html",
        {"form": form, "locked_message": locked_message(request)},
        status=429,
    )
