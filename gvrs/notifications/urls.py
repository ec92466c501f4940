from __future__ import annotations

from django.urls import path

from gvrs.notifications import views

urlpatterns = [
    path("", views.settings_page, name="notifications-settings"),
    path("<int:pk>/remove/", views.unsubscribe, name="notifications-unsubscribe"),
]
