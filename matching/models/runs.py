"""Matching runs: per-programme settings, runs done by the worker, proposals and pair rules."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from matching.querysets import MatchRunQuerySet, ProposalQuerySet


class MatchSettings(models.Model):
    """A programme's matching weights and rules. Defaults are the engine's defaults."""

    programme = models.OneToOneField(
        "programmes.Programme", on_delete=models.CASCADE, related_name="match_settings"
    )
    condition = models.FloatField(_("points for the same condition"), default=30.0)
    experience = models.FloatField(_("points for each shared experience"), default=6.0)
    caring_situation = models.FloatField(_("points for the same caring situation"), default=10.0)
    same_age_band = models.FloatField(_("points for a similar age"), default=10.0)
    slot = models.FloatField(_("points for each shared free time"), default=4.0)
    preferred_format = models.FloatField(_("points for the first-choice way to talk"), default=5.0)
    waiting_per_week = models.FloatField(_("points for each week of waiting"), default=1.5)
    max_waiting = models.FloatField(_("most points for waiting"), default=20.0)
    priority_multiplier = models.FloatField(
        _("how much more a chosen wish counts"),
        default=2.0,
        help_text=_("When someone says what they would like to share, its points are multiplied."),
    )
    max_distance_km = models.FloatField(_("furthest distance to meet in person (km)"), default=25.0)
    allow_contact_sharing = models.BooleanField(
        _("let buddies share phone numbers and e-mail addresses in messages"), default=False
    )
    no_contact_days = models.PositiveSmallIntegerField(
        _("warn when a pairing has had no contact for this many days"), default=14
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    WEIGHT_FIELDS = (
        "condition",
        "experience",
        "caring_situation",
        "same_age_band",
        "slot",
        "preferred_format",
        "waiting_per_week",
        "max_waiting",
        "priority_multiplier",
    )

    class Meta:
        verbose_name_plural = "match settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(condition__gte=0)
                & Q(experience__gte=0)
                & Q(caring_situation__gte=0)
                & Q(same_age_band__gte=0)
                & Q(slot__gte=0)
                & Q(preferred_format__gte=0)
                & Q(waiting_per_week__gte=0)
                & Q(max_waiting__gte=0)
                & Q(priority_multiplier__gte=1)
                & Q(max_distance_km__gt=0),
                name="matching_settings_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Match settings {self.programme_id}"

    def parameters(self) -> dict:
        """The settings a run used, kept with the run."""
        return {
            **{name: getattr(self, name) for name in self.WEIGHT_FIELDS},
            "max_distance_km": self.max_distance_km,
        }


class MatchRun(models.Model):
    """One run of the matching engine over a programme's waiting requests."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        RUNNING = "running", _("Running")
        DONE = "done", _("Finished")
        FAILED = "failed", _("Failed")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="match_runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    parameters = models.JSONField(default=dict)
    recipients_count = models.PositiveIntegerField(default=0)
    supporters_count = models.PositiveIntegerField(default=0)
    proposals_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    unmatched = models.JSONField(
        default=list, help_text="For each request nobody was proposed for: the reasons why."
    )
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = MatchRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme"],
                condition=Q(status__in=["queued", "running"]),
                name="matching_one_active_run_per_programme",
            ),
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="matching_run_progress_percent"
            ),
        ]

    def __str__(self) -> str:
        return f"Match run {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class Proposal(models.Model):
    """A supporter the engine (or a pin) proposes for a request, with the reasons."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    run = models.ForeignKey(MatchRun, on_delete=models.CASCADE, related_name="proposals")
    request = models.ForeignKey(
        "matching.BuddyRequest", on_delete=models.CASCADE, related_name="proposals"
    )
    supporter = models.ForeignKey(
        "matching.SupporterProfile", on_delete=models.CASCADE, related_name="proposals"
    )
    score = models.FloatField(default=0)
    breakdown = models.JSONField(
        default=list,
        help_text='Why: [{"code", "points", "facts"}, ...] from the engine, put into words by '
        "matching.reasons (older rows: [code, points, English text]).",
    )
    pinned = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProposalQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "pk"]
        constraints = [
            # A request is never proposed twice at the same time.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(status="proposed"),
                name="matching_one_open_proposal_per_request",
            ),
            models.UniqueConstraint(
                fields=["run", "request"], name="matching_one_proposal_per_request_per_run"
            ),
        ]

    def __str__(self) -> str:
        return f"Proposal {self.pk}"


class PairRule(models.Model):
    """A coordinator's rule for one recipient and one supporter: always pair, or never."""

    class Kind(models.TextChoices):
        PIN = "pin", _("Pair these two")
        FORBID = "forbid", _("Never pair these two")

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="pair_rules"
    )
    recipient = models.ForeignKey(
        "programmes.Enrolment", on_delete=models.CASCADE, related_name="+"
    )
    supporter = models.ForeignKey(
        "matching.SupporterProfile", on_delete=models.CASCADE, related_name="pair_rules"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "supporter"], name="matching_one_rule_per_pair"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.recipient_id}/{self.supporter_id}"
