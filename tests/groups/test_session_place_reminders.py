"""Reminders for a session with fewer places than members go only to people with a place."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups import bookings
from groups.models import SessionBooking
from notifications import services
from notifications.models import Delivery
from notifications.sources import LEDGER_FIELDS, plan_session_reminders
from tests.groups.factories import GroupSessionFactory, MembershipFactory
from tests.notifications.helpers import dispatch_and_send

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
SOON = NOW + dt.timedelta(minutes=55)  # its one-hour reminder fell due five minutes ago


def _session(members: int, capacity: int | None, booked: int = 0):
    session = GroupSessionFactory(starts_at=SOON, capacity=capacity)
    people = [MembershipFactory(group=session.group).user for _ in range(members)]
    for person in people[:booked]:
        SessionBooking.objects.create(session=session, user=person, status="booked")
    return session, people


def _planned() -> set[tuple[int, int]]:
    user, session = LEDGER_FIELDS.index("user"), LEDGER_FIELDS.index("object_id")
    rows = plan_session_reminders(since=NOW - dt.timedelta(minutes=15), now=NOW)
    return {(row[session], row[user]) for chunk in rows for row in chunk}


def test_it_reminds_only_people_with_a_place_when_places_are_fewer_than_members():
    small, small_people = _session(members=4, capacity=2, booked=2)
    waiting = small_people[2]
    SessionBooking.objects.create(session=small, user=waiting, status="waiting")
    roomy, roomy_people = _session(members=2, capacity=5, booked=1)
    usual, usual_people = _session(members=2, capacity=None)
    expected = {(small.pk, p.pk) for p in small_people[:2]}
    expected |= {(roomy.pk, p.pk) for p in roomy_people}
    expected |= {(usual.pk, p.pk) for p in usual_people}
    assert _planned() == expected


def test_only_people_with_a_place_get_the_reminder_e_mail():
    _small, people = _session(members=3, capacity=2, booked=2)
    dispatch_and_send(NOW)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people[:2])


def test_a_place_given_up_after_planning_gets_no_reminder():
    session, people = _session(members=3, capacity=2, booked=2)
    result = services.dispatch(now=NOW)
    with time_machine.travel(NOW, tick=False):
        bookings.session_place_cancel(user=people[0], session=session)
    for batch in result.batches:
        services.send_batch(ids=batch, now=NOW)
    assert [m.to[0] for m in mail.outbox] == [people[1].email]
    hour_before = Delivery.objects.filter(user=people[0], data__offset=60)
    assert hour_before.exists()
    assert {(row.status, row.last_error) for row in hour_before} == {
        (Delivery.Status.SKIPPED, "no place at this session")
    }


def test_it_reminds_nobody_at_a_session_with_fewer_places_where_nobody_saved_one():
    session, _people = _session(members=3, capacity=2)
    assert _planned() == set()


def _queries_to_plan() -> int:
    with CaptureQueriesContext(connection) as queries:
        _planned()
    return len(queries)


def test_it_plans_in_the_same_number_of_queries_however_many_sessions_have_fewer_places():
    for _ in range(2):
        _session(members=3, capacity=2, booked=1)
    _session(members=2, capacity=None)
    few = _queries_to_plan()
    for _ in range(20):
        _session(members=3, capacity=2, booked=2)
        _session(members=2, capacity=None)
    assert _queries_to_plan() == few
    assert len(_planned()) == 2 * 1 + 2 + 20 * (2 + 2)
