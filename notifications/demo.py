"""Demo data for notifications: a group session starting soon, so the running worker and beat
send real reminders within minutes of `scripts/demo.sh` starting (see var/mail/ and var/sms/).

Idempotent: it adds a session only when no demo session starts in the next ~70 minutes.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import NotificationPreference, OrganisationNotificationSettings
from .sources import model

SOON = dt.timedelta(minutes=65)


def seed(context) -> None:
    OrganisationNotificationSettings.objects.get_or_create(organisation=context.organisation)
    # One member who also wants text messages (written to var/sms/ by the file backend).
    texter = context.members[0]
    if not texter.phone:
        texter.phone = "+447700900001"
        texter.save(update_fields=["phone"])
    NotificationPreference.objects.get_or_create(user=texter, defaults={"sms_enabled": True})
    _ensure_session_soon(context)


def _ensure_session_soon(context) -> None:
    GroupSession = model("groups", "GroupSession")
    Membership = model("groups", "Membership")
    if GroupSession is None or Membership is None:
        return
    now = timezone.now()
    demo_sessions = GroupSession.objects.filter(
        group__programme__organisation=context.organisation, status="scheduled"
    )
    if demo_sessions.filter(
        starts_at__gt=now + dt.timedelta(minutes=6), starts_at__lte=now + dt.timedelta(minutes=70)
    ).exists():
        return
    group_id = (
        Membership.objects.filter(
            status="member", group__programme__organisation=context.organisation
        )
        .order_by("group_id")
        .values_list("group_id", flat=True)
        .first()
    )
    if group_id is None:
        return
    starts_at = (now + SOON).replace(second=0, microsecond=0)
    GroupSession.objects.create(
        group_id=group_id,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        occurrence_date=timezone.localtime(starts_at).date(),
    )
