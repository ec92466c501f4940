"""The roles of DESIGN.md, as Django groups with permissions, defined once.

Roles are data, kept in step by ``sync_roles`` (run by migrations and by ``gvrs demo``): a
deployment can add permissions to a role in the admin, but the ones below are always there.
"""

from __future__ import annotations

ADMINISTRATOR = "administrator"
STRATEGY_ANALYST = "strategy analyst"
POLICE_ANALYST = "police analyst"
PARTNER_STAFF = "partner staff"
PARTNER_MANAGER = "partner manager"
VIEWER = "viewer"

# role -> permissions ("app_label.codename")
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    ADMINISTRATOR: (
        "incidents.view_incident",
        "incidents.export_incident",
        "incidents.view_restricted_fields",
        "incidents.view_importrun",
        "incidents.add_importrun",
        "incidents.view_publishedcount",
        "accounts.view_auditevent",
        "partners.view_partner_figures",
        "reviews.review_shootings",
        "reviews.manage_groups",
        "reviews.view_review_figures",
        "reports.make_council_report",
    ),
    STRATEGY_ANALYST: (
        "incidents.view_incident",
        "incidents.export_incident",
        "incidents.view_importrun",
        "incidents.add_importrun",
        "incidents.view_publishedcount",
        "partners.view_partner_figures",
        "reviews.review_shootings",
        "reviews.manage_groups",
        "reviews.view_review_figures",
        "reports.make_council_report",
    ),
    POLICE_ANALYST: (
        "incidents.view_incident",
        "incidents.export_incident",
        "incidents.view_restricted_fields",
        "incidents.view_importrun",
        "incidents.add_importrun",
        "incidents.view_publishedcount",
        # The shooting review is a police and city meeting; partners get its alerts only.
        "reviews.review_shootings",
        "reviews.manage_groups",
        "reviews.view_review_figures",
        "reports.make_council_report",
    ),
    # Partner roles see participants only of their own organization (gvrs.partners.models).
    PARTNER_STAFF: (
        "incidents.view_publishedcount",
        "partners.work_with_participants",
        "partners.view_partner_figures",
        "reviews.receive_alerts",
    ),
    PARTNER_MANAGER: (
        "incidents.view_publishedcount",
        "partners.work_with_participants",
        "partners.view_partner_figures",
        "partners.manage_programs",
        "reviews.receive_alerts",
    ),
    VIEWER: (
        "incidents.view_incident",
        "incidents.view_publishedcount",
        "partners.view_partner_figures",
        "reviews.view_review_figures",
    ),
}
DEMO_USERS = {  # user name -> role, for `gvrs demo`
    "admin": ADMINISTRATOR,
    "analyst": STRATEGY_ANALYST,
    "police": POLICE_ANALYST,
    "partner": PARTNER_STAFF,
    "viewer": VIEWER,
}


def sync_roles() -> None:
    """Create the role groups and grant their permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            wanted.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.add(*wanted)
