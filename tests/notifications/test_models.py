from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from notifications.models import NotificationPreference

LONDON = zoneinfo.ZoneInfo("Europe/London")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def _pref(start, end):
    return NotificationPreference(quiet_start=dt.time(*start), quiet_end=dt.time(*end))


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        # Winter (GMT): 23:00 UTC is 23:00 local, quiet until 07:00 UTC.
        (
            utc(2026, 1, 10, 23, 0),
            utc(2026, 1, 11, 7, 0),
        ),
        # Summer (BST): 22:30 UTC is 23:30 local, quiet until 06:00 UTC.
        (
            utc(2026, 7, 10, 22, 30),
            utc(2026, 7, 11, 6, 0),
        ),
        # The night the clocks go forward (29 March 2026): 07:00 BST is 06:00 UTC.
        (
            utc(2026, 3, 28, 23, 30),
            utc(2026, 3, 29, 6, 0),
        ),
        # The night the clocks go back (25 October 2026): 07:00 GMT is 07:00 UTC.
        (
            utc(2026, 10, 24, 23, 30),
            utc(2026, 10, 25, 7, 0),
        ),
        # Just after midnight, local: still the same quiet night.
        (
            utc(2026, 1, 11, 2, 0),
            utc(2026, 1, 11, 7, 0),
        ),
        # Daytime: not quiet.
        (utc(2026, 1, 11, 12, 0), None),
    ],
)
def test_it_works_out_the_end_of_quiet_hours_in_the_persons_zone(moment, expected):
    assert _pref((22, 0), (7, 0)).quiet_until(moment, LONDON) == expected


def test_quiet_hours_within_one_day_and_unset():
    daytime = _pref((12, 0), (14, 0))
    assert daytime.quiet_until(utc(2026, 1, 5, 13, 0), LONDON) == utc(2026, 1, 5, 14, 0)
    assert daytime.quiet_until(utc(2026, 1, 5, 15, 0), LONDON) is None
    assert NotificationPreference().quiet_until(dt.datetime.now(dt.UTC), LONDON) is None


def test_a_quiet_hour_in_the_spring_gap_resolves_to_a_real_moment():
    # 01:30 does not exist in London on 29 March 2026; quiet until 01:30 ends at 01:00 UTC.
    pref = _pref((23, 0), (1, 30))
    until = pref.quiet_until(utc(2026, 3, 29, 0, 30), LONDON)
    assert until is not None and until.tzinfo is dt.UTC


def test_wants_follows_channels_and_muted_kinds():
    pref = NotificationPreference(sms_enabled=True, muted_kinds=["checkin_nudge"])
    assert pref.wants("session_reminder", "sms")
    assert not pref.wants("checkin_nudge", "email")
    assert NotificationPreference().wants("session_reminder", "email")
    assert not NotificationPreference().wants("session_reminder", "sms")
