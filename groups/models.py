"""Peer groups: groups, their recurring sessions, members and waiting lists, attendance,
calendar feeds and moderated discussion.

Other apps read these models by name (the notifications app reads `SessionChange` and
`WaitingListOffer`), so the names and the fields they rely on are kept stable.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import TIME_ZONE_CHOICES

from .querysets import (
    GroupQuerySet,
    GroupSessionQuerySet,
    MembershipQuerySet,
    PostReportQuerySet,
)

MEETING_LINK_LEAD = dt.timedelta(minutes=15)


class Group(models.Model):
    """A peer group in a programme, meeting online, in person or both."""

    class Audience(models.TextChoices):
        PATIENTS = "patients", _("People living with the condition")
        CAREGIVERS = "caregivers", _("Family and friends who care for someone")
        BOTH = "both", _("Everyone")

    class Format(models.TextChoices):
        ONLINE = "online", _("Online")
        IN_PERSON = "in_person", _("In person")
        HYBRID = "hybrid", _("In person and online")

    class JoinPolicy(models.TextChoices):
        OPEN = "open", _("Anyone in the programme can join")
        APPROVAL = "approval", _("A facilitator says yes first")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="groups"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(
        _("what happens in the group"),
        help_text=_("Plain words: who it is for, what you talk about, how it feels."),
    )
    audience = models.CharField(
        _("who it is for"), max_length=16, choices=Audience.choices, default=Audience.BOTH
    )
    format = models.CharField(
        _("how it meets"), max_length=16, choices=Format.choices, default=Format.ONLINE
    )
    venue_address = models.TextField(_("address"), blank=True)
    accessibility_notes = models.TextField(
        _("access information"),
        blank=True,
        help_text=_("For example: step-free entrance, hearing loop, parking, toilets."),
    )
    meeting_link = models.URLField(
        _("online meeting link"),
        blank=True,
        help_text=_("Members see it from 15 minutes before each session."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/London"
    )
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="facilitated_groups"
    )
    capacity = models.PositiveIntegerField(_("places"), default=12)
    join_policy = models.CharField(
        _("joining"), max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GroupQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["programme", "status"])]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="groups_group_capacity_gte_1")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("groups:detail", kwargs={"pk": self.pk})

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def meets_online(self) -> bool:
        return self.format in (self.Format.ONLINE, self.Format.HYBRID)

    @property
    def meets_in_person(self) -> bool:
        return self.format in (self.Format.IN_PERSON, self.Format.HYBRID)

    @property
    def needs_approval(self) -> bool:
        return self.join_policy == self.JoinPolicy.APPROVAL

    def audience_roles(self) -> tuple[str, ...]:
        """Enrolment roles that may join this group."""
        return {
            self.Audience.PATIENTS: ("patient",),
            self.Audience.CAREGIVERS: ("caregiver",),
        }.get(self.audience, ("patient", "caregiver"))


class SessionSeries(models.Model):
    """A rule for when a group meets, in the group's local wall-clock time.

    Occurrences are generated ahead as `GroupSession` rows; keeping the local time and the
    IANA time zone (not a UTC time) is what keeps 18:00 at 18:00 across clock changes.
    """

    class Frequency(models.TextChoices):
        ONCE = "once", _("Once")
        WEEKLY = "weekly", _("Every week")
        FORTNIGHTLY = "fortnightly", _("Every two weeks")
        MONTHLY = "monthly", _("Once a month, on the same weekday")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="series")
    frequency = models.CharField(
        _("how often"), max_length=16, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    start_date = models.DateField(_("first date"))
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveIntegerField(_("length in minutes"), default=90)
    time_zone = models.CharField(max_length=64, choices=TIME_ZONE_CHOICES)
    weekday = models.PositiveSmallIntegerField(editable=False)
    nth_weekday = models.SmallIntegerField(
        editable=False,
        help_text="For monthly series: 1-4 for the nth weekday of the month, -1 for the last.",
    )
    end_date = models.DateField(_("last date"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "session series"
        ordering = ["start_date", "start_time"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1), name="groups_series_duration_gte_1"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="groups_series_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group}: {self.get_frequency_display()}"

    def save(self, *args, **kwargs):
        self.weekday = self.start_date.weekday()
        if self.nth_weekday is None:
            self.nth_weekday = min((self.start_date.day - 1) // 7 + 1, 4)
        super().save(*args, **kwargs)

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)


class GroupSession(models.Model):
    """One meeting of a group. Times are stored in UTC."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Going ahead")
        CANCELLED = "cancelled", _("Cancelled")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sessions")
    series = models.ForeignKey(
        SessionSeries, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    occurrence_date = models.DateField(
        help_text="The local date the series rule gave this session, kept when it is moved."
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    capacity = models.PositiveIntegerField(
        _("places at this session"),
        null=True,
        blank=True,
        help_text=_("Leave empty to use the group's number of places."),
    )
    is_moved = models.BooleanField(default=False)
    sequence = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = GroupSessionQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["starts_at", "status"]),
            models.Index(fields=["group", "starts_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "occurrence_date"],
                condition=Q(series__isnull=False),
                name="groups_session_one_per_series_date",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="groups_session_ends_after"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} at {self.starts_at:%Y-%m-%d %H:%M} UTC"

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def effective_capacity(self) -> int:
        return self.capacity if self.capacity is not None else self.group.capacity

    @property
    def local_start(self) -> dt.datetime:
        return timezone.localtime(self.starts_at, self.group.tzinfo)

    def meeting_link_open(self, now: dt.datetime | None = None) -> bool:
        """The link shows from shortly before the start until the end."""
        now = now or timezone.now()
        return not self.is_cancelled and self.starts_at - MEETING_LINK_LEAD <= now <= self.ends_at


class SessionBooking(models.Model):
    """A member's saved place at one session with its own, smaller number of places, or
    their place on that session's waiting list. See `bookings.py` for when places are needed."""

    class Status(models.TextChoices):
        BOOKED = "booked", _("Has a place")
        WAITING = "waiting", _("On the waiting list")

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="bookings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_session_bookings"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="groups_booking_once")
        ]
        indexes = [models.Index(fields=["session", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.status} {self.session_id}"


class SessionChange(models.Model):
    """A change to a session that members must be told about (read by the notifications app)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        MOVED = "moved", _("Moved")
        CANCELLED = "cancelled", _("Cancelled")

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    previous_starts_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.session_id}"


class Membership(models.Model):
    """A person's place in a group, on its waiting list, or asking to join."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Asked to join")
        MEMBER = "member", _("Member")
        WAITING = "waiting", _("On the waiting list")
        OFFERED = "offered", _("Offered a place")
        LEFT = "left", _("Left")

    # These hold a place: an offered place is kept for the person until the offer ends.
    PLACE_HOLDING = (Status.MEMBER, Status.OFFERED)
    # After this many offers in a row run out, we stop offering places (see `offers_expire`).
    MISSED_OFFERS_LIMIT = 2
    CURRENT = (Status.PENDING, Status.MEMBER, Status.WAITING, Status.OFFERED)

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_memberships"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    waiting_since = models.DateTimeField(null=True, blank=True)
    offers_missed = models.PositiveSmallIntegerField(
        default=0, help_text="Offers of a place in a row that ran out without an answer."
    )
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "user"], name="groups_membership_one_per_user"
            ),
            models.CheckConstraint(
                condition=~Q(status="waiting") | Q(waiting_since__isnull=False),
                name="groups_membership_waiting_has_since",
            ),
        ]
        indexes = [
            models.Index(fields=["group", "status", "waiting_since"]),
            models.Index(fields=["user", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.group} ({self.status})"

    @property
    def is_member(self) -> bool:
        return self.status == self.Status.MEMBER

    @property
    def offers_paused(self) -> bool:
        """On the waiting list, but not offered places until they say they still want one."""
        return self.status == self.Status.WAITING and self.offers_missed >= self.MISSED_OFFERS_LIMIT


class WaitingListOffer(models.Model):
    """A freed place offered to the first person on the waiting list, for a limited time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an answer")
        ACCEPTED = "accepted", _("Accepted")
        EXPIRED = "expired", _("Ran out of time")
        DECLINED = "declined", _("Said no")

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="offers")
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["membership"],
                condition=Q(status="open"),
                name="groups_offer_one_open_per_membership",
            )
        ]
        indexes = [models.Index(fields=["status", "expires_at"])]

    def __str__(self) -> str:
        return f"Offer {self.pk} ({self.status})"


class Attendance(models.Model):
    """Whether a member came to a session, or said beforehand they could not."""

    class Status(models.TextChoices):
        PRESENT = "present", _("Came")
        ABSENT = "absent", _("Did not come")
        APOLOGIES = "apologies", _("Sent apologies")

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_attendance"
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="groups_attendance_once")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.status} {self.session_id}"


class CalendarFeed(models.Model):
    """A person's private calendar address. Only a hash of its random token is kept."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id}"


class GuidelinesAcceptance(models.Model):
    """A person agreed to the community guidelines before their first post in a group."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField()
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="groups_guidelines_once")
        ]

    def __str__(self) -> str:
        return f"Guidelines v{self.version} accepted by {self.user_id}"


class Thread(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="threads")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    title = models.CharField(_("title"), max_length=150)
    is_locked = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_post_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_post_at"]
        indexes = [models.Index(fields=["group", "-last_post_at"])]

    def __str__(self) -> str:
        return self.title


class Post(models.Model):
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(_("message"), max_length=5000)
    is_hidden = models.BooleanField(default=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hidden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Post {self.pk}"


class PostReport(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    reason = models.TextField(_("what is wrong"), max_length=1000)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = PostReportQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["post", "reporter"], name="groups_report_once")
        ]

    def __str__(self) -> str:
        return f"Report {self.pk} on post {self.post_id}"
