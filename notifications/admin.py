from __future__ import annotations

from django.contrib import admin

from .models import Delivery, Notification, NotificationPreference, OrganisationNotificationSettings


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["key", "kind", "channel", "status", "attempts", "due_at", "sent_at"]
    list_filter = ["status", "kind", "channel"]
    raw_id_fields = ["user", "organisation"]


admin.site.register(Notification)
admin.site.register(NotificationPreference)
admin.site.register(OrganisationNotificationSettings)
