"""Partner pages: participants, their plans, contacts, services, outcomes and referrals
(inside an organization), and the perturbed figures that leave it (docs/disclosure.md).

The firewall has one gate per model: every record is fetched through a ``_get_*_for_user``
helper that looks only among the records ``visible_to`` the user, so a record of another
organization and a record that does not exist give the same 404. Pages that list or change
case work 404 for anyone not in a partner role of a partner organization, so nobody outside
learns even that the pages exist. Every read of personal data is written to the audit log;
every change goes through ``gvrs.partners.actions``.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from gvrs.accounts.audience import audience_of
from gvrs.accounts.audit import record
from gvrs.incidents.models import Jurisdiction
from gvrs.partners import actions, audit, figures
from gvrs.partners.forms import (
    CompleteForm,
    ConsentForm,
    ExitForm,
    GoalForm,
    GoalStatusForm,
    IntakeForm,
    MediationForm,
    MilestoneForm,
    OutcomeForm,
    PersonalForm,
    ProgramForm,
    QuickContactForm,
    ReferralForm,
    RespondForm,
    RetaliationForm,
    SearchForm,
    ServiceForm,
)
from gvrs.partners.models import (
    Goal,
    LifePlan,
    Mediation,
    Milestone,
    Participant,
    Program,
    Referral,
    RetaliationInterrupted,
    partner_organization,
)


def partner_work(view):
    """Only partner staff and managers of a partner organization; anyone else gets the same
    404 as for a page that does not exist."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm("partners.work_with_participants"):
            raise Http404
        request.organization = partner_organization(request.user)
        if request.organization is None:
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapped)


def _get_participant_for_user(request: HttpRequest, pk: int) -> Participant:
    return get_object_or_404(
        Participant.objects.visible_to(request.user).select_related("program", "area", "worker"),
        pk=pk,
    )


def _get_plan_for_user(request: HttpRequest, pk: int) -> LifePlan:
    return get_object_or_404(
        LifePlan.objects.visible_to(request.user).select_related("participant"), pk=pk
    )


def _get_referral_for_user(request: HttpRequest, pk: int) -> Referral:
    return get_object_or_404(
        Referral.objects.visible_to(request.user).select_related(
            "from_organization", "to_organization", "participant"
        ),
        pk=pk,
    )


