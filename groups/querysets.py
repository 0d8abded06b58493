"""Chainable read filters for groups. Request-facing queries start from `visible_to`,
`managed_by`, `moderated_by` or `discussable_by`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

if TYPE_CHECKING:
    from accounts.models import User


def _is_person(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated)


def _managed_programmes(user: User):
    from programmes.models import Programme

    return Programme.objects.managed_by(user).values("pk")


class GroupQuerySet(models.QuerySet):
    def for_audience_of(self, user: User):
        """Groups a person could join as a patient or caregiver, plus groups they run."""
        from programmes.models import Enrolment, Programme

        from .models import Group

        active = Enrolment.objects.filter(user=user, status="active")
        here = active.filter(programme=OuterRef("programme_id"))
        runs = Group.facilitators.through.objects.filter(group=OuterRef("pk"), user=user)
        return self.filter(
            (Q(audience="both") & Exists(here.filter(role__in=["patient", "caregiver"])))
            | (Q(audience="patients") & Exists(here.filter(role="patient")))
            | (Q(audience="caregivers") & Exists(here.filter(role="caregiver")))
            | Exists(runs)
            | Q(programme__in=Programme.objects.managed_by(user).values("pk"))
        )

    def managed_by(self, user: User | None):
        """Groups in programmes of the organisations `user` works for."""
        if not _is_person(user):
            return self.none()
        return self.filter(programme__in=_managed_programmes(user))

    def moderated_by(self, user: User | None):
        """Groups `user` looks after: as a facilitator, or as a coordinator of the programme."""
        if not _is_person(user):
            return self.none()
        return self.filter(Q(facilitators=user) | Q(programme__in=_managed_programmes(user)))

    def visible_to(self, user: User | None):
        """Open groups of programmes the person takes part in, plus groups they look after."""
        from programmes.models import Enrolment

        from .models import Membership

        if not _is_person(user):
            return self.none()
        enrolled = Enrolment.objects.filter(user=user, status="active").values("programme")
        mine = Membership.objects.filter(user=user).current().values("group")
        return self.filter(
            Q(status="open", programme__in=enrolled, programme__status="open")
            | Q(pk__in=mine)
            | Q(pk__in=self.model.objects.moderated_by(user).values("pk"))
        )

    def discussable_by(self, user: User | None):
        """Groups whose discussion `user` may read: members, facilitators and coordinators."""
        if not _is_person(user):
            return self.none()
        from .models import Membership

        mine = Membership.objects.filter(user=user, status="member").values("group")
        return self.filter(
            Q(pk__in=mine) | Q(pk__in=self.model.objects.moderated_by(user).values("pk"))
        )


class GroupSessionQuerySet(models.QuerySet):
    def for_change(self):
        """Sessions locked for a change (in a transaction), read with their group.

        Only the session rows are locked: locking the group too would take it after a
        membership when someone saves a place, the opposite order to leaving a group
        (group, membership, then sessions), and the two would deadlock.
        """
        return self.select_for_update(of=("self",)).select_related("group")

    def scheduled(self):
        return self.filter(status="scheduled")

    def upcoming(self, now=None):
        """Sessions that have not finished yet."""
        return self.filter(ends_at__gte=now or timezone.now())

    def past(self, now=None):
        return self.filter(starts_at__lt=now or timezone.now())

    def for_member(self, user: User | None):
        """Sessions of groups where `user` is a member or a facilitator.

        The person's few group ids are read first (one query), so the database can look up
        those groups' sessions by index: a join on facilitators with DISTINCT, or an OR of
        two subqueries, made PostgreSQL walk every upcoming session instead (100 ms with
        100,000 sessions, against 3 ms).
        """
        if not _is_person(user):
            return self.none()
        from .models import Group, Membership

        mine = (
            Membership.objects.filter(user=user, status="member").order_by().values_list("group_id")
        )
        runs = (
            Group.facilitators.through.objects.filter(user=user).order_by().values_list("group_id")
        )
        group_ids = [group_id for (group_id,) in mine.union(runs)]
        return self.filter(group_id__in=group_ids)


class MembershipQuerySet(models.QuerySet):
    def members(self):
        return self.filter(status="member")

    def holding_place(self):
        return self.filter(status__in=["member", "offered"])

    def waiting(self):
        return self.filter(status="waiting").order_by("waiting_since", "pk")

    def offerable(self):
        """People on a waiting list we still offer places to (see `offers_expire`)."""
        return self.filter(offers_missed__lt=self.model.MISSED_OFFERS_LIMIT)

    def current(self):
        return self.filter(status__in=["pending", "member", "waiting", "offered"])


class PostReportQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def moderated_by(self, user: User | None):
        from .models import Group

        if not _is_person(user):
            return self.none()
        return self.filter(post__thread__group__in=Group.objects.moderated_by(user).values("pk"))
