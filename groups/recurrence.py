"""When a series of sessions falls: pure date arithmetic, no database.

Dates are worked out in the group's local calendar and turned into UTC one at a time with
zoneinfo, so a weekly 18:00 session stays at 18:00 local time when the clocks change.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

UTC = dt.UTC


def nth_weekday_of_month(year: int, month: int, weekday: int, nth: int) -> dt.date | None:
    """The nth (1-4) or last (-1) given weekday of a month; None if the month has no such day."""
    days = [
        day
        for day in calendar.Calendar().itermonthdates(year, month)
        if day.month == month and day.weekday() == weekday
    ]
    if nth == -1:
        return days[-1]
    return days[nth - 1] if 1 <= nth <= len(days) else None


def occurrence_dates(
    *,
    frequency: str,
    start_date: dt.date,
    nth_weekday: int,
    first: dt.date,
    last: dt.date,
    end_date: dt.date | None = None,
) -> Iterator[dt.date]:
    """Local dates of a series between `first` and `last` (both included)."""
    stop = min(last, end_date) if end_date else last
    if frequency == "once":
        if first <= start_date <= stop:
            yield start_date
        return
    if frequency in ("weekly", "fortnightly"):
        step = 7 if frequency == "weekly" else 14
        day = start_date
        if first > start_date:
            skipped = (first - start_date).days // step
            day = start_date + dt.timedelta(days=skipped * step)
        while day <= stop:
            if day >= first:
                yield day
            day += dt.timedelta(days=step)
        return
    if frequency == "monthly":
        year, month = start_date.year, start_date.month
        if (first.year, first.month) > (year, month):
            year, month = first.year, first.month
        while (year, month) <= (stop.year, stop.month):
            day = nth_weekday_of_month(year, month, start_date.weekday(), nth_weekday)
            if day is not None and day >= start_date and first <= day <= stop:
                yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return
    raise ValueError(f"unknown frequency {frequency!r}")


def local_to_utc(day: dt.date, at: dt.time, time_zone: str) -> dt.datetime:
    """A local wall-clock time in `time_zone` as an aware UTC datetime.

    In the hour that does not exist when clocks go forward, zoneinfo's fold=0 reading moves
    the time on by the gap; in the hour that happens twice, the first one is used.
    """
    local = dt.datetime.combine(day, at).replace(tzinfo=ZoneInfo(time_zone))
    return local.astimezone(UTC)


def session_times(
    day: dt.date, at: dt.time, duration_minutes: int, time_zone: str
) -> tuple[dt.datetime, dt.datetime]:
    starts_at = local_to_utc(day, at, time_zone)
    return starts_at, starts_at + dt.timedelta(minutes=duration_minutes)
