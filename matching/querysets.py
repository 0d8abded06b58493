"""Chainable read filters for matching; request-facing reads start from visible_to or managed_by."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User


def _is_person(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated)


def _managed_programmes(user: User):
    from programmes.models import Programme

    return Programme.objects.managed_by(user).values("pk")


class SupporterProfileQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        if not _is_person(user):
            return self.none()
        return self.filter(enrolment__programme__in=_managed_programmes(user))

    def visible_to(self, user: User | None):
        """A supporter's own profiles, plus every profile in programmes the user manages."""
        if not _is_person(user):
            return self.none()
        return self.filter(
            Q(enrolment__user=user) | Q(enrolment__programme__in=_managed_programmes(user))
        )

    def approved(self):
        return self.filter(enrolment__status="active")

    def not_paused(self, today: datetime.date | None = None):
        today = today or timezone.localdate()
        return self.filter(Q(paused_until__isnull=True) | Q(paused_until__lt=today))

    def with_load(self):
        """Annotate `load`: live pairings plus proposals waiting for review."""
        return self.annotate(
            live_pairings=Count(
                "pairings",
                filter=Q(pairings__status__in=["proposed", "introduced", "active", "paused"]),
                distinct=True,
            ),
            open_proposals=Count(
                "proposals", filter=Q(proposals__status="proposed"), distinct=True
            ),
        )


class BuddyRequestQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        if not _is_person(user):
            return self.none()
        return self.filter(enrolment__programme__in=_managed_programmes(user))

    def visible_to(self, user: User | None):
        if not _is_person(user):
            return self.none()
        return self.filter(
            Q(enrolment__user=user) | Q(enrolment__programme__in=_managed_programmes(user))
        )

    def waiting(self):
        return self.filter(status="waiting")

    def open(self):
        return self.filter(status__in=["waiting", "paired"])

    def unproposed(self):
        """Waiting requests with no proposal under review and no live pairing."""
        from .models import Pairing, Proposal

        return (
            self.waiting()
            .exclude(Exists(Proposal.objects.filter(request=OuterRef("pk"), status="proposed")))
            .exclude(
                Exists(
                    Pairing.objects.filter(request=OuterRef("pk"), status__in=Pairing.LIVE_STATUSES)
                )
            )
        )


class MatchRunQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        if not _is_person(user):
            return self.none()
        return self.filter(programme__in=_managed_programmes(user))


class ProposalQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        if not _is_person(user):
            return self.none()
        return self.filter(run__programme__in=_managed_programmes(user))


class PairingQuerySet(models.QuerySet):
    def managed_by(self, user: User | None):
        if not _is_person(user):
            return self.none()
        return self.filter(programme__in=_managed_programmes(user))

    def of_member(self, user: User | None):
        """Pairings the person is in, as recipient or supporter."""
        if not _is_person(user):
            return self.none()
        return self.filter(Q(recipient__user=user) | Q(supporter__enrolment__user=user))

    def live(self):
        return self.filter(status__in=["proposed", "introduced", "active", "paused"])

    def with_flags(self):
        """Annotate open concerns, support requests and poor-fit check-ins for coordinators."""
        return self.annotate(
            open_concerns=Count(
                "concerns", filter=Q(concerns__resolved_at__isnull=True), distinct=True
            ),
            support_needed=Count(
                "contact_logs",
                filter=Q(
                    contact_logs__needs_support=True, contact_logs__support_given_at__isnull=True
                ),
                distinct=True,
            ),
            poor_fit=Count(
                "checkins",
                filter=Q(checkins__answer="poor", checkins__handled_at__isnull=True),
                distinct=True,
            ),
        )

    def without_contact_for(self, days: int, now: datetime.datetime | None = None):
        """Active pairings whose last logged contact (or start) is more than `days` ago."""
        cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
        return (
            self.filter(status="active")
            .annotate(since=Coalesce("last_contact_at", "activated_at"))
            .filter(since__lt=cutoff)
        )
