from __future__ import annotations

import pytest

from groups import bookings, demo
from groups.models import GroupSession, Membership, SessionBooking
from programmes import demo as programmes_demo

pytestmark = pytest.mark.django_db


def test_it_seeds_one_coming_session_with_fewer_places_once():
    context = programmes_demo.seed()
    demo.seed(context)
    demo.seed(context)
    (session,) = GroupSession.objects.upcoming().filter(capacity__isnull=False)
    assert session.group.name == "Tuesday evening diabetes group"
    places = bookings.session_places([session])[session.pk]
    assert places.needed and (places.capacity, places.booked) == (6, 3)
    assert SessionBooking.objects.count() == 3
    assert Membership.objects.filter(group=session.group, status="member").count() == 9
