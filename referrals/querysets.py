"""Chainable read filters for referrals. Request-facing queries start from these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Count, Q

if TYPE_CHECKING:
    from accounts.models import User


def _is_person(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated)


def _managed_org_ids(user: User):
    from programmes.models import Organisation

    return Organisation.objects.managed_by(user).values("pk")


class PracticeQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        """Practices that refer to an organisation `user` works for."""
        if not _is_person(user):
            return self.none()
        return self.filter(organisation__in=_managed_org_ids(user))


class ClinicianQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        if not _is_person(user):
            return self.none()
        return self.filter(practice__organisation__in=_managed_org_ids(user))

    def approved(self):
        return self.filter(status="approved")


class ReferralLinkQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        """Links for programmes of the organisations `user` works for."""
        if not _is_person(user):
            return self.none()
        return self.filter(programme__organisation__in=_managed_org_ids(user))

    def of_clinician(self, user: User | None):
        """Links an approved clinician made themselves."""
        if not _is_person(user):
            return self.none()
        return self.filter(clinician__user=user, clinician__status="approved")

    def visible_to(self, user: User | None):
        """The links a person may see: their own as a clinician, or their organisation's."""
        if not _is_person(user):
            return self.none()
        return self.filter(
            Q(clinician__user=user, clinician__status="approved")
            | Q(programme__organisation__in=_managed_org_ids(user))
        )

    def with_counts(self):
        return self.annotate(
            sign_up_count=Count("referrals", filter=Q(referrals__new_account=True)),
            enrolment_count=Count("referrals", filter=Q(referrals__enrolled_at__isnull=False)),
            # Joined a group or started with a buddy (the referral went on to 'active').
            active_count=Count("referrals", filter=Q(referrals__active_at__isnull=False)),
        )


class ReferralQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        """Referrals to programmes of the organisations `user` works for."""
        if not _is_person(user):
            return self.none()
        return self.filter(programme__organisation__in=_managed_org_ids(user))

    def of_clinician(self, user: User | None):
        """Named referrals made by `user` as an approved clinician."""
        if not _is_person(user):
            return self.none()
        return self.filter(kind="named", clinician__user=user, clinician__status="approved")

    def open(self):
        return self.filter(status__in=["sent", "opened", "registered", "enrolled", "active"])
