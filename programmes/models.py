from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .querysets import EnrolmentQuerySet, OrganisationQuerySet, ProgrammeQuerySet


class Organisation(models.Model):
    """A health charity, service or clinic that runs peer support programmes."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(unique=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class StaffMembership(models.Model):
    """A person who works for an organisation: a coordinator or an organisation admin."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Organisation admin")
        COORDINATOR = "coordinator", _("Coordinator")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.COORDINATOR)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="programmes_staff_one_per_org"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.organisation})"


class Programme(models.Model):
    """A peer support programme run by one organisation."""

    class Audience(models.TextChoices):
        PATIENTS = "patients", _("People living with the condition")
        CAREGIVERS = "caregivers", _("Family and friends who care for someone")
        BOTH = "both", _("Both")

    class Formats(models.TextChoices):
        GROUPS = "groups", _("Peer groups")
        ONE_TO_ONE = "one_to_one", _("One-to-one buddy")
        BOTH = "both", _("Groups and one-to-one")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="programmes"
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    summary = models.CharField(
        _("summary"),
        max_length=300,
        help_text=_("One or two plain sentences. Shown in the directory and on posters."),
    )
    description = models.TextField(
        _("what happens if you join"),
        help_text=_("Plain words: what people do, how often, and who they meet."),
    )
    audience = models.CharField(
        _("who it is for"), max_length=16, choices=Audience.choices, default=Audience.BOTH
    )
    condition = models.CharField(
        _("condition or experience"),
        max_length=120,
        help_text=_("For example: type 2 diabetes, caring for someone with cancer."),
    )
    formats = models.CharField(
        _("support offered"), max_length=16, choices=Formats.choices, default=Formats.BOTH
    )
    area = models.CharField(
        _("area served"), max_length=200, blank=True, help_text=_("For example: Leeds, or online.")
    )
    capacity = models.PositiveIntegerField(
        _("places"),
        null=True,
        blank=True,
        help_text=_("Leave empty for no limit on recipients."),
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    privacy_notice = models.TextField(
        _("privacy notice"),
        help_text=_("What we keep about people who join, why, and who sees it."),
    )
    privacy_notice_version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status", "name"]),
            models.Index(fields=["organisation", "status"]),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("programmes:detail", kwargs={"slug": self.slug})

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def offers_groups(self) -> bool:
        return self.formats in (self.Formats.GROUPS, self.Formats.BOTH)

    @property
    def offers_one_to_one(self) -> bool:
        return self.formats in (self.Formats.ONE_TO_ONE, self.Formats.BOTH)


class Enrolment(models.Model):
    """A person taking part in a programme as a patient, caregiver or peer supporter."""

    class Role(models.TextChoices):
        PATIENT = "patient", _("Living with the condition")
        CAREGIVER = "caregiver", _("Caring for someone")
        SUPPORTER = "supporter", _("Peer supporter")

    class Status(models.TextChoices):
        APPLIED = "applied", _("Applied")
        ACTIVE = "active", _("Active")
        DECLINED = "declined", _("Declined")
        LEFT = "left", _("Left")

    RECIPIENT_ROLES = (Role.PATIENT, Role.CAREGIVER)

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="enrolments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enrolments"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    consent_version = models.PositiveIntegerField(
        help_text=_("Version of the programme's privacy notice the person agreed to.")
    )
    consented_at = models.DateTimeField(default=timezone.now)
    assisted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assisted_enrolments",
        help_text=_("The coordinator who enrolled this person on their behalf."),
    )
    decline_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    left_at = models.DateTimeField(null=True, blank=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "user", "role"], name="programmes_enrolment_unique_role"
            ),
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(role="supporter"),
                name="programmes_enrolment_only_supporters_apply",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "role", "status"]),
            models.Index(fields=["user", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.programme} ({self.get_role_display()})"

    @property
    def is_assisted(self) -> bool:
        return self.assisted_by_id is not None

    @property
    def is_recipient(self) -> bool:
        return self.role in self.RECIPIENT_ROLES
