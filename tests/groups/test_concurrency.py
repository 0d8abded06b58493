"""Many people press "Join" for the last places at the same moment (PostgreSQL row locks)."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import PermissionDenied
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


def _small_session(programme, members: int, capacity: int):
    from tests.groups.factories import GroupSessionFactory

    group = GroupFactory(programme=programme, capacity=members)
    people = [m.user for m in MembershipFactory.create_batch(members, group=group)]
    return GroupSessionFactory(group=group, capacity=capacity), people


def test_it_never_gives_the_last_places_at_a_session_twice_under_concurrent_saves(programme):
    from groups import bookings
    from groups.errors import SessionFull

    session, people = _small_session(programme, members=12, capacity=3)
    bookings.session_place_save(user=people[0], session=session)
    errors = _race(
        [
            lambda person=person: bookings.session_place_save(user=person, session=session)
            for person in people[1:]
        ]
    )
    assert len(errors) == 9 and all(isinstance(error, SessionFull) for error in errors)
    assert session.bookings.filter(status="booked").count() == 3
    assert session.bookings.count() == 3


def test_a_cancelled_place_goes_to_one_person_while_others_save_and_wait_at_once(programme):
    from groups import bookings

    session, people = _small_session(programme, members=10, capacity=2)
    leaving, staying = people[:2]
    for person in (leaving, staying):
        bookings.session_place_save(user=person, session=session)
    errors = _race(
        [lambda: bookings.session_place_cancel(user=leaving, session=session)]
        + [
            lambda person=person: bookings.session_place_save(
                user=person, session=session, wait_if_full=True
            )
            for person in people[2:]
        ]
    )
    assert errors == []
    statuses = list(session.bookings.values_list("status", flat=True))
    assert statuses.count("booked") == 2 and statuses.count("waiting") == 7
    assert not session.bookings.filter(user=leaving).exists()


def test_nobody_keeps_a_place_at_a_session_by_saving_it_while_leaving_the_group(programme):
    from groups import bookings
    from groups.errors import GroupError

    session, people = _small_session(programme, members=8, capacity=4)
    leavers = people[:4]
    memberships = {m.user_id: m for m in Membership.objects.filter(group=session.group)}
    errors = _race(
        [
            lambda person=person: bookings.session_place_save(
                user=person, session=session, wait_if_full=True
            )
            for person in people
        ]
        + [
            lambda person=person: membership.membership_leave(
                user=person, membership=memberships[person.pk]
            )
            for person in leavers
        ]
    )
    # A leaver who pressed "Save my place" a moment too late is refused; nothing else fails.
    assert all(isinstance(error, (PermissionDenied, GroupError)) for error in errors)
    assert not session.bookings.filter(user__in=leavers).exists()
    assert session.bookings.filter(status="booked").count() == 4
    assert not session.bookings.filter(status="waiting").exists()


def test_a_coordinator_changes_places_while_people_with_places_leave(programme, coordinator):
    from groups import bookings, services

    session, people = _small_session(programme, members=8, capacity=3)
    for person in people:
        bookings.session_place_save(user=person, session=session, wait_if_full=True)
    leavers = people[:3]
    memberships = {m.user_id: m for m in Membership.objects.filter(group=session.group)}
    local = session.local_start
    errors = _race(
        [
            lambda: services.session_reschedule(
                user=coordinator,
                session=session,
                date=local.date(),
                start_time=local.time(),
                duration_minutes=90,
                capacity=4,
            )
        ]
        + [
            lambda person=person: membership.membership_leave(
                user=person, membership=memberships[person.pk]
            )
            for person in leavers
        ]
    )
    assert errors == []
    booked = set(session.bookings.filter(status="booked").values_list("user", flat=True))
    assert booked == {person.pk for person in people[3:7]}
