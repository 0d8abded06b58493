from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from groups import calendar, services
from groups.models import CalendarFeed
from tests.groups.factories import GroupSessionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _events(data: bytes):
    return [c for c in Calendar.from_ical(data).walk("VEVENT")]


def test_it_writes_one_session_with_its_time_zone(group):
    session = GroupSessionFactory(
        group=group,
        starts_at=dt.datetime(2026, 10, 27, 18, 0, tzinfo=dt.UTC),
        ends_at=dt.datetime(2026, 10, 27, 19, 30, tzinfo=dt.UTC),
    )
    data = calendar.session_ics(session)
    cal = Calendar.from_ical(data)
    (event,) = _events(data)
    assert b"TZID=Europe/London" in data
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    assert event["dtstart"].params["TZID"] == "Europe/London"
    start = event.decoded("dtstart")
    assert start == dt.datetime(2026, 10, 27, 18, 0, tzinfo=dt.UTC)
    assert start.astimezone(ZoneInfo("Europe/London")).hour == 18
    assert str(event["uid"]).startswith(f"groupsession-{session.pk}@")
    assert event["status"] == "CONFIRMED" and event["sequence"] == 0
    assert event["summary"] == group.name
    assert group.meeting_link.encode() not in data


def test_it_keeps_the_uid_and_bumps_the_sequence_when_moved_or_cancelled(coordinator, group):
    with time_machine.travel(dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        series = services.series_create(
            user=coordinator,
            group=group,
            frequency="weekly",
            start_date=dt.date(2026, 10, 6),
            start_time=dt.time(18, 0),
            duration_minutes=90,
        )
        session = series.sessions.first()
        (before,) = _events(calendar.session_ics(session))
        services.session_reschedule(
            user=coordinator,
            session=session,
            date=dt.date(2026, 10, 8),
            start_time=dt.time(18, 0),
            duration_minutes=90,
            capacity=None,
        )
        session.refresh_from_db()
        (moved,) = _events(calendar.session_ics(session))
        services.session_cancel(user=coordinator, session=session)
        session.refresh_from_db()
        (cancelled,) = _events(calendar.session_ics(session))
    assert before["uid"] == moved["uid"] == cancelled["uid"]
    assert (before["sequence"], moved["sequence"], cancelled["sequence"]) == (0, 1, 2)
    assert moved.decoded("dtstart").astimezone(ZoneInfo("Europe/London")).day == 8
    assert cancelled["status"] == "CANCELLED"


def test_it_serves_a_private_feed_of_the_members_sessions(client, group, group_member):
    mine = GroupSessionFactory(group=group)
    GroupSessionFactory()  # another group's session
    token = calendar.feed_regenerate(user=group_member)
    assert len(token) >= 43
    assert not CalendarFeed.objects.filter(token_hash=token).exists()  # only the hash is kept
    response = client.get(reverse("groups:feed", kwargs={"token": token}))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    assert [str(e["uid"]).split("@")[0] for e in events] == [f"groupsession-{mine.pk}"]


def test_it_stops_the_old_feed_when_regenerated_or_revoked(client, group, group_member):
    old = calendar.feed_regenerate(user=group_member)
    new = calendar.feed_regenerate(user=group_member)
    assert client.get(reverse("groups:feed", kwargs={"token": old})).status_code == 404
    assert client.get(reverse("groups:feed", kwargs={"token": new})).status_code == 200
    calendar.feed_revoke(user=group_member)
    assert client.get(reverse("groups:feed", kwargs={"token": new})).status_code == 404
    assert client.get(reverse("groups:feed", kwargs={"token": "guess"})).status_code == 404


def test_it_expires_feeds(client, group_member):
    token = calendar.feed_regenerate(user=group_member)
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=400)):
        assert client.get(reverse("groups:feed", kwargs={"token": token})).status_code == 404


def test_it_shows_cancelled_sessions_in_the_feed_so_calendars_update(
    client, coordinator, group, group_member
):
    session = GroupSessionFactory(group=group)
    services.session_cancel(user=coordinator, session=session)
    token = calendar.feed_regenerate(user=group_member)
    (event,) = _events(client.get(reverse("groups:feed", kwargs={"token": token})).content)
    assert event["status"] == "CANCELLED"


def test_it_drops_sessions_of_groups_the_person_left(client, group):
    membership = MembershipFactory(group=group)
    GroupSessionFactory(group=group)
    token = calendar.feed_regenerate(user=membership.user)
    membership.status = "left"
    membership.save()
    assert _events(client.get(reverse("groups:feed", kwargs={"token": token})).content) == []
