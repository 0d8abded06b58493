"""Chainable read filters. Every request-facing query starts from `visible_to` or `managed_by`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Count, Q

if TYPE_CHECKING:
    from accounts.models import User


def _is_person(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated)


class OrganisationQuerySet(models.QuerySet):
    def managed_by(self, user: User | None, *, admin_only: bool = False):
        """Organisations where `user` is a coordinator or organisation admin."""
        if not _is_person(user):
            return self.none()
        staff = Q(staff__user=user)
        if admin_only:
            staff &= Q(staff__role="admin")
        return self.filter(staff)


class ProgrammeQuerySet(models.QuerySet):
    def listed(self):
        """Programmes the public can find and join."""
        return self.filter(status="open")

    def managed_by(self, user: User | None):
        """Programmes of the organisations that `user` works for (any status)."""
        from .models import Organisation

        if not _is_person(user):
            return self.none()
        return self.filter(organisation__in=Organisation.objects.managed_by(user).values("pk"))

    def visible_to(self, user: User | None):
        """Open programmes, plus every programme of the person's own organisations."""
        from .models import Organisation

        if not _is_person(user):
            return self.listed()
        return self.filter(
            Q(status="open")
            | Q(organisation__in=Organisation.objects.managed_by(user).values("pk"))
        )

    def search(self, text: str):
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(
            Q(name__icontains=text)
            | Q(summary__icontains=text)
            | Q(condition__icontains=text)
            | Q(area__icontains=text)
        )

    def with_counts(self):
        return self.annotate(
            recipient_count=Count(
                "enrolments",
                filter=Q(
                    enrolments__status="active", enrolments__role__in=["patient", "caregiver"]
                ),
            ),
            supporter_count=Count(
                "enrolments",
                filter=Q(enrolments__status="active", enrolments__role="supporter"),
            ),
            applicant_count=Count("enrolments", filter=Q(enrolments__status="applied")),
        )


class EnrolmentQuerySet(models.QuerySet):
    def current(self):
        return self.filter(status__in=["applied", "active"])

    def active(self):
        return self.filter(status="active")

    def recipients(self):
        return self.filter(role__in=["patient", "caregiver"])

    def supporters(self):
        return self.filter(role="supporter")

    def managed_by(self, user: User | None):
        from .models import Programme

        if not _is_person(user):
            return self.none()
        return self.filter(programme__in=Programme.objects.managed_by(user).values("pk"))

    def visible_to(self, user: User | None):
        """A person's own enrolments, plus all enrolments in programmes they manage."""
        from .models import Programme

        if not _is_person(user):
            return self.none()
        return self.filter(
            Q(user=user) | Q(programme__in=Programme.objects.managed_by(user).values("pk"))
        )

    def search(self, text: str):
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(Q(user__display_name__icontains=text) | Q(user__email__icontains=text))
