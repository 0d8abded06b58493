"""Many people press "Join" for the last places at the same moment (PostgreSQL row locks)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from groups import membership
from groups.models import Membership
from tests.groups.factories import GroupFactory, MembershipFactory, enrolled

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(callables):
    barrier = threading.Barrier(len(callables))
    errors = []

    def run(fn):
        try:
            barrier.wait(timeout=10)
            fn()
        except Exception as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(fn,)) for fn in callables]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def test_it_never_overbooks_the_last_places_under_concurrent_joins(programme):
    group = GroupFactory(programme=programme, capacity=5)
    MembershipFactory.create_batch(3, group=group)
    people = [enrolled(programme) for _ in range(12)]
    errors = _race(
        [
            lambda person=person: membership.membership_join(user=person, group=group)
            for person in people
        ]
    )
    assert errors == []
    statuses = list(Membership.objects.filter(group=group).values_list("status", flat=True))
    assert statuses.count("member") == 5
    assert statuses.count("waiting") == 10


def test_it_offers_a_freed_place_once_when_two_people_leave_and_join_at_once(programme):
    group = GroupFactory(programme=programme, capacity=2)
    leaving = MembershipFactory(group=group)
    MembershipFactory(group=group)
    joiners = [enrolled(programme) for _ in range(6)]
    errors = _race(
        [lambda: membership.membership_leave(user=leaving.user, membership=leaving)]
        + [
            lambda person=person: membership.membership_join(user=person, group=group)
            for person in joiners
        ]
    )
    assert errors == []
    holding = Membership.objects.filter(group=group, status__in=["member", "offered"]).count()
    assert holding == 2
