from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from groups.recurrence import nth_weekday_of_month, occurrence_dates, session_times

LONDON = "Europe/London"


def test_it_repeats_weekly_from_the_first_date():
    dates = list(
        occurrence_dates(
            frequency="weekly",
            start_date=dt.date(2026, 10, 6),
            nth_weekday=1,
            first=dt.date(2026, 10, 1),
            last=dt.date(2026, 10, 31),
        )
    )
    assert dates == [dt.date(2026, 10, d) for d in (6, 13, 20, 27)]


def test_it_keeps_the_fortnightly_rhythm_when_the_window_starts_later():
    dates = list(
        occurrence_dates(
            frequency="fortnightly",
            start_date=dt.date(2026, 1, 1),
            nth_weekday=1,
            first=dt.date(2026, 1, 20),
            last=dt.date(2026, 2, 28),
        )
    )
    assert dates == [dt.date(2026, 1, 29), dt.date(2026, 2, 12), dt.date(2026, 2, 26)]


def test_it_finds_the_nth_and_last_weekday_of_a_month():
    # March 2026: Tuesdays are 3, 10, 17, 24, 31.
    assert nth_weekday_of_month(2026, 3, 1, 2) == dt.date(2026, 3, 10)
    assert nth_weekday_of_month(2026, 3, 1, -1) == dt.date(2026, 3, 31)


def test_it_repeats_monthly_on_the_second_tuesday():
    dates = list(
        occurrence_dates(
            frequency="monthly",
            start_date=dt.date(2026, 1, 13),
            nth_weekday=2,
            first=dt.date(2026, 1, 1),
            last=dt.date(2026, 4, 30),
        )
    )
    assert dates == [
        dt.date(2026, 1, 13),
        dt.date(2026, 2, 10),
        dt.date(2026, 3, 10),
        dt.date(2026, 4, 14),
    ]


def test_it_stops_at_the_end_date_and_once_means_once():
    dates = list(
        occurrence_dates(
            frequency="weekly",
            start_date=dt.date(2026, 1, 5),
            nth_weekday=1,
            first=dt.date(2026, 1, 1),
            last=dt.date(2026, 12, 31),
            end_date=dt.date(2026, 1, 19),
        )
    )
    assert len(dates) == 3
    once = list(
        occurrence_dates(
            frequency="once",
            start_date=dt.date(2026, 1, 5),
            nth_weekday=1,
            first=dt.date(2026, 1, 1),
            last=dt.date(2026, 12, 31),
        )
    )
    assert once == [dt.date(2026, 1, 5)]


def test_it_keeps_local_time_across_the_end_of_british_summer_time():
    # Clocks go back on the last Sunday of October 2026 (25 October).
    days = list(
        occurrence_dates(
            frequency="weekly",
            start_date=dt.date(2026, 10, 20),
            nth_weekday=3,
            first=dt.date(2026, 10, 20),
            last=dt.date(2026, 11, 3),
        )
    )
    times = [session_times(day, dt.time(18, 0), 90, LONDON) for day in days]
    utc_hours = [start.hour for start, _end in times]
    assert utc_hours == [17, 18, 18]  # 18:00 BST is 17:00 UTC, 18:00 GMT is 18:00 UTC
    for start, end in times:
        assert start.astimezone(ZoneInfo(LONDON)).time() == dt.time(18, 0)
        assert end - start == dt.timedelta(minutes=90)
        assert start.tzinfo == dt.UTC


def test_it_moves_a_time_that_does_not_exist_in_spring_forward_gap():
    start, _end = session_times(dt.date(2026, 3, 29), dt.time(1, 30), 60, LONDON)
    # 01:30 does not exist that night in London; the session moves on by the hour, to 02:30 BST.
    assert start == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert start.astimezone(ZoneInfo(LONDON)).time() == dt.time(2, 30)
