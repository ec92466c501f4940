"""Review pages: the queue, a review with its responses and alerts, the 24-hour plan, the
group audit, alerts, the partners' alert inbox and the figures.

Who sees what: the queue, reviews, plans, the group audit and alerts are for roles with
``reviews.review_shootings`` (administrator, analysts, police); anyone else gets the same 404
as for a page that does not exist. Partners see alerts only in their inbox, as their
organization received them (area, window, level, reason), fetched through
``_get_delivery_for_user``. No page here shows a participant or any partner record, so a
police analyst on these pages sees nothing of the partners' side.
"""

from __future__ import annotations

import datetime as dt
import functools
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from gvrs.accounts.audit import record
from gvrs.data import csvsafe
from gvrs.incidents.models import Area, Jurisdiction
from gvrs.partners.models import partner_organization
from gvrs.reports.places import home_jurisdiction
from gvrs.reviews import actions
from gvrs.reviews.figures import review_figures
from gvrs.reviews.forms import (
    ConflictForm,
    DesignationForm,
    GroupForm,
    ResponseForm,
    ResponseUpdateForm,
    ReviewForm,
    default_due,
)
from gvrs.reviews.frames import county_of, network_inputs
from gvrs.reviews.models import (
    Alert,
    AlertDelivery,
    Conflict,
    Group,
    Response,
    Review,
)

RECENTLY_REVIEWED = 25  # the queue page lists this many of the latest finished reviews


def needs(permission: str):
    """Only users with ``permission``; anyone else gets a 404, as for a missing page. It goes
    above ``require_POST`` and its kind: a role that may not see a page gets the same 404 for
    every method, never a 405 that says the page is there."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                raise Http404
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate


def alert_recipients(view):
    """Only partner organizations' staff who receive alerts; anyone else gets a 404, as for a
    missing page (checked before the method, so a wrong method tells them nothing either)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if partner_organization(request.user) is None or not request.user.has_perm(
            "reviews.receive_alerts"
        ):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _get_review_for_user(request: HttpRequest, pk: int) -> Review:
    if not request.user.has_perm("reviews.review_shootings"):
        raise Http404
    return get_object_or_404(
        Review.objects.select_related("incident__jurisdiction", "incident__area", "reviewed_by"),
        pk=pk,
    )


def _get_response_for_user(request: HttpRequest, pk: int) -> Response:
    if not request.user.has_perm("reviews.review_shootings"):
        raise Http404
    return get_object_or_404(Response.objects.select_related("review"), pk=pk)


def _get_group_for_user(request: HttpRequest, pk: int) -> Group:
    if not request.user.has_perm("reviews.manage_groups"):
        raise Http404
    return get_object_or_404(Group.objects.select_related("jurisdiction"), pk=pk)


def _get_delivery_for_user(request: HttpRequest, pk: int) -> AlertDelivery:
    org = partner_organization(request.user)
    if org is None or not request.user.has_perm("reviews.receive_alerts"):
        raise Http404
    return get_object_or_404(
        AlertDelivery.objects.filter(organization=org).select_related("alert__area"), pk=pk
    )


def _place(request: HttpRequest) -> Jurisdiction | None:
    """The place a page is about: ?place=<slug>, else the deployment's home, else the
    county of the latest shooting in the queue."""
    slug = request.GET.get("place")
    if slug:
        return get_object_or_404(Jurisdiction, slug=slug)
    home = home_jurisdiction()
    if home is not None:
        return home
    latest = (
        Review.objects.select_related("incident__jurisdiction__parent")
        .order_by("-incident__occurred_on")
        .first()
    )
    return county_of(latest.incident.jurisdiction) if latest else None


def _shown(alerts, on: dt.date) -> list:
    """Alerts as they may be shown on ``on``: one about a group whose designation has lapsed
    is left out, and a lapsed group's name in a reason reads "a group no longer designated"
    (a lapsed designation leaves every view, the messages already sent included)."""
    lapsed = sorted(Group.objects.lapsed(on).values_list("name", flat=True), key=len)[::-1]
    shown = []
    for alert in alerts:
        if alert.group_id is not None and alert.group.name in lapsed:
            continue
        reason = alert.reason
        for name in lapsed:
            reason = reason.replace(name, "a group no longer designated")
        alert.shown_reason = reason
        shown.append(alert)
    return shown


def _today(place: Jurisdiction | None) -> dt.date:
    return place.today() if place is not None else timezone.localdate()


# --- the queue and a review -------------------------------------------------------------


