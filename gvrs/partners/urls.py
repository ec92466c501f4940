from __future__ import annotations

from django.urls import path

from gvrs.partners import views

urlpatterns = [
    path("", views.participant_list, name="partners-list"),
    path("intake/", views.intake, name="partners-intake"),
    path("contact/", views.quick_contact, name="partners-contact"),
    path("p/<int:pk>/", views.participant_detail, name="partners-participant"),
    path("p/<int:pk>/edit/", views.participant_edit, name="partners-participant-edit"),
    path("p/<int:pk>/enrol/", views.enrol, name="partners-enrol"),
    path("p/<int:pk>/exit/", views.exit_participant, name="partners-exit"),
    path("p/<int:pk>/consent/", views.consent, name="partners-consent"),
    path("p/<int:pk>/plan/", views.plan_new, name="partners-plan-new"),
    path("p/<int:pk>/service/", views.service_new, name="partners-service"),
    path("p/<int:pk>/outcome/", views.outcome_new, name="partners-outcome"),
    path("p/<int:pk>/refer/", views.referral_new, name="partners-refer"),
    path("plans/<int:pk>/", views.plan_detail, name="partners-plan"),
    path("referrals/", views.referral_list, name="partners-referrals"),
    path("referrals/<int:pk>/", views.referral_detail, name="partners-referral"),
    path("field/", views.field_work, name="partners-field"),
    path("programs/", views.programs, name="partners-programs"),
    path("access/", views.access, name="partners-access"),
    path("figures/", views.program_figures, name="partners-figures"),
    path("equity/", views.equity, name="partners-equity"),
]
