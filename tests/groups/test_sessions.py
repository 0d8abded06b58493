from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from groups import services, tasks
from groups.errors import SessionNotChangeable
from groups.models import GroupSession, SessionChange

LONDON = ZoneInfo("Europe/London")
pytestmark = pytest.mark.django_db


@pytest.fixture
def october():
    with time_machine.travel(dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        yield


def _weekly(coordinator, group, **extra):
    return services.series_create(
        user=coordinator,
        group=group,
        frequency="weekly",
        start_date=extra.pop("start_date", dt.date(2026, 10, 6)),
        start_time=dt.time(18, 0),
        duration_minutes=90,
        **extra,
    )


def test_it_generates_twelve_weeks_ahead_on_save_at_local_time_across_dst(
    october, coordinator, group
):
    series = _weekly(coordinator, group)
    sessions = list(series.sessions.order_by("starts_at"))
    assert len(sessions) == 12
    assert {s.starts_at.astimezone(LONDON).time() for s in sessions} == {dt.time(18, 0)}
    before = [s for s in sessions if s.occurrence_date < dt.date(2026, 10, 25)]
    after = [s for s in sessions if s.occurrence_date > dt.date(2026, 10, 25)]
    assert {s.starts_at.hour for s in before} == {17}
    assert {s.starts_at.hour for s in after} == {18}
    assert SessionChange.objects.filter(kind="created").count() == 12


def test_it_does_not_duplicate_sessions_when_generated_again(october, coordinator, group):
    series = _weekly(coordinator, group)
    assert services.sessions_generate(series=series) == 0
    assert tasks.sessions_generate_all.apply().get() == 0
    assert series.sessions.count() == 12


def test_it_tops_up_the_rolling_window_as_time_passes(coordinator, group):
    with time_machine.travel(dt.datetime(2026, 10, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        series = _weekly(coordinator, group)
    with time_machine.travel(dt.datetime(2026, 10, 15, 9, 0, tzinfo=dt.UTC), tick=False):
        assert tasks.sessions_generate_all.apply().get() == 2
    assert series.sessions.count() == 14


def test_it_cancels_one_session_and_records_it(october, coordinator, group):
    series = _weekly(coordinator, group)
    session = series.sessions.first()
    services.session_cancel(user=coordinator, session=session)
    session.refresh_from_db()
    assert session.status == "cancelled" and session.sequence == 1
    assert SessionChange.objects.filter(session=session, kind="cancelled").count() == 1
    services.session_cancel(user=coordinator, session=session)
    assert SessionChange.objects.filter(session=session, kind="cancelled").count() == 1
    assert series.sessions.count() == 12  # regeneration does not bring it back
    services.sessions_generate(series=series)
    assert GroupSession.objects.get(pk=session.pk).status == "cancelled"


def test_it_moves_one_session_and_keeps_it_moved(october, coordinator, group):
    series = _weekly(coordinator, group)
    session = series.sessions.first()
    previous = session.starts_at
    services.session_reschedule(
        user=coordinator,
        session=session,
        date=dt.date(2026, 10, 7),
        start_time=dt.time(11, 0),
        duration_minutes=60,
        capacity=3,
    )
    session.refresh_from_db()
    assert session.local_start.replace(tzinfo=None) == dt.datetime(2026, 10, 7, 11, 0)
    assert session.capacity == 3 and session.effective_capacity == 3
    assert session.is_moved and session.sequence == 1
    change = SessionChange.objects.get(session=session, kind="moved")
    assert change.previous_starts_at == previous
    # Changing the pattern leaves a hand-moved session where it is.
    services.series_update(
        user=coordinator,
        series=series,
        frequency="weekly",
        start_date=dt.date(2026, 10, 6),
        start_time=dt.time(19, 0),
        duration_minutes=90,
    )
    session.refresh_from_db()
    assert session.local_start.hour == 11


def test_it_moves_future_sessions_when_the_pattern_changes(october, coordinator, group):
    series = _weekly(coordinator, group)
    services.series_update(
        user=coordinator,
        series=series,
        frequency="weekly",
        start_date=dt.date(2026, 10, 6),
        start_time=dt.time(19, 0),
        duration_minutes=90,
    )
    assert {s.local_start.hour for s in series.sessions.all()} == {19}
    assert SessionChange.objects.filter(kind="moved").count() == 12


def test_it_cancels_sessions_dropped_by_a_new_pattern(october, coordinator, group):
    series = _weekly(coordinator, group)
    services.series_update(
        user=coordinator,
        series=series,
        frequency="fortnightly",
        start_date=dt.date(2026, 10, 6),
        start_time=dt.time(18, 0),
        duration_minutes=90,
    )
    assert series.sessions.filter(status="cancelled").count() == 6
    assert series.sessions.filter(status="scheduled").count() == 6


def test_it_refuses_changes_to_past_sessions(october, coordinator, group):
    series = _weekly(coordinator, group)
    session = series.sessions.first()
    with (
        time_machine.travel(dt.datetime(2026, 10, 8, tzinfo=dt.UTC), tick=False),
        pytest.raises(SessionNotChangeable),
    ):
        services.session_cancel(user=coordinator, session=session)


def test_it_lets_only_the_programmes_coordinators_change_sessions(
    october, coordinator, other_coordinator, group
):
    with pytest.raises(PermissionDenied):
        _weekly(other_coordinator, group)
    series = _weekly(coordinator, group)
    with pytest.raises(PermissionDenied):
        services.session_cancel(user=other_coordinator, session=series.sessions.first())


def test_it_generates_monthly_sessions_on_the_last_weekday(october, coordinator, group):
    series = services.series_create(
        user=coordinator,
        group=group,
        frequency="monthly",
        start_date=dt.date(2026, 10, 27),
        start_time=dt.time(10, 0),
        duration_minutes=60,
        last_weekday_of_month=True,
    )
    assert [s.occurrence_date for s in series.sessions.all()] == [
        dt.date(2026, 10, 27),
        dt.date(2026, 11, 24),
    ]  # 29 December is past the twelve-week window
