from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


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

    def __str__(self) -> str:
        return f"{self.user} ({self.practice})"

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED
