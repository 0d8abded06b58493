from django.contrib import admin

from .models import (
    Group,
    GroupSession,
    Membership,
    PostReport,
    SessionBooking,
    SessionSeries,
    WaitingListOffer,
)


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "programme", "format", "capacity", "status"]
    list_filter = ["status", "format"]
    raw_id_fields = ["facilitators"]


@admin.register(SessionSeries)
class SessionSeriesAdmin(admin.ModelAdmin):
    list_display = ["group", "frequency", "start_date", "start_time", "time_zone"]


@admin.register(GroupSession)
class GroupSessionAdmin(admin.ModelAdmin):
    list_display = ["group", "starts_at", "status", "is_moved"]
    list_filter = ["status"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["group", "user", "status", "waiting_since", "offers_missed"]
    list_filter = ["status"]
    raw_id_fields = ["user", "added_by"]


@admin.register(SessionBooking)
class SessionBookingAdmin(admin.ModelAdmin):
    list_display = ["session", "user", "status", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["session", "user"]


admin.site.register(WaitingListOffer)
admin.site.register(PostReport)
