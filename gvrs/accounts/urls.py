from __future__ import annotations

from django.contrib.auth import views as auth
from django.urls import path

from gvrs.accounts.forms import ThrottledAuthenticationForm
from gvrs.accounts.views import PasswordChangeView, api_token_revoke, api_tokens

urlpatterns = [
    path(
        "login/",
        auth.LoginView.as_view(
            template_name="accounts/login.html", authentication_form=ThrottledAuthenticationForm
        ),
        name="accounts-login",
    ),
    path("logout/", auth.LogoutView.as_view(), name="accounts-logout"),
    path(
        "password/",
        PasswordChangeView.as_view(
            template_name="accounts/password_change.html", success_url="done/"
        ),
        name="accounts-password-change",
    ),
    path(
        "password/done/",
        auth.PasswordChangeDoneView.as_view(template_name="accounts/password_change_done.html"),
        name="accounts-password-change-done",
    ),
    path("tokens/", api_tokens, name="accounts-tokens"),
    path("tokens/<int:pk>/revoke/", api_token_revoke, name="accounts-token-revoke"),
]