def gated(getter):
    """A record's page: the record is fetched through its gate (``getter``, which 404s when the
    user may not see it) before anything else, the method included, so someone who may not
    see the record gets the same 404 for every method, never a 405 saying it is there. The
    view receives the record instead of its primary key."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request: HttpRequest, pk: int) -> HttpResponse:
            return view(request, getter(request, pk))

        return wrapped

    return decorate


def _fail(request: HttpRequest, error: actions.ActionError) -> None:
    messages.error(request, str(error))


@partner_work
def participant_list(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    people = list(Participant.objects.visible_to(request.user).select_related("program", "worker"))
    if form.is_valid():
        q = form.cleaned_data["q"].strip().lower()
        if q:
            # Names are encrypted: the search decrypts the organization's own caseload.
            people = [p for p in people if q in p.name.lower()]
        if form.cleaned_data["status"]:
            people = [p for p in people if p.status == form.cleaned_data["status"]]
    page = Paginator(people, 50).get_page(request.GET.get("page"))
    record(request.user, "participant.list", None, f"{len(page.object_list)} names shown")
    return render(request, "partners/list.html", {"form": form, "page": page})


@partner_work
@require_http_methods(["GET", "POST"])
def intake(request: HttpRequest) -> HttpResponse:
    form = IntakeForm(request.POST or None, organization=request.organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            participant = actions.record_intake(
                request.user,
                request.organization,
                data["program"],
                name=data["name"],
                date_of_birth=data["date_of_birth"],
                phone=data["phone"],
                address=data["address"],
                area=data["area"],
                eligibility_reason=data["eligibility_reason"],
                priority_reason=data["priority_reason"],
                consents=form.consents(),
                consent_text_version=data["consent_text_version"],
            )
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Intake recorded: on the waiting list.")
            return redirect("partners-participant", participant.pk)
    return render(request, "partners/intake.html", {"form": form})


@partner_work
def participant_detail(request: HttpRequest, pk: int) -> HttpResponse:
    participant = _get_participant_for_user(request, pk)
    record(request.user, "participant.view", participant)
    today = timezone.localdate()
    return render(
        request,
        "partners/detail.html",
        {
            "participant": participant,
            "consents": participant.consents.all(),
            "plans": participant.life_plans.prefetch_related("goals__milestones"),
            "contacts": participant.contacts.select_related("by")[:20],
            "services": participant.services.all()[:20],
            "outcomes": participant.outcomes.all(),
            "referrals": participant.referrals.select_related("to_organization"),
            "compliance": figures.contact_compliance(participant, today)
            if participant.enrolled_on
            else None,
            "exit_form": ExitForm(),
            "consent_form": ConsentForm(),
            "goal_form": GoalForm(),
            "service_form": ServiceForm(),
            "outcome_form": OutcomeForm(),
            "referral_form": ReferralForm(organization=request.organization),
        },
    )


@partner_work
@gated(_get_participant_for_user)
@require_http_methods(["GET", "POST"])
def participant_edit(request: HttpRequest, participant: Participant) -> HttpResponse:
    """Correct a participant's personal fields: staff of the participant's own organization
    only (anyone else gets the same 404 as for a record that does not exist)."""
    form = PersonalForm(request.POST or None)
    refused = ""
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            changed = actions.update_personal_fields(
                request.user,
                participant,
                version=d.pop("version"),
                **d,
            )
        except actions.ActionError as error:
            # Start again from the values as they are now.
            refused = str(error)
            form = PersonalForm(initial=_personal_initial(participant))
        else:
            messages.success(
                request, f"Saved: {', '.join(changed)}." if changed else "Nothing changed."
            )
            return redirect("partners-participant", participant.pk)
    elif request.method == "GET":
        form = PersonalForm(initial=_personal_initial(participant))
    record(request.user, "participant.view", participant, "personal fields, to edit")
    return render(
        request,
        "partners/edit.html",
        {"participant": participant, "form": form, "refused": refused},
    )


def _personal_initial(participant: Participant) -> dict:
    participant.refresh_from_db()  # the values as they are now
    return {
        "name": participant.name,
        "date_of_birth": participant.date_of_birth,
        "phone": participant.phone,
        "address": participant.address,
        "area": participant.area_id,
        "version": actions.personal_version(participant),
    }


@partner_work
@gated(_get_participant_for_user)
@require_POST
def enrol(request: HttpRequest, participant: Participant) -> HttpResponse:
    try:
        actions.enrol_participant(request.user, participant)
        messages.success(request, "Enrolled.")
    except actions.ActionError as error:
        _fail(request, error)
    return redirect("partners-participant", participant.pk)


def _post_form(request, form_class, pk, apply, **form_kwargs) -> HttpResponse:
    """Validate a small form posted from the participant page and apply it; errors come
    back as messages naming the field."""
    form = form_class(request.POST, **form_kwargs)
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"{name.replace('_', ' ')}: {' '.join(errors)}")
        return redirect("partners-participant", pk)
    try:
        result = apply(form.cleaned_data)
    except actions.ActionError as error:
        _fail(request, error)
        return redirect("partners-participant", pk)
    return result or redirect("partners-participant", pk)


@partner_work
@gated(_get_participant_for_user)
@require_POST
def exit_participant(request: HttpRequest, participant: Participant) -> HttpResponse:
    return _post_form(
        request,
        ExitForm,
        participant.pk,
        lambda d: (
            actions.exit_participant(request.user, participant, d["reason"], d["on"], d["note"])
            and None
        ),
    )


@partner_work
@gated(_get_participant_for_user)
@require_POST
def consent(request: HttpRequest, participant: Participant) -> HttpResponse:
    return _post_form(
        request,
        ConsentForm,
        participant.pk,
        lambda d: (
            actions.record_consent(
                request.user, participant, d["kind"], d["granted"], d["text_version"], d["fields"]
            )
            and None
        ),
    )


@partner_work
@gated(_get_participant_for_user)
@require_POST
def plan_new(request: HttpRequest, participant: Participant) -> HttpResponse:

    def apply(d):
        plan = actions.start_life_plan(
            request.user, participant, [(d["domain"], d["description"], d["target_on"])]
        )
        return redirect("partners-plan", plan.pk)

    return _post_form(request, GoalForm, participant.pk, apply)


@partner_work
@gated(_get_plan_for_user)
@require_http_methods(["GET", "POST"])
def plan_detail(request: HttpRequest, plan: LifePlan) -> HttpResponse:
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            if step == "goal":
                form = GoalForm(request.POST)
                if form.is_valid():
                    d = form.cleaned_data
                    actions.add_goal(
                        request.user, plan, d["domain"], d["description"], d["target_on"]
                    )
            elif step == "milestone":
                form = MilestoneForm(request.POST)
                if form.is_valid():
                    goal = get_object_or_404(Goal, pk=form.cleaned_data["goal"], plan=plan)
                    d = form.cleaned_data
                    actions.add_milestone(request.user, goal, d["description"], d["due_on"])
            elif step == "status":
                form = GoalStatusForm(request.POST)
                if form.is_valid():
                    goal = get_object_or_404(Goal, pk=form.cleaned_data["goal"], plan=plan)
                    actions.set_goal_status(request.user, goal, form.cleaned_data["status"])
            elif step == "done":
                milestone = get_object_or_404(
                    Milestone, pk=request.POST.get("milestone", "0") or 0, goal__plan=plan
                )
                actions.complete_milestone(request.user, milestone)
                form = None
            else:
                raise Http404
        except actions.ActionError as error:
            _fail(request, error)
        else:
            if form is not None and not form.is_valid():
                for name, errors in form.errors.items():
                    messages.error(request, f"{name.replace('_', ' ')}: {' '.join(errors)}")
        return redirect("partners-plan", plan.pk)
    record(request.user, "plan.view", plan)
    return render(
        request,
        "partners/plan.html",
        {
            "plan": plan,
            "goals": plan.goals.prefetch_related("milestones"),
            "goal_form": GoalForm(),
            "statuses": Goal.Status.choices,
        },
    )


@partner_work
@require_http_methods(["GET", "POST"])
def quick_contact(request: HttpRequest) -> HttpResponse:
    """Log a contact from a phone: the worker's own caseload first, everything else
    defaulted."""
    mine = (
        Participant.objects.visible_to(request.user)
        .exclude(status=Participant.Status.EXITED)
        .order_by("-worker_id")
    )
    caseload = [p for p in mine if p.worker_id == request.user.pk] + [
        p for p in mine if p.worker_id != request.user.pk
    ]
    initial = {}
    if request.GET.get("participant", "").isdigit():
        initial["participant"] = int(request.GET["participant"])
    form = QuickContactForm(request.POST or None, participants=mine, initial=initial)
    form.fields["participant"].choices = [("", "Choose a participant")] + [
        (p.pk, p.name) for p in caseload
    ]
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            actions.log_contact(
                request.user,
                d["participant"],
                on=d["on"],
                duration_minutes=d["duration_minutes"],
                kind=d["kind"],
                place=d["place"],
                note=d["note"],
            )
        except actions.ActionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Contact logged.")
            return redirect("partners-contact")
    record(request.user, "participant.list", None, "quick contact: caseload names shown")
    return render(request, "partners/contact.html", {"form": form})


@partner_work
@gated(_get_participant_for_user)
@require_POST
def service_new(request: HttpRequest, participant: Participant) -> HttpResponse:
    return _post_form(
        request,
        ServiceForm,
        participant.pk,
        lambda d: (
            actions.record_service(
                request.user,
                participant,
                kind=d["kind"],
                delivered_on=d["delivered_on"],
                note=d["note"],
            )
            and None
        ),
    )


@partner_work
@gated(_get_participant_for_user)
@require_POST
def outcome_new(request: HttpRequest, participant: Participant) -> HttpResponse:
    return _post_form(
        request,
        OutcomeForm,
        participant.pk,
        lambda d: actions.record_outcome(request.user, participant, **d) and None,
    )


@partner_work
@gated(_get_participant_for_user)
@require_POST
def referral_new(request: HttpRequest, participant: Participant) -> HttpResponse:

    def apply(d):
        referral = actions.send_referral(
            request.user, participant, d["to_organization"], reason=d["reason"], needs=d["needs"]
        )
        messages.success(
            request, f"Referral sent with: {', '.join(referral.fields) or 'no fields'}."
        )
        return redirect("partners-referral", referral.pk)

    return _post_form(
        request, ReferralForm, participant.pk, apply, organization=request.organization
    )


@partner_work
def referral_list(request: HttpRequest) -> HttpResponse:
    org = request.organization
    visible = Referral.objects.visible_to(request.user).select_related(
        "from_organization", "to_organization"
    )
    return render(
        request,
        "partners/referrals.html",
        {
            "received": visible.filter(to_organization=org),
            "sent": visible.filter(from_organization=org),
        },
    )


@partner_work
@gated(_get_referral_for_user)
@require_http_methods(["GET", "POST"])
def referral_detail(request: HttpRequest, referral: Referral) -> HttpResponse:
    org = request.organization
    receiving = referral.to_organization_id == org.pk
    respond = RespondForm(request.POST or None, organization=org) if receiving else None
    complete = CompleteForm(request.POST or None) if receiving else None
    if request.method == "POST":
        if not receiving:
            raise Http404
        try:
            if request.POST.get("step") == "complete":
                if complete.is_valid():
                    actions.complete_referral(
                        request.user, referral, complete.cleaned_data["outcome"]
                    )
                    return redirect("partners-referral", referral.pk)
            elif respond.is_valid():
                d = respond.cleaned_data
                if d["decision"] == "accept":
                    actions.accept_referral(request.user, referral, d["program"])
                else:
                    actions.decline_referral(request.user, referral, d["decline_reason"])
                return redirect("partners-referral", referral.pk)
        except actions.ActionError as error:
            _fail(request, error)
    record(
        request.user,
        "referral.view",
        referral,
        "as receiver: shared fields" if receiving else "as sender",
    )
    return render(
        request,
        "partners/referral.html",
        {
            "referral": referral,
            "receiving": receiving,
            "respond": respond,
            "complete": complete,
        },
    )


@partner_work
@require_http_methods(["GET", "POST"])
def field_work(request: HttpRequest) -> HttpResponse:
    """Conflicts mediated and retaliations interrupted: the organization's street work."""
    org = request.organization
    mediation = MediationForm(
        request.POST if request.POST.get("step") == "mediation" else None, organization=org
    )
    retaliation = RetaliationForm(
        request.POST if request.POST.get("step") == "retaliation" else None
    )
    if request.method == "POST":
        try:
            if mediation.is_bound and mediation.is_valid():
                actions.record_mediation(request.user, org, **mediation.cleaned_data)
                return redirect("partners-field")
            if retaliation.is_bound and retaliation.is_valid():
                actions.record_retaliation_interrupted(
                    request.user, org, **retaliation.cleaned_data
                )
                return redirect("partners-field")
        except actions.ActionError as error:
            _fail(request, error)
    # The mediation form lists the organization's participants by name, and so does the list.
    record(request.user, "participant.list", None, "field work: names of mediation parties")
    return render(
        request,
        "partners/field.html",
        {
            "mediation_form": mediation,
            "retaliation_form": retaliation,
            "mediations": Mediation.objects.visible_to(request.user)
            .select_related("area")
            .prefetch_related("participants")[:50],
            "retaliations": RetaliationInterrupted.objects.visible_to(request.user).select_related(
                "area"
            )[:50],
        },
    )


