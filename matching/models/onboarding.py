"""Supporter onboarding: profile, screening steps, training, and requests for a buddy."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from matching import vocab
from matching.places import town_name
from matching.querysets import BuddyRequestQuerySet, SupporterProfileQuerySet

MAX_CAPACITY = 6


class SupporterProfile(models.Model):
    """What a peer supporter offers: lived experience, languages, times, formats and limits.

    Belongs to the supporter's Enrolment; the Enrolment's status says whether they are approved
    (active), still applying (applied) or declined.
    """

    enrolment = models.OneToOneField(
        "programmes.Enrolment", on_delete=models.CASCADE, related_name="supporter_profile"
    )
    lived_experience = models.TextField(
        _("your experience, in your own words"),
        help_text=_("A few sentences. Your buddy will see this when you are introduced."),
    )
    lived_roles = models.JSONField(_("your experience is"), default=list)
    conditions = models.JSONField(_("conditions you know about"), default=list, blank=True)
    experiences = models.JSONField(_("things you have been through"), default=list, blank=True)
    age_group = models.CharField(_("your age"), max_length=8, choices=vocab.AGE_GROUPS, blank=True)
    languages = models.JSONField(_("languages you can support in"), default=list)
    availability = models.PositiveIntegerField(_("times you are free"), default=0)
    formats = models.JSONField(_("ways you can support"), default=list)
    town = models.CharField(_("nearest town"), max_length=32, blank=True)
    capacity = models.PositiveSmallIntegerField(_("how many people at once"), default=1)
    will_not_support = models.JSONField(
        _("topics you would rather not support"), default=list, blank=True
    )
    will_not_support_notes = models.TextField(
        _("anything else you would rather not support"), blank=True
    )
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    pause_reason = models.CharField(_("reason"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SupporterProfileQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=MAX_CAPACITY),
                name="matching_supporter_capacity_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Supporter profile {self.pk}"

    @property
    def user(self):
        return self.enrolment.user

    @property
    def programme(self):
        return self.enrolment.programme

    @property
    def is_approved(self) -> bool:
        return self.enrolment.status == "active"

    def is_paused(self, today: datetime.date | None = None) -> bool:
        today = today or timezone.localdate()
        return self.paused_until is not None and self.paused_until >= today

    @property
    def town_name(self) -> str:
        return town_name(self.town)

    def labels(self) -> dict[str, list[str]]:
        return {
            "lived_roles": vocab.labels(vocab.LIVED_ROLES, self.lived_roles),
            "conditions": vocab.labels(vocab.CONDITIONS, self.conditions),
            "experiences": vocab.labels(vocab.EXPERIENCES, self.experiences),
            "languages": vocab.labels(vocab.LANGUAGES, self.languages),
            "formats": vocab.labels(vocab.FORMATS, self.formats),
            "will_not_support": vocab.labels(vocab.TOPICS, self.will_not_support),
            "slots": vocab.slot_labels(self.availability),
        }


class ScreeningStep(models.Model):
    """One dated step of screening a supporter: an interview, a reference, a background check."""

    class Kind(models.TextChoices):
        INTERVIEW = "interview", _("Interview")
        REFERENCE = "reference", _("Reference")
        BACKGROUND_CHECK = "background_check", _("Background check")

    class Outcome(models.TextChoices):
        PASSED = "passed", _("Passed")
        CONCERN = "concern", _("Concern")
        PENDING = "pending", _("Waiting")

    profile = models.ForeignKey(SupporterProfile, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(_("step"), max_length=20, choices=Kind.choices)
    done_on = models.DateField(_("date"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["done_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.done_on}"


class TrainingModule(models.Model):
    """A piece of training a programme's supporters must complete before they are matched."""

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="training_modules"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.CharField(_("what it covers"), max_length=300, blank=True)
    valid_for_days = models.PositiveIntegerField(
        _("valid for (days)"),
        null=True,
        blank=True,
        help_text=_("Leave empty if it never needs refreshing."),
    )
    order = models.PositiveSmallIntegerField(default=0)
    is_active = models.BooleanField(_("required"), default=True)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "name"], name="matching_training_module_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TrainingCompletion(models.Model):
    """A supporter completed a training module on a date."""

    profile = models.ForeignKey(SupporterProfile, on_delete=models.CASCADE, related_name="training")
    module = models.ForeignKey(TrainingModule, on_delete=models.CASCADE, related_name="completions")
    completed_on = models.DateField(_("completed on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["profile", "module"], name="matching_training_once_per_module"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.module} {self.completed_on}"

    def is_current(self, today: datetime.date) -> bool:
        days = self.module.valid_for_days
        return days is None or self.completed_on + datetime.timedelta(days=days) >= today


class BuddyRequest(models.Model):
    """A patient or caregiver asking for a buddy, and what they would like in one."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for a buddy")
        PAIRED = "paired", _("Has a buddy")
        CLOSED = "closed", _("Closed")

    OPEN_STATUSES = (Status.WAITING, Status.PAIRED)

    enrolment = models.ForeignKey(
        "programmes.Enrolment", on_delete=models.CASCADE, related_name="buddy_requests"
    )
    wants = models.JSONField(_("what would you like to share with your buddy?"), default=list)
    conditions = models.JSONField(_("conditions"), default=list, blank=True)
    experiences = models.JSONField(_("what you are going through"), default=list, blank=True)
    age_group = models.CharField(_("your age"), max_length=8, choices=vocab.AGE_GROUPS, blank=True)
    languages = models.JSONField(_("languages"), default=list)
    availability = models.PositiveIntegerField(_("times you are free"), default=0)
    formats = models.JSONField(_("how would you like to talk?"), default=list)
    preferred_format = models.CharField(
        _("which do you like best?"), max_length=10, choices=vocab.FORMATS, blank=True
    )
    town = models.CharField(_("nearest town"), max_length=32, blank=True)
    topics = models.JSONField(_("things you might want to talk about"), default=list, blank=True)
    notes = models.TextField(_("anything the coordinator should know"), blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.WAITING)
    priority = models.BooleanField(
        default=False, help_text=_("Set when an earlier pairing did not work out.")
    )
    waiting_since = models.DateTimeField(default=timezone.now)
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The coordinator who filled this in for the person."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = BuddyRequestQuerySet.as_manager()

    class Meta:
        ordering = ["waiting_since", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrolment"],
                condition=Q(status__in=["waiting", "paired"]),
                name="matching_one_open_request_per_enrolment",
            ),
        ]
        indexes = [models.Index(fields=["status", "waiting_since"])]

    def __str__(self) -> str:
        return f"Buddy request {self.pk}"

    @property
    def is_assisted(self) -> bool:
        return self.assisted_by_id is not None

    @property
    def town_name(self) -> str:
        return town_name(self.town)

    def waiting_days(self, now: datetime.datetime | None = None) -> int:
        return max(0, ((now or timezone.now()) - self.waiting_since).days)

    def labels(self) -> dict[str, list[str]]:
        return {
            "wants": vocab.labels(vocab.WANTS, self.wants),
            "conditions": vocab.labels(vocab.CONDITIONS, self.conditions),
            "experiences": vocab.labels(vocab.EXPERIENCES, self.experiences),
            "languages": vocab.labels(vocab.LANGUAGES, self.languages),
            "formats": vocab.labels(vocab.FORMATS, self.formats),
            "topics": vocab.labels(vocab.TOPICS, self.topics),
            "slots": vocab.slot_labels(self.availability),
        }
