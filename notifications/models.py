"""What people want to hear about, what is due, and what was sent (the delivery ledger)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .querysets import DeliveryQuerySet, NotificationQuerySet

DEFAULT_SESSION_REMINDER_OFFSETS = [24 * 60, 60]


class Kind(models.TextChoices):
    SESSION_REMINDER = "session_reminder", _("Group session reminders")
    SESSION_CHANGE = "session_change", _("Group session moved or cancelled")
    WAITING_LIST_OFFER = "waiting_list_offer", _("A place in a group is free")
    # No longer planned (matching's introduction notice says it, as BUDDY_NEWS); kept so that
    # rows and choices saved before still read.
    PAIRING_PROPOSED = "pairing_proposed", _("A new buddy is suggested")
    BUDDY_NEWS = "buddy_news", _("News about buddy pairings")
    CHECKIN_NUDGE = "checkin_nudge", _("Buddy check-in reminders")
    COORDINATOR_DIGEST = "coordinator_digest", _("Daily summary for coordinators")
    STAFF_ALERT = "staff_alert", _("Safety alerts about pairings, for coordinators")
    # To a person a clinician referred, who has no account (yet): Delivery.user is empty.
    REFERRAL_INVITATION = "referral_invitation", _("Invitation after a referral")
    REFERRAL_REMINDER = "referral_reminder", _("Reminder of a referral invitation")


# Safeguarding alerts reach coordinators whatever they have muted: by e-mail and in the app
# always, by text message if they allow texts at all.
ALWAYS_ON_KINDS = frozenset({Kind.STAFF_ALERT.value})
# Messages to people without an account: no preferences, the address is read from the referral.
REFERRAL_KINDS = (Kind.REFERRAL_INVITATION.value, Kind.REFERRAL_REMINDER.value)


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    IN_APP = "in_app", _("On this website")


def referral_delivery_key(kind: str, referral_id: int, channel: str) -> str:
    """The ledger key of a referral's invitation or reminder on one channel: each goes once."""
    return f"{kind}:{referral_id}:{channel}"


def default_offsets() -> list[int]:
    return list(DEFAULT_SESSION_REMINDER_OFFSETS)


class OrganisationNotificationSettings(models.Model):
    """An organisation's defaults for reminders (people may choose their own)."""

    organisation = models.OneToOneField(
        "programmes.Organisation", on_delete=models.CASCADE, related_name="notification_settings"
    )
    session_reminder_offsets = models.JSONField(
        _("session reminders (minutes before)"), default=default_offsets
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notification settings of organisation {self.organisation_id}"


class NotificationPreference(models.Model):
    """One person's choices: channels, kinds they do not want, quiet hours, reminder times."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(_("e-mail"), default=True)
    sms_enabled = models.BooleanField(_("text messages"), default=False)
    in_app_enabled = models.BooleanField(_("on this website"), default=True)
    muted_kinds = models.JSONField(default=list, blank=True)
    quiet_start = models.TimeField(_("quiet from"), null=True, blank=True)
    quiet_end = models.TimeField(_("quiet until"), null=True, blank=True)
    session_reminder_offsets = models.JSONField(
        default=list, blank=True, help_text="Minutes before a session; empty: the organisation's."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Notification preference of person {self.user_id}"

    def wants(self, kind: str, channel: str) -> bool:
        if kind in ALWAYS_ON_KINDS:
            return channel != Channel.SMS or self.sms_enabled
        if kind in (self.muted_kinds or []):
            return False
        return {
            Channel.EMAIL: self.email_enabled,
            Channel.SMS: self.sms_enabled,
            Channel.IN_APP: self.in_app_enabled,
        }.get(channel, False)

    def quiet_until(self, moment: dt.datetime, tzinfo: dt.tzinfo) -> dt.datetime | None:
        """If `moment` falls in this person's quiet hours, when they end (aware); else None.

        Quiet hours are wall-clock times in the person's own zone, so they follow
        daylight-saving changes; a window may cross midnight (22:00 to 08:00).
        """
        if self.quiet_start is None or self.quiet_end is None or self.quiet_start == self.quiet_end:
            return None
        local = moment.astimezone(tzinfo)
        now_t = local.time().replace(tzinfo=None)
        start, end = self.quiet_start, self.quiet_end
        if start < end:
            inside = start <= now_t < end
            end_date = local.date()
        else:
            inside = now_t >= start or now_t < end
            end_date = local.date() + dt.timedelta(days=1) if now_t >= start else local.date()
        if not inside:
            return None
        naive_end = dt.datetime.combine(end_date, end)
        # fold=0 and a round trip through UTC resolve gaps and repeats at DST changes.
        return naive_end.replace(tzinfo=tzinfo).astimezone(dt.UTC)


class Notification(models.Model):
    """An in-app notice shown under the bell."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                name="notif_unread_idx",
                condition=Q(read_at__isnull=True),
            ),
            models.Index(fields=["user", "-created_at"], name="notif_user_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Delivery(models.Model):
    """One side effect (one message to one person on one channel), recorded before it happens.

    `key` is unique, so planning the same reminder twice adds nothing; a worker claims a
    row with a conditional UPDATE, so two workers never send the same row.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        SKIPPED = "skipped", _("Not sent")

    key = models.CharField(max_length=200)
    # Empty for a person without an account (REFERRAL_KINDS): the source reads their address
    # at send time, and `organisation` says whose coordinators see the row.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    organisation = models.ForeignKey(
        "programmes.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    object_id = models.BigIntegerField(null=True, blank=True)
    # Ids only (for example {"offset": 60}); never names, addresses or health details.
    data = models.JSONField(default=dict, blank=True)
    due_at = models.DateTimeField()
    # After this moment the message no longer makes sense (the session has started).
    expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(fields=["key"], name="notifications_delivery_key_unique"),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(organisation__isnull=False),
                name="notifications_delivery_has_person_or_organisation",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="delivery_pending_due_idx",
                condition=Q(status="pending"),
            ),
            models.Index(
                fields=["claimed_at"],
                name="delivery_sending_idx",
                condition=Q(status="sending"),
            ),
            # Partial, like the two above: a row is only looked up by claim while it is being
            # sent, and by organisation once it has failed, so the hundreds of thousands of
            # rows planned and sent each day add no entries to these.
            models.Index(
                fields=["claim"], name="delivery_claim_sending_idx", condition=Q(status="sending")
            ),
            models.Index(
                fields=["organisation", "-due_at"],
                name="delivery_org_failed_idx",
                condition=Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return self.key


class DispatchMark(models.Model):
    """How far the planner has looked: the next run plans moments after this (with overlap)."""

    name = models.CharField(max_length=32, unique=True)
    planned_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} until {self.planned_until:%Y-%m-%d %H:%M}"
