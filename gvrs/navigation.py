"""The site's navigation, by role: one list, read by every page's header.

An item is shown only where its page answers for the user. Permissions alone are not enough:
an administrator holds every permission, but the partners' case work and the alert inbox
belong to members of a partner organization, and their pages give everyone else a 404. So
those items also ask for the organization (``partner_organization``), the same gate the
pages use. Each page has one name, and no two items share one.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest
from django.urls import reverse


@dataclass(frozen=True)
class Item:
    label: str
    url_name: str
    perm: str = ""  # a permission the user must hold ("" : every signed-in user)
    partner: bool = False  # only members of a partner organization
    staff: bool = False  # only staff (the Django administration)


ITEMS: tuple[Item, ...] = (
    Item("Overview", "reports-overview"),
    Item("Places", "reports-places"),
    Item("Incidents", "incidents-list", "incidents.view_incident"),
    Item("Imports", "incidents-imports", "incidents.view_importrun"),
    Item("Review queue", "reviews-queue", "reviews.review_shootings"),
    Item("Groups", "reviews-groups", "reviews.review_shootings"),
    Item("Alerts", "reviews-alerts", "reviews.review_shootings"),
    Item("Review figures", "reviews-figures", "reviews.view_review_figures"),
    Item("Council report", "council-report", "reports.make_council_report"),
    Item("Participants", "partners-list", "partners.work_with_participants", partner=True),
    Item("Log contact", "partners-contact", "partners.work_with_participants", partner=True),
    Item("Referrals", "partners-referrals", "partners.work_with_participants", partner=True),
    Item("Alert inbox", "reviews-inbox", "reviews.receive_alerts", partner=True),
    Item("Partner figures", "partners-figures", "partners.view_partner_figures"),
    Item("Equity", "partners-equity", "partners.view_partner_figures"),
    Item("Administration", "admin:index", staff=True),
)


def items_for(user) -> list[Item]:
    """The items ``user`` may follow without meeting a 404."""
    if not getattr(user, "is_authenticated", False):
        return []
    organization = None
    if any(item.partner for item in ITEMS):
        from gvrs.partners.models import partner_organization

        organization = partner_organization(user)
    shown = []
    for item in ITEMS:
        if item.perm and not user.has_perm(item.perm):
            continue
        if item.partner and organization is None:
            continue
        if item.staff and not user.is_staff:
            continue
        shown.append(item)
    return shown


def navigation(request: HttpRequest) -> dict:
    """Template context processor: ``nav``, a list of (label, url, current) for the header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    path = request.path
    links = [(item.label, reverse(item.url_name)) for item in items_for(user)]
    # The current item: the longest link that the path starts with ("/" only for itself).
    best = max(
        (url for _, url in links if path == url or (url != "/" and path.startswith(url))),
        key=len,
        default=None,
    )
    return {"nav": [(label, url, url == best) for label, url in links]}
