from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from groups.models import Group, GroupSession, Membership, SessionChange, WaitingListOffer
from notifications.models import Delivery, Notification
from tests.factories import ProgrammeFactory, UserFactory


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = Group

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Tuesday circle {n}")
    description = "We meet and talk."
    meeting_link = "https://meet.example.org/room"


class GroupSessionFactory(DjangoModelFactory):
    class Meta:
        model = GroupSession

    group = factory.SubFactory(GroupFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=30))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=90))
    occurrence_date = factory.LazyAttribute(lambda o: o.starts_at.date())


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(GroupFactory)
    user = factory.SubFactory(UserFactory)
    status = Membership.Status.MEMBER


class SessionChangeFactory(DjangoModelFactory):
    class Meta:
        model = SessionChange

    session = factory.SubFactory(GroupSessionFactory)
    kind = SessionChange.Kind.MOVED


class WaitingListOfferFactory(DjangoModelFactory):
    class Meta:
        model = WaitingListOffer

    membership = factory.SubFactory(MembershipFactory, status=Membership.Status.OFFERED)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))


class DeliveryFactory(DjangoModelFactory):
    class Meta:
        model = Delivery

    key = factory.Sequence(lambda n: f"test:{n}")
    user = factory.SubFactory(UserFactory)
    kind = "session_reminder"
    channel = "email"
    due_at = factory.LazyFunction(timezone.now)


class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = Notification

    user = factory.SubFactory(UserFactory)
    kind = "session_reminder"
    title = factory.Sequence(lambda n: f"Reminder {n}")
    body = "Your group meets soon."
    url = "/"
