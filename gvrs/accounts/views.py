"""The account pages gvrs adds to Django's own sign-in views: the password change that counts
a wrong old password as a failed sign-in, what a locked-out attempt gets, and the user's own
API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from gvrs.accounts import tokens
from gvrs.accounts.forms import ThrottledAuthenticationForm, ThrottledPasswordChangeForm, TokenForm
from gvrs.accounts.models import ApiToken
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


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's API tokens: make one (its secret is shown on this response only), see when
    each was last used and when it expires."""
    form = TokenForm(request.POST or None)
    made = None
    if request.method == "POST" and form.is_valid():
        try:
            made = tokens.create_token(
                request.user, form.cleaned_data["name"], form.cleaned_data["lifetime_days"]
            )
            form = TokenForm()
        except tokens.TokenError as exc:
            form.add_error(None, str(exc))
    context = {
        "form": form,
        "made": made,
        "tokens": ApiToken.objects.filter(user_id=request.user.pk)[:100],
        "now": timezone.now(),
    }
    return render(request, "accounts/tokens.html", context)


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens.revoke_token(request.user, pk)
    if token is not None:
        messages.success(request, f"Token {token.name!r} ({token.prefix}…) revoked.")
    return redirect("accounts-tokens")
