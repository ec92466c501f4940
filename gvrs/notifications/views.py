"""The user's own email subscriptions (a page of the account area)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from gvrs.notifications.forms import SubscribeForm, allowed_kinds
from gvrs.notifications.models import Notice, Subscription
from gvrs.notifications.sending import email_configured


@login_required
@require_http_methods(["GET", "POST"])
def settings_page(request: HttpRequest) -> HttpResponse:
    form = SubscribeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        place = form.cleaned_data["place"]
        for kind in form.cleaned_data["kinds"]:
            Subscription.objects.get_or_create(user=request.user, place=place, kind=kind)
        messages.success(request, f"You will be emailed about {place.name}.")
        return redirect("notifications-settings")
    context = {
        "form": form,
        "can_subscribe": bool(allowed_kinds(request.user)),
        "subscriptions": Subscription.objects.filter(user=request.user).select_related("place"),
        "recent": Notice.objects.filter(user=request.user)[:20],
        "email_on": email_configured(),
    }
    return render(request, "notifications/settings.html", context)


@login_required
@require_POST
def unsubscribe(request: HttpRequest, pk: int) -> HttpResponse:
    Subscription.objects.filter(user=request.user, pk=pk).delete()
    return redirect("notifications-settings")
