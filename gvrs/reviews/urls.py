from __future__ import annotations

from django.urls import path

from gvrs.reviews import views

urlpatterns = [
    path("", views.queue, name="reviews-queue"),
    path("<int:pk>/", views.review_detail, name="reviews-review"),
    path("<int:pk>/responses/", views.response_add, name="reviews-response-add"),
    path("<int:pk>/plan/", views.plan, name="reviews-plan"),
    path("responses/<int:pk>/", views.response_update, name="reviews-response"),
    path("groups/", views.groups, name="reviews-groups"),
    path("groups/groups.csv", views.groups_csv, name="reviews-groups-csv"),
    path("groups/new/", views.group_new, name="reviews-group-new"),
    path("groups/<int:pk>/designate/", views.designate, name="reviews-designate"),
    path("groups/renewals/", views.renewals, name="reviews-renewals"),
    path("conflicts/new/", views.conflict_new, name="reviews-conflict-new"),
    path("alerts/", views.alerts, name="reviews-alerts"),
    path("inbox/", views.inbox, name="reviews-inbox"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="reviews-inbox-read"),
    path("figures/", views.figures, name="reviews-figures"),
]
