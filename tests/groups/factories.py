"""Factories for groups tests."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from groups.models import Group, GroupSession, Membership, Post, Thread
from tests.factories import EnrolmentFactory, ProgrammeFactory, UserFactory


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = Group
        skip_postgeneration_save = True

    programme = factory.SubFactory(ProgrammeFactory)
    name = factory.Sequence(lambda n: f"Peer group {n}")
    description = "We meet to talk and share tips."
    format = Group.Format.HYBRID
    venue_address = "Community Centre\n1 High Street\nNorthfield"
    meeting_link = "https://meet.example.org/room-secret-123"
    capacity = 5


class GroupSessionFactory(DjangoModelFactory):
    class Meta:
        model = GroupSession

    group = factory.SubFactory(GroupFactory)
    occurrence_date = factory.LazyAttribute(lambda o: o.starts_at.date())
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + dt.timedelta(minutes=90))


def enrolled(programme, role="patient"):
    return EnrolmentFactory(programme=programme, role=role).user


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(GroupFactory)
    user = factory.LazyAttribute(lambda o: enrolled(o.group.programme))
    status = Membership.Status.MEMBER
    joined_at = factory.LazyFunction(timezone.now)


class ThreadFactory(DjangoModelFactory):
    class Meta:
        model = Thread

    group = factory.SubFactory(GroupFactory)
    author = factory.SubFactory(UserFactory)
    title = "Hello everyone"


class PostFactory(DjangoModelFactory):
    class Meta:
        model = Post

    thread = factory.SubFactory(ThreadFactory)
    author = factory.SelfAttribute("thread.author")
    body = "Nice to meet you all."