@partner_work
@require_http_methods(["GET", "POST"])
def programs(request: HttpRequest) -> HttpResponse:
    org = request.organization
    form = ProgramForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm("partners.manage_programs"):
            raise Http404
        if form.is_valid():
            try:
                actions.create_program(request.user, org, **form.cleaned_data)
            except actions.ActionError as error:
                form.add_error(None, str(error))
            else:
                return redirect("partners-programs")
    return render(
        request,
        "partners/programs.html",
        {
            "programs": Program.objects.filter(organization=org).annotate(
                enrolled=Count("participants", filter=Q(participants__status="enrolled")),
                waiting=Count("participants", filter=Q(participants__status="waiting")),
            ),
            "form": form if request.user.has_perm("partners.manage_programs") else None,
        },
    )


@partner_work
def access(request: HttpRequest) -> HttpResponse:
    """For the organization's managers: who can read its participants, every grant of that
    access (an administrator giving themselves membership included), and the log of its case
    work with the details the admin's audit list leaves out."""
    if not request.user.has_perm("partners.manage_programs"):
        raise Http404
    org = request.organization
    page = Paginator(audit.case_events(org), 100).get_page(request.GET.get("page"))
    record(request.user, "audit.read", org, f"{len(page.object_list)} case events shown")
    return render(
        request,
        "partners/access.html",
        {
            "organization": org,
            "readers": audit.readers(org),
            "grants": audit.access_changes(org)[:500],
            "page": page,
        },
    )


