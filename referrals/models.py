from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .querysets import ClinicianQuerySet, PracticeQuerySet, ReferralLinkQuerySet, ReferralQuerySet
from .tokens import token_from_nonce


class Practice(models.Model):
    """A GP practice, clinic or hospital team whose clinicians refer people to an organisation."""

    class Kind(models.TextChoices):
        GP = "gp", _("GP practice")
        HOSPITAL = "hospital", _("Hospital team")
        COMMUNITY = "community", _("Community service")
        OTHER = "other", _("Other")

    organisation = models.ForeignKey(
        "programmes.Organisation", on_delete=models.CASCADE, related_name="practices"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, default=Kind.GP)
    area = models.CharField(_("area"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Clinician(models.Model):
    """A person who refers patients, on behalf of one practice; approved by a coordinator."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        SUSPENDED = "suspended", _("Suspended")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinician"
    )
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="clinicians")
    job_title = models.CharField(_("job title"), max_length=120, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicianQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user} ({self.practice})"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED


class ClinicianInvitation(models.Model):
    """A coordinator's invitation to a clinician to join a practice and refer people, by e-mail."""

    TOKEN_PURPOSE = "clinician-invitation"
    VALID_DAYS = 14

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    token_nonce = models.CharField(max_length=64, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation to {self.practice}"

    @property
    def token(self) -> str:
        return token_from_nonce(self.TOKEN_PURPOSE, self.token_nonce)

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.revoked_at and not self.accepted_at and not self.is_expired


class ReferralLink(models.Model):
    """A programme-wide link for a poster or QR code: it carries nothing personal."""

    TOKEN_PURPOSE = "referral-link"

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="referral_links"
    )
    label = models.CharField(
        _("label"),
        max_length=120,
        blank=True,
        help_text=_("Where the poster or link will be used, e.g. diabetes clinic waiting room."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    clinician = models.ForeignKey(
        Clinician, on_delete=models.SET_NULL, null=True, blank=True, related_name="links"
    )
    practice = models.ForeignKey(
        Practice, on_delete=models.SET_NULL, null=True, blank=True, related_name="links"
    )
    token_nonce = models.CharField(max_length=64, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(_("stops working on"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    visit_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReferralLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.label or f"Link for {self.programme_id}"

    @property
    def token(self) -> str:
        return token_from_nonce(self.TOKEN_PURPOSE, self.token_nonce)

    @property
    def url(self) -> str:
        return settings.SITE_URL + reverse("referrals:link_landing", kwargs={"token": self.token})

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.revoked_at and not self.is_expired


_OPEN_STATUS_VALUES = ["sent", "opened", "registered", "enrolled", "active"]


class Referral(models.Model):
    """One person referred to a programme: named by a clinician, or arrived through a link.

    A named referral's invitation and reminder, and whether they went, are rows in the
    notifications ledger (`Delivery.objects.for_referrals([id])`), not fields here.
    """

    TOKEN_PURPOSE = "referral-invitation"
    VALID_DAYS = 30
    REMINDER_AFTER_DAYS = 7

    class Kind(models.TextChoices):
        NAMED = "named", _("Named referral")
        LINK = "link", _("Referral link")

    class Status(models.TextChoices):
        SENT = "sent", _("Sent")
        OPENED = "opened", _("Opened")
        REGISTERED = "registered", _("Signed up")
        ENROLLED = "enrolled", _("Joined the programme")
        ACTIVE = "active", _("Taking part")
        DECLINED = "declined", _("Said no thanks")
        EXPIRED = "expired", _("Link expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class Triage(models.TextChoices):
        NEW = "new", _("New")
        ACCEPTED = "accepted", _("Accepted")
        CONTACTED = "contacted", _("Contacted")
        DECLINED = "declined", _("Not accepted")

    # A named referral's invitation link works while the referral is in one of these.
    TOKEN_STATUSES = (Status.SENT, Status.OPENED)
    # Referrals that still count when looking for a duplicate.
    OPEN_STATUSES = (
        Status.SENT,
        Status.OPENED,
        Status.REGISTERED,
        Status.ENROLLED,
        Status.ACTIVE,
    )

    programme = models.ForeignKey(
        "programmes.Programme", on_delete=models.CASCADE, related_name="referrals"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.NAMED)
    clinician = models.ForeignKey(
        Clinician, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    practice = models.ForeignKey(
        Practice, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    link = models.ForeignKey(
        ReferralLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="referrals",
    )
    new_account = models.BooleanField(
        default=False, help_text=_("The person created their account after this referral.")
    )

    # Named referrals only; kept minimal.
    patient_name = models.CharField(_("patient's name"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("mobile number"), max_length=32, blank=True)
    phone_normalised = models.CharField(max_length=32, blank=True)
    reason = models.CharField(_("reason (optional)"), max_length=200, blank=True)
    contact_agreed = models.BooleanField(default=False)
    progress_consent = models.BooleanField(
        default=False, help_text=_("The person agreed that the clinician may see their progress.")
    )
    progress_consent_withdrawn_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SENT)
    token_nonce = models.CharField(max_length=64, unique=True, null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    registered_at = models.DateTimeField(null=True, blank=True)
    enrolled_at = models.DateTimeField(null=True, blank=True)
    active_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    triage = models.CharField(max_length=12, choices=Triage.choices, default=Triage.NEW)
    triage_reason = models.CharField(_("reason"), max_length=300, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    triaged_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="named")
                | (Q(contact_agreed=True) & (~Q(email="") | ~Q(phone_normalised=""))),
                name="referrals_named_has_contact_and_agreement",
            ),
            models.CheckConstraint(
                condition=~Q(kind="link") | Q(link__isnull=False) | Q(user__isnull=False),
                name="referrals_link_referral_has_source",
            ),
            models.UniqueConstraint(
                Lower("email"),
                "programme",
                condition=Q(kind="named", status__in=_OPEN_STATUS_VALUES) & ~Q(email=""),
                name="referrals_one_open_referral_per_email",
            ),
            models.UniqueConstraint(
                "phone_normalised",
                "programme",
                condition=Q(kind="named", status__in=_OPEN_STATUS_VALUES) & ~Q(phone_normalised=""),
                name="referrals_one_open_referral_per_phone",
            ),
            models.UniqueConstraint(
                fields=["programme", "user"],
                condition=Q(kind="link"),
                name="referrals_one_link_referral_per_person",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "status"]),
            models.Index(fields=["status", "expires_at"]),
            models.Index(fields=["user", "programme"]),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} to {self.programme_id}"

    @property
    def token(self) -> str | None:
        if not self.token_nonce:
            return None
        return token_from_nonce(self.TOKEN_PURPOSE, self.token_nonce)

    @property
    def url(self) -> str | None:
        token = self.token
        if token is None:
            return None
        return settings.SITE_URL + reverse("referrals:invitation_landing", kwargs={"token": token})

    @property
    def person_name(self) -> str:
        if self.patient_name:
            return self.patient_name
        return self.user.display_name if self.user_id and self.user else ""

    @property
    def progress_visible_to_clinician(self) -> bool:
        return self.progress_consent and self.progress_consent_withdrawn_at is None

    @property
    def token_is_usable(self) -> bool:
        return (
            self.status in self.TOKEN_STATUSES
            and self.expires_at is not None
            and self.expires_at > timezone.now()
        )

    def clinician_status(self) -> str:
        """What the referring clinician may see: status only, and only with the person's consent."""
        if self.triage == self.Triage.DECLINED:
            return str(_("Not accepted by the programme"))
        if self.status == self.Status.WITHDRAWN:
            return str(self.Status.WITHDRAWN.label)
        if self.progress_consent_withdrawn_at is not None:
            return str(_("Sent (the person asked to keep their progress private)"))
        if not self.progress_consent:
            return str(self.Status.SENT.label)
        return self.get_status_display()


class ReferralNote(models.Model):
    """A coordinator's note on a referral; only the organisation's coordinators see notes."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField(_("note"), max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note on referral {self.referral_id}"
