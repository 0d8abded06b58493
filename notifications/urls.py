from __future__ import annotations

from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/bell/", views.bell, name="bell"),
    path("notifications/read-all/", views.mark_all_read, name="read_all"),
    path("notifications/<int:pk>/open/", views.open_notification, name="open"),
    path("notifications/preferences/", views.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("notifications/undelivered/", views.failed_list, name="failed"),
    path("notifications/undelivered/<int:pk>/retry/", views.failed_retry, name="failed_retry"),
    path(
        "notifications/organisation/<int:pk>/reminders/",
        views.organisation_settings,
        name="organisation_settings",
    ),
]