def _figures_allowed(request: HttpRequest) -> None:
    if not request.user.has_perm("partners.view_partner_figures"):
        raise Http404


@login_required
def program_figures(request: HttpRequest) -> HttpResponse:
    """Inside an organization its own figures, exact; everyone with access to figures sees
    all partners' figures, perturbed."""
    _figures_allowed(request)
    today = timezone.localdate()
    org = partner_organization(request.user)
    sections = []
    if org is not None:
        sections.append(figures.program_figures(org, suppress=False, as_of=today))
    sections.append(figures.program_figures(None, suppress=True, as_of=today, exclude=org))
    return render(request, "partners/figures.html", {"sections": sections, "as_of": today})


@login_required
def equity(request: HttpRequest) -> HttpResponse:
    _figures_allowed(request)
    places = Jurisdiction.objects.filter(areas__isnull=False).distinct()
    counties = Jurisdiction.objects.filter(children__in=places).distinct()
    choices = list(counties) + list(places)
    slug = request.GET.get("j")
    chosen = next((j for j in choices if j.slug == slug), choices[0] if choices else None)
    # A partner sees the other partners' reach: its own counts would let it subtract.
    org = partner_organization(request.user)
    result = (
        figures.equity_of_access(chosen, exclude=org, audience=audience_of(request.user))
        if chosen
        else None
    )
    return render(
        request,
        "partners/equity.html",
        {
            "choices": choices,
            "chosen": chosen,
            "equity": result,
            "map": figures_map(result) if result else None,
            "excluded": org,
        },
    )


