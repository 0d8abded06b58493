"""Pairings and what happens in them: messages, contact logs, check-ins, concerns, notices."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching.querysets import PairingQuerySet


class Pairing(models.Model):
    """A recipient and a supporter, from introduction to a good ending."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Approved, not yet introduced")
        INTRODUCED = "introduced", _("Introduced")
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    class Ending(models.TextChoices):
        COMPLETED = "completed", _("Completed as planned")
        CANCELLED = "cancelled", _("Stopped early")
        DECLINED = "declined", _("Declined at introduction")

    LIVE_STATUSES = (Status.PROPOSED, Status.INTRODUCED, Status.ACTIVE, Status.PAUSED)

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="pairings"
    )
    request = models.ForeignKey(
        "matching.BuddyRequest", on_delete=models.CASCADE, related_name="pairings"
    )
    recipient = models.ForeignKey(
        "programmes.Enrolment", on_delete=models.CASCADE, related_name="buddy_pairings"
    )
    supporter = models.ForeignKey(
        "matching.SupporterProfile", on_delete=models.CASCADE, related_name="pairings"
    )
    proposal = models.OneToOneField(
        "matching.Proposal",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pairing",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    introduced_at = models.DateTimeField(null=True, blank=True)
    recipient_accepted_at = models.DateTimeField(null=True, blank=True)
    supporter_accepted_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ending = models.CharField(max_length=10, choices=Ending.choices, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    end_reason = models.CharField(max_length=500, blank=True)
    last_contact_at = models.DateTimeField(null=True, blank=True)

    objects = PairingQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status__in=["proposed", "introduced", "active", "paused"]),
                name="matching_one_live_pairing_per_request",
            ),
            models.CheckConstraint(
                condition=Q(status="ended", ended_at__isnull=False, ending__gt="")
                | (~Q(status="ended") & Q(ending="")),
                name="matching_pairing_ending_recorded",
            ),
        ]
        indexes = [models.Index(fields=["programme", "status"])]

    def __str__(self) -> str:
        return f"Pairing {self.pk}"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    def side_of(self, user) -> str | None:
        """'recipient', 'supporter' or None for someone outside the pairing."""
        if user.pk == self.recipient.user_id:
            return "recipient"
        if user.pk == self.supporter.enrolment.user_id:
            return "supporter"
        return None

    def other_user(self, user):
        if self.side_of(user) == "recipient":
            return self.supporter.enrolment.user
        return self.recipient.user

    def has_accepted(self, side: str) -> bool:
        return getattr(self, f"{side}_accepted_at") is not None


class Message(models.Model):
    """A message between the two people in a pairing."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    body = models.TextField(_("message"), max_length=4000)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["pairing", "created_at"])]

    def __str__(self) -> str:
        return f"Message {self.pk}"


class ContactLog(models.Model):
    """The supporter's short record of one conversation with their buddy."""

    class Method(models.TextChoices):
        PHONE = "phone", _("Phone call")
        VIDEO = "video", _("Video call")
        IN_PERSON = "in_person", _("In person")
        MESSAGING = "messaging", _("Messages")

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="contact_logs")
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    contact_on = models.DateField(_("date"))
    minutes = models.PositiveSmallIntegerField(_("how long (minutes)"))
    method = models.CharField(_("how you talked"), max_length=10, choices=Method.choices)
    note = models.CharField(_("short note"), max_length=500, blank=True)
    needs_support = models.BooleanField(_("I need to talk to someone about this"), default=False)
    support_given_at = models.DateTimeField(null=True, blank=True)
    support_given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-contact_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(minutes__gte=1) & Q(minutes__lte=600), name="matching_contact_minutes"
            ),
        ]

    def __str__(self) -> str:
        return f"Contact {self.contact_on}"


class CheckIn(models.Model):
    """'How is it going?' answered once by each person after the first conversations."""

    class Answer(models.TextChoices):
        GOOD = "good", _("It is going well")
        OKAY = "okay", _("It is okay")
        POOR = "poor", _("It is not a good fit")

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="checkins")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(_("how is it going?"), max_length=4, choices=Answer.choices)
    note = models.CharField(_("anything you want to add"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pairing", "user"], name="matching_one_checkin_each"),
        ]

    def __str__(self) -> str:
        return f"Check-in {self.pk}"


class Concern(models.Model):
    """A concern one person in a pairing raises with the coordinator."""

    pairing = models.ForeignKey(Pairing, on_delete=models.CASCADE, related_name="concerns")
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("what is worrying you?"), max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.CharField(_("what was done"), max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Concern {self.pk}"


class Notice(models.Model):
    """An e-mail notice to send exactly once. It never holds message text or health details."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped: the person's account is closed")

    class Audience(models.TextChoices):
        MEMBER = "member", _("A person in the pairing")
        STAFF = "staff", _("A coordinator (safety alert: cannot be muted)")

    key = models.CharField(max_length=120, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    audience = models.CharField(max_length=8, choices=Audience.choices, default=Audience.MEMBER)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return self.key
