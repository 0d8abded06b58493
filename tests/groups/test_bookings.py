"""Places at a session with fewer places than the group has members."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from groups import attendance, bookings, membership, services
from groups.errors import SessionFull, SessionNotChangeable
from groups.models import Attendance, SessionBooking
from tests import factories
from tests.groups.factories import GroupSessionFactory, MembershipFactory, enrolled

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(group):
    return [MembershipFactory(group=group).user for _ in range(4)]


@pytest.fixture
def small_session(group, people):
    """Four members, two places."""
    return GroupSessionFactory(group=group, capacity=2)


def _places(session, user=None):
    return bookings.session_places([session], user=user)[session.pk]


def _statuses(session):
    return dict(session.bookings.values_list("user_id", "status"))


def test_it_needs_places_only_while_the_session_has_fewer_places_than_members(group, people):
    roomy = GroupSessionFactory(group=group, capacity=4)
    usual = GroupSessionFactory(group=group)
    small = GroupSessionFactory(group=group, capacity=3)
    found = bookings.session_places([roomy, usual, small], user=people[0])
    assert usual.pk not in found
    assert not found[roomy.pk].needed and found[roomy.pk].expected
    assert found[small.pk].needed and not found[small.pk].expected
    assert found[small.pk].is_member and found[small.pk].shows_booking
    MembershipFactory(group=group)
    assert _places(roomy).needed


def test_it_saves_places_first_come_first_served_then_refuses_or_puts_on_the_waiting_list(
    small_session, people
):
    first, second, third, fourth = people
    assert bookings.session_place_save(user=first, session=small_session).status == "booked"
    assert bookings.session_place_save(user=second, session=small_session).status == "booked"
    with pytest.raises(SessionFull):
        bookings.session_place_save(user=third, session=small_session)
    assert not SessionBooking.objects.filter(user=third).exists()
    waiting = bookings.session_place_save(user=third, session=small_session, wait_if_full=True)
    assert waiting.status == "waiting"
    bookings.session_place_save(user=fourth, session=small_session, wait_if_full=True)
    # Saving twice changes nothing.
    bookings.session_place_save(user=first, session=small_session)
    places = _places(small_session, fourth)
    assert (places.booked, places.waiting, places.full, places.left) == (2, 2, True, 0)
    assert places.mine == "waiting" and places.position == 2
    assert _places(small_session, third).position == 1
    assert _places(small_session, first).has_place


def test_it_gives_a_cancelled_place_to_the_first_person_waiting(small_session, people):
    first, second, third, fourth = people
    for person in people:
        bookings.session_place_save(user=person, session=small_session, wait_if_full=True)
    assert bookings.session_place_cancel(user=second, session=small_session) == "booked"
    assert _statuses(small_session) == {
        first.pk: "booked",
        third.pk: "booked",
        fourth.pk: "waiting",
    }
    # Leaving the waiting list gives nobody a place.
    assert bookings.session_place_cancel(user=fourth, session=small_session) == "waiting"
    assert _statuses(small_session) == {first.pk: "booked", third.pk: "booked"}
    assert bookings.session_place_cancel(user=fourth, session=small_session) is None


def test_it_gives_places_of_people_who_leave_the_group_to_those_waiting(
    group, small_session, people
):
    first, second, third, fourth = people
    for person in people:
        bookings.session_place_save(user=person, session=small_session, wait_if_full=True)
    past = GroupSessionFactory(
        group=group, capacity=2, starts_at=timezone.now() - dt.timedelta(days=3)
    )
    SessionBooking.objects.create(session=past, user=first, status="booked")
    leaving = group.memberships.get(user=first)
    membership.membership_leave(user=first, membership=leaving)
    assert _statuses(small_session) == {
        second.pk: "booked",
        third.pk: "booked",
        fourth.pk: "waiting",
    }
    # What happened at past sessions stays as it was.
    assert past.bookings.get().user == first


def test_it_skips_people_waiting_who_are_no_longer_members(group, small_session, people):
    first, second, third, fourth = people
    for person in people:
        bookings.session_place_save(user=person, session=small_session, wait_if_full=True)
    group.memberships.filter(user=third).update(status="left")
    bookings.session_place_cancel(user=first, session=small_session)
    assert _statuses(small_session)[fourth.pk] == "booked"
    assert _statuses(small_session)[third.pk] == "waiting"


def test_only_members_save_places(group, small_session, stranger, coordinator):
    facilitator = factories.SupporterEnrolmentFactory(programme=group.programme).user
    group.facilitators.add(facilitator)
    waiting = MembershipFactory(group=group, status="waiting", waiting_since=timezone.now())
    other_group_member = MembershipFactory(group__programme=group.programme).user
    for person in (stranger, coordinator, facilitator, waiting.user, other_group_member):
        with pytest.raises(PermissionDenied):
            bookings.session_place_save(user=person, session=small_session)
    assert not small_session.bookings.exists()


def test_it_takes_places_only_before_the_start_at_sessions_with_their_own_places(group, people):
    started = GroupSessionFactory(
        group=group, capacity=2, starts_at=timezone.now() - dt.timedelta(minutes=5)
    )
    cancelled = GroupSessionFactory(group=group, capacity=2, status="cancelled")
    usual = GroupSessionFactory(group=group)
    for session in (started, cancelled, usual):
        with pytest.raises(SessionNotChangeable):
            bookings.session_place_save(user=people[0], session=session)
    with pytest.raises(SessionNotChangeable):
        bookings.session_place_cancel(user=people[0], session=started)


def test_apologies_give_up_a_place_and_saving_a_place_takes_back_apologies(small_session, people):
    first, second, third, fourth = people
    attendance.apologies_send(user=third, session=small_session)
    bookings.session_place_save(user=first, session=small_session)
    bookings.session_place_save(user=second, session=small_session)
    bookings.session_place_save(user=third, session=small_session, wait_if_full=True)
    assert not Attendance.objects.filter(user=third).exists()
    bookings.session_place_save(user=fourth, session=small_session, wait_if_full=True)
    attendance.apologies_send(user=first, session=small_session)
    attendance.apologies_send(user=fourth, session=small_session)
    assert _statuses(small_session) == {second.pk: "booked", third.pk: "booked"}
    assert set(Attendance.objects.values_list("user", "status")) == {
        (first.pk, "apologies"),
        (fourth.pk, "apologies"),
    }


def test_it_keeps_every_saved_place_when_places_are_cut_and_fills_new_ones(
    coordinator, group, small_session, people
):
    first, second, third, fourth = people
    for person in people:
        bookings.session_place_save(user=person, session=small_session, wait_if_full=True)
    local = small_session.local_start

    def change(capacity):
        services.session_reschedule(
            user=coordinator,
            session=small_session,
            date=local.date(),
            start_time=local.time(),
            duration_minutes=90,
            capacity=capacity,
        )
        small_session.refresh_from_db()

    change(1)
    assert _statuses(small_session) == {
        first.pk: "booked",
        second.pk: "booked",
        third.pk: "waiting",
        fourth.pk: "waiting",
    }
    assert _places(small_session).over == 1
    bookings.session_place_cancel(user=first, session=small_session)
    assert _statuses(small_session)[third.pk] == "waiting"  # still one too many
    change(3)
    assert _statuses(small_session) == {
        second.pk: "booked",
        third.pk: "booked",
        fourth.pk: "booked",
    }


def test_it_lists_who_has_a_place_then_who_is_waiting(small_session, people):
    for person in reversed(people):
        bookings.session_place_save(user=person, session=small_session, wait_if_full=True)
    listed = bookings.session_booking_list(small_session)
    assert [b.user for b in listed] == list(reversed(people))
    assert [b.status for b in listed] == ["booked", "booked", "waiting", "waiting"]


def test_it_names_the_people_to_remind_at_sessions_with_fewer_places(group, people, programme):
    small = GroupSessionFactory(group=group, capacity=2)
    roomy = GroupSessionFactory(group=group, capacity=10)
    bookings.session_place_save(user=people[0], session=small)
    bookings.session_place_save(user=people[1], session=roomy)
    empty = GroupSessionFactory(group=group, capacity=1)
    other = GroupSessionFactory(group__programme=programme, capacity=1)
    MembershipFactory(group=other.group)
    rows = [
        (s.pk, s.group_id, s.capacity)
        for s in (small, roomy, empty, other, GroupSessionFactory(group=group))
    ]
    assert bookings.people_with_places(rows) == {small.pk: {people[0].pk}, empty.pk: set()}


def test_it_reads_places_in_three_queries_whatever_the_number_of_sessions(
    group, people, django_assert_num_queries
):
    sessions = [GroupSessionFactory(group=group, capacity=2) for _ in range(6)]
    for session in sessions:
        bookings.session_place_save(user=people[0], session=session)
        bookings.session_place_save(user=people[1], session=session)
        bookings.session_place_save(user=people[2], session=session, wait_if_full=True)
    with django_assert_num_queries(3):
        found = bookings.session_places(sessions, user=people[2])
    assert {p.position for p in found.values()} == {1}
    with django_assert_num_queries(0):
        assert bookings.session_places([GroupSessionFactory.build(group=group)]) == {}


def test_a_person_who_joins_the_group_later_can_save_a_place(group, small_session, people):
    newcomer = enrolled(group.programme)
    group.capacity = 10
    group.save()
    membership.membership_join(user=newcomer, group=group)
    assert bookings.session_place_save(user=newcomer, session=small_session).status == "booked"


def test_people_already_members_keep_a_place_when_a_newcomer_leaves_too_few(group, people):
    """Four members and a session with four places: nobody needed to save one. A fifth
    person joins; the four keep their places and reminders, the newcomer has none yet."""
    exact = GroupSessionFactory(group=group, capacity=4)
    roomy = GroupSessionFactory(group=group, capacity=6)
    newcomer = enrolled(group.programme)
    membership.membership_join(user=newcomer, group=group)
    assert _statuses(exact) == {person.pk: "booked" for person in people}
    assert _statuses(roomy) == {}
    assert _places(exact, user=newcomer).mine is None
    reminded = bookings.people_with_places([(exact.pk, group.pk, exact.capacity)])
    assert reminded == {exact.pk: {person.pk for person in people}}