def figures_map(result: figures.Equity) -> dict:
    """Areas shaded by their rank in unmet need; hover shows only the published labels."""
    import plotly.graph_objects as go

    from gvrs.reports.overview import _figure_json, _outer_rings

    figure = go.Figure()
    n = max(len(result.rows), 1)
    for row in result.rows:
        shade = 0.1 + 0.7 * (1 - (row.rank - 1) / n)
        text = f"#{row.rank} {row.area.name}: " + "; ".join(
            f"{c} {v}" for c, v in zip(result.columns, row.cells, strict=True)
        )
        for ring in _outer_rings(row.area.boundary):
            xs, ys = zip(*ring, strict=True)
            figure.add_trace(
                go.Scatter(
                    x=list(xs),
                    y=list(ys),
                    mode="lines",
                    fill="toself",
                    fillcolor=f"rgba(166, 58, 43, {shade:.2f})",
                    line={"width": 1, "color": "#8a94a6"},
                    hoverinfo="text",
                    text=text,
                    showlegend=False,
                )
            )
    figure.update_layout(
        title="Unmet need by area (darker: higher rank)",
        margin={"t": 40, "l": 10, "r": 10, "b": 10},
        xaxis_visible=False,
        yaxis={"visible": False, "scaleanchor": "x"},
    )
    return _figure_json(figure)