@needs("reviews.review_shootings")
def queue(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    today = _today(place)
    reviews = Review.objects.select_related("incident__jurisdiction", "incident__area")
    if place is not None:
        reviews = reviews.filter(incident__jurisdiction_id__in=place.descendant_ids())
    open_reviews = list(reviews.open().order_by("due_on", "pk"))
    done = list(reviews.done().order_by("-reviewed_at", "-pk")[:RECENTLY_REVIEWED])
    return render(
        request,
        "reviews/queue.html",
        {
            "place": place,
            "today": today,
            "open_reviews": open_reviews,
            "overdue": sum(1 for r in open_reviews if r.due_on < today),
            "done": done,
        },
    )


def _review_groups(review: Review):
    county = county_of(review.incident.jurisdiction)
    on = review.incident.jurisdiction.today()
    return Group.objects.designated(on).filter(jurisdiction_id__in=county.descendant_ids())


def _kept(chosen, recorded, shown) -> list[Group]:
    """The groups to save on a review: those chosen on the form, plus those it recorded whose
    designation has lapsed since (not shown, so not to be dropped by saving the form)."""
    shown_ids = set(shown.values_list("pk", flat=True))
    return list(chosen) + [g for g in recorded.all() if g.pk not in shown_ids]


@needs("reviews.review_shootings")
@require_http_methods(["GET", "POST"])
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review_for_user(request, pk)
    groups = _review_groups(review)
    if request.method == "POST":
        form = ReviewForm(request.POST, groups=groups)
        if form.is_valid():
            data = form.cleaned_data
            alerts = actions.complete_review(
                request.user,
                review,
                group_involvement=data["group_involvement"],
                evidence=data["evidence"],
                circumstance=data["circumstance"],
                victim_groups=_kept(data["victim_groups"], review.victim_groups, groups),
                suspect_groups=_kept(data["suspect_groups"], review.suspect_groups, groups),
                retaliation_risk=data["retaliation_risk"],
                risk_reason=data["risk_reason"],
            )
            messages.success(
                request,
                "Review saved."
                + (f" {len(alerts)} retaliation alert(s) opened." if alerts else ""),
            )
            return redirect("reviews-review", pk=review.pk)
    else:
        record(request.user, "view", review)
        designated = set(groups.values_list("pk", flat=True))
        form = ReviewForm(
            initial={
                "group_involvement": review.group_involvement or Review.Involvement.UNKNOWN,
                "evidence": review.evidence,
                "circumstance": review.circumstance,
                "victim_groups": [g.pk for g in review.victim_groups.all() if g.pk in designated],
                "suspect_groups": [g.pk for g in review.suspect_groups.all() if g.pk in designated],
                "retaliation_risk": review.retaliation_risk,
                "risk_reason": review.risk_reason,
            },
            groups=groups,
        )
    return render(
        request,
        "reviews/review.html",
        {
            "review": review,
            "incident": review.incident,
            "today": review.incident.jurisdiction.today(),
            "form": form,
            "responses": review.responses.select_related("organization"),
            "response_form": ResponseForm(initial={"due_at": default_due()}),
            "update_forms": True,
            "alerts": _shown(
                review.alerts.select_related("area", "group"), review.incident.jurisdiction.today()
            ),
            "changes": review.incident.changes.all(),
        },
    )


@needs("reviews.review_shootings")
@require_POST
def response_add(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review_for_user(request, pk)
    form = ResponseForm(request.POST)
    # A time typed on the form is the place's local time, as the page shows times.
    with timezone.override(review.incident.jurisdiction.time_zone):
        valid = form.is_valid()
    if valid:
        actions.add_response(request.user, review, **form.cleaned_data)
        messages.success(request, "Response added to the plan.")
    else:
        messages.error(request, "Response not added: " + _errors(form))
    return _back(request, review.pk)


@needs("reviews.review_shootings")
@require_POST
def response_update(request: HttpRequest, pk: int) -> HttpResponse:
    response = _get_response_for_user(request, pk)
    form = ResponseUpdateForm(request.POST)
    if form.is_valid():
        actions.update_response(request.user, response, **form.cleaned_data)
        messages.success(request, "Response updated.")
    else:
        messages.error(request, "Response not updated: " + _errors(form))
    return _back(request, response.review_id)


def _errors(form) -> str:
    return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in form.errors.items())


def _back(request: HttpRequest, review_pk: int) -> HttpResponse:
    """Back to the page the form was on (the plan or the review), never off the review."""
    target = request.POST.get("next", "")
    if target.startswith("/reviews/"):
        return redirect(target)
    return redirect("reviews-review", pk=review_pk)


@needs("reviews.review_shootings")
def plan(request: HttpRequest, pk: int) -> HttpResponse:
    review = _get_review_for_user(request, pk)
    record(request.user, "view plan", review)
    responses = list(review.responses.select_related("organization"))
    return render(
        request,
        "reviews/plan.html",
        {
            "review": review,
            "incident": review.incident,
            "responses": responses,
            "open_count": sum(1 for r in responses if r.status == Response.Status.PLANNED),
            "statuses": Response.Status.choices,
            "response_form": ResponseForm(initial={"due_at": default_due()}),
            "alerts": _shown(
                review.alerts.select_related("area", "group"), review.incident.jurisdiction.today()
            ),
        },
    )


# --- the group audit ---------------------------------------------------------------------


def _audit_context(place: Jurisdiction, on: dt.date) -> dict:
    places = place.descendant_ids()
    groups = list(
        Group.objects.designated(on)
        .filter(jurisdiction_id__in=places)
        .select_related("jurisdiction")
        .prefetch_related("areas", "designations")
    )
    for group in groups:
        group.current = next(
            d for d in group.designations.all() if d.designated_on <= on <= d.expires_on
        )
    ids = {g.pk for g in groups}
    conflicts = list(
        Conflict.objects.filter(group_a_id__in=ids, group_b_id__in=ids)
        .select_related("group_a", "group_b")
        .prefetch_related("incidents")
    )
    return {"groups": groups, "conflicts": conflicts, "places": places}


@needs("reviews.review_shootings")
def groups(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    if place is None:
        return render(request, "reviews/groups.html", {"place": None})
    today = place.today()
    context = _audit_context(place, today)
    network = None
    inputs = network_inputs(place, today)
    if inputs.conflicts:
        from gvrs.analysis.conflicts import active_conflicts, escalating, network_figure

        network = {
            "figure": json.loads(
                network_figure(inputs.conflicts, inputs.shootings, today).to_json()
            ),
            "active": [
                c for c in active_conflicts(inputs.conflicts, today) if c.kind == "conflict"
            ],
            "escalating": escalating(inputs.conflicts, inputs.shootings, on=today),
        }
    can_manage = request.user.has_perm("reviews.manage_groups")
    areas = Area.objects.filter(jurisdiction_id__in=context["places"]).select_related(
        "jurisdiction"
    )
    return render(
        request,
        "reviews/groups.html",
        {
            **context,
            "place": place,
            "today": today,
            "network": network,
            "can_manage": can_manage,
            "lapsed": Group.objects.lapsed(today)
            .filter(jurisdiction_id__in=context["places"])
            .count()
            if can_manage
            else 0,
            "group_form": GroupForm(areas=areas) if can_manage else None,
            "conflict_form": ConflictForm(
                groups=Group.objects.filter(pk__in=[g.pk for g in context["groups"]]),
                places=context["places"],
            )
            if can_manage
            else None,
        },
    )


@needs("reviews.review_shootings")
def groups_csv(request: HttpRequest) -> HttpResponse:
    """The group audit as it stands today: designated groups only, no person."""
    place = _place(request)
    if place is None:
        raise Http404
    today = place.today()
    context = _audit_context(place, today)
    record(request.user, "export", object_type="group audit", detail=f"{place.slug} {today}")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="groups-{place.slug}-{today}.csv"'
    out = csvsafe.writer(response)
    out.writerow(
        [
            "group",
            "place",
            "areas",
            "designated_on",
            "review_on",
            "expires_on",
            "criteria",
            "evidence",
            "designated_by",
        ]
    )
    for g in context["groups"]:
        d = g.current
        out.writerow(
            [
                str(v)
                for v in (
                    g.name,
                    g.jurisdiction.name,
                    "; ".join(a.name for a in g.areas.all()),
                    d.designated_on,
                    d.review_on,
                    d.expires_on,
                    d.criteria,
                    d.evidence,
                    d.designated_by_name,
                )
            ]
        )
    return response


@needs("reviews.manage_groups")
@require_POST
def group_new(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    if place is None:
        raise Http404
    places = place.descendant_ids()
    form = GroupForm(request.POST, areas=Area.objects.filter(jurisdiction_id__in=places))
    if form.is_valid():
        data = form.cleaned_data
        areas = list(data["areas"])
        home = areas[0].jurisdiction if areas else place
        if Group.objects.filter(jurisdiction=home, name=data["name"]).exists():
            messages.error(request, f"{data['name']} is already a group of {home}: renew it.")
        else:
            try:
                group = actions.create_group(request.user, home, name=data["name"], areas=areas)
                actions.designate(
                    request.user,
                    group,
                    criteria=data["criteria"],
                    evidence=data["evidence"],
                    on=place.today(),
                    expires_on=data["expires_on"],
                )
                messages.success(request, f"{group.name} designated.")
            except actions.ActionError as exc:
                messages.error(request, str(exc))
    else:
        messages.error(request, "Group not added: " + _errors(form))
    return redirect(f"/reviews/groups/?place={place.slug}")


@needs("reviews.manage_groups")
@require_http_methods(["GET", "POST"])
def designate(request: HttpRequest, pk: int) -> HttpResponse:
    group = _get_group_for_user(request, pk)
    place = county_of(group.jurisdiction)
    form = DesignationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.designate(
                request.user,
                group,
                criteria=form.cleaned_data["criteria"],
                evidence=form.cleaned_data["evidence"],
                on=place.today(),
                expires_on=form.cleaned_data["expires_on"],
            )
            messages.success(request, f"{group.name} designated.")
            return redirect(f"/reviews/groups/?place={place.slug}")
        except actions.ActionError as exc:
            form.add_error(None, str(exc))
    return render(request, "reviews/designate.html", {"group": group, "form": form})


@needs("reviews.manage_groups")
def renewals(request: HttpRequest) -> HttpResponse:
    """Groups whose designation lapsed: only their names and when it lapsed, to renew them
    or let them go. They are in no other view, count or export."""
    place = _place(request)
    if place is None:
        raise Http404
    today = place.today()
    lapsed = []
    for group in (
        Group.objects.lapsed(today)
        .filter(jurisdiction_id__in=place.descendant_ids())
        .prefetch_related("designations")
    ):
        lapsed.append((group, max(d.expires_on for d in group.designations.all())))
    return render(
        request, "reviews/renewals.html", {"place": place, "today": today, "lapsed": lapsed}
    )


@needs("reviews.manage_groups")
@require_POST
def conflict_new(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    if place is None:
        raise Http404
    today = place.today()
    places = place.descendant_ids()
    form = ConflictForm(
        request.POST,
        groups=Group.objects.designated(today).filter(jurisdiction_id__in=places),
        places=places,
    )
    if form.is_valid():
        data = form.cleaned_data
        actions.record_conflict(
            request.user,
            data["group_a"],
            data["group_b"],
            kind=data["kind"],
            started_on=data["started_on"],
            ended_on=data["ended_on"],
            evidence=data["evidence"],
            incidents=data["incidents"],
        )
        messages.success(request, f"{data['kind'].capitalize()} recorded.")
    else:
        messages.error(request, "Not recorded: " + _errors(form))
    return redirect(f"/reviews/groups/?place={place.slug}")


# --- alerts ------------------------------------------------------------------------------


@needs("reviews.review_shootings")
def alerts(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    today = _today(place)
    found = Alert.objects.select_related("area__jurisdiction", "group", "review__incident")
    if place is not None:
        found = found.filter(review__incident__jurisdiction_id__in=place.descendant_ids())
    found = _shown(found[:500], today)
    return render(
        request,
        "reviews/alerts.html",
        {
            "place": place,
            "today": today,
            "open_alerts": [a for a in found if a.is_open(today)],
            "other_alerts": [a for a in found if not a.is_open(today)],
        },
    )


@alert_recipients
def inbox(request: HttpRequest) -> HttpResponse:
    """A partner organization's alerts: area, window, level and reason, nothing else."""
    org = partner_organization(request.user)
    today = timezone.localdate()
    deliveries = AlertDelivery.objects.filter(organization=org).select_related(
        "alert__area__jurisdiction", "alert__group"
    )[:300]
    shown = {a.pk for a in _shown([d.alert for d in deliveries], today)}
    deliveries = [d for d in deliveries if d.alert.pk in shown]
    record(request.user, "view", object_type="alert inbox", detail=f"{len(deliveries)} alerts")
    return render(
        request,
        "reviews/inbox.html",
        {
            "organization": org,
            "today": today,
            "open_deliveries": [d for d in deliveries if d.alert.ends_on >= today],
            "closed_deliveries": [d for d in deliveries if d.alert.ends_on < today],
        },
    )


@alert_recipients
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = _get_delivery_for_user(request, pk)
    if request.method != "POST":  # only after the gate: another organization's alert is a 404
        return HttpResponseNotAllowed(["POST"])
    actions.mark_alert_read(request.user, delivery)
    return redirect("reviews-inbox")


# --- figures -----------------------------------------------------------------------------


def _date_param(request: HttpRequest, name: str, default: dt.date) -> dt.date:
    text = request.GET.get(name, "")
    if not text:
        return default
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise Http404 from None
    if not dt.date(1900, 1, 1) <= value <= dt.date(2100, 12, 31):
        raise Http404
    return value


@needs("reviews.view_review_figures")
def figures(request: HttpRequest) -> HttpResponse:
    place = _place(request)
    if place is None:
        return render(request, "reviews/figures.html", {"place": None})
    today = place.today()
    until = _date_param(request, "until", today)
    since = _date_param(request, "since", until - dt.timedelta(days=364))
    result = review_figures(place, since, until, as_of=today)
    return render(request, "reviews/figures.html", {"place": place, "f": result})
