"""Calendar files: one session as `.ics`, and each person's private subscription feed.

Times are written in the group's time zone (TZID, with a VTIMEZONE), so calendar apps show
the right local time on both sides of a clock change. The UID of a session never changes;
SEQUENCE goes up when it is moved or cancelled, so calendars update the event in place.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, Timezone

from accounts.models import User

from .bookings import Places, session_places
from .models import CalendarFeed, GroupSession

PRODID = "-//Peer Support//Groups//EN"
FEED_DAYS = 365
FEED_PAST_DAYS = 7


def _site_host() -> str:
    return settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0] or "peersupport.localhost"


def _calendar(name: str | None = None) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    if name:
        cal.add("x-wr-calname", name)
    return cal


def _event(session: GroupSession, places: Places | None = None) -> Event:
    group = session.group
    tz = group.tzinfo
    event = Event()
    event.add("uid", f"groupsession-{session.pk}@{_site_host()}")
    event.add("sequence", session.sequence)
    event.add("dtstamp", session.updated_at or timezone.now())
    event.add("dtstart", session.starts_at.astimezone(tz))
    event.add("dtend", session.ends_at.astimezone(tz))
    event.add("summary", group.name)
    event.add("status", _status(session, places))
    page = settings.SITE_URL + reverse("groups:detail", kwargs={"pk": group.pk})
    event.add("url", page)
    if group.meets_in_person and group.venue_address:
        event.add("location", ", ".join(group.venue_address.splitlines()))
    elif group.meets_online:
        event.add("location", _("Online. The link is on the group page."))
    # The meeting link itself stays on the site, where only members see it, near the time.
    event.add("description", "\n\n".join([*_places_note(places), group.description, page]))
    return event


def _status(session: GroupSession, places: Places | None) -> str:
    if session.is_cancelled:
        return "CANCELLED"
    # A member without a place at a session with fewer places than members may not come.
    if places is not None and places.is_member and not places.expected:
        return "TENTATIVE"
    return "CONFIRMED"


def _places_note(places: Places | None) -> list[str]:
    if places is None or not places.needed:
        return []
    if places.has_place:
        return [_("You have a place at this session.")]
    if places.is_member:
        return [_("This session has fewer places. Save your place on the group page.")]
    return []


@functools.lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> bytes:
    """The VTIMEZONE of `tzid` for whole years first_year..last_year, as iCalendar text.

    Building one from the tz database and writing it out takes milliseconds, and a long range
    makes a large component, so each zone and year range is made once per process and only
    covers the years the calendar's events fall in (with a year either side).
    """
    try:
        zone = Timezone.from_tzid(
            tzid, first_date=dt.date(first_year, 1, 1), last_date=dt.date(last_year + 1, 1, 1)
        )
    except ValueError:  # not a zone the tz database knows
        return b""
    return zone.to_ical()


def _to_bytes(cal: Calendar, years: tuple[int, int] | None = None) -> bytes:
    missing = sorted(cal.get_missing_tzids())
    data = cal.to_ical()
    if not missing:
        return data
    this_year = timezone.now().year
    first, last = years or (this_year, this_year)
    zones = b"".join(_vtimezone(tzid, first - 1, last + 1) for tzid in missing)
    # VTIMEZONEs go before the events that use them: right after the calendar's own lines.
    at = data.find(b"BEGIN:VEVENT\r\n")
    if at < 0:
        at = data.rindex(b"END:VCALENDAR")
    return data[:at] + zones + data[at:]


def _years(sessions: Iterable[GroupSession]) -> tuple[int, int] | None:
    years = [y for s in sessions for y in (s.starts_at.year, s.ends_at.year)]
    return (min(years), max(years)) if years else None


def session_ics(session: GroupSession, *, places: Places | None = None) -> bytes:
    """One session as a calendar file with a single VEVENT; `places` as its viewer sees them."""
    cal = _calendar()
    cal.add_component(_event(session, places))
    return _to_bytes(cal, _years([session]))


def sessions_ics(
    sessions: Iterable[GroupSession], *, name: str, places: dict[int, Places] | None = None
) -> bytes:
    sessions = list(sessions)
    places = places or {}
    cal = _calendar(name)
    for session in sessions:
        cal.add_component(_event(session, places.get(session.pk)))
    return _to_bytes(cal, _years(sessions))


# --- private feeds ---------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def feed_regenerate(*, user: User) -> str:
    """Make a new private feed address; the old one stops working. Returns the token once."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    CalendarFeed.objects.update_or_create(
        user=user,
        defaults={
            "token_hash": _hash(token),
            "created_at": now,
            "expires_at": now + dt.timedelta(days=FEED_DAYS),
            "last_used_at": None,
        },
    )
    return token


def feed_revoke(*, user: User) -> None:
    """Turn the private feed off."""
    CalendarFeed.objects.filter(user=user).delete()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed a token opens, if any. Lookup is by hash, so it takes the same time
    whether or not a stored token shares a prefix with it."""
    if not token or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=_hash(token), expires_at__gt=timezone.now(), user__is_active=True)
        .first()
    )
    return feed


def feed_sessions(user: User):
    """Sessions in a person's feed: upcoming ones, and recent ones so changes still show."""
    since = timezone.now() - dt.timedelta(days=FEED_PAST_DAYS)
    return (
        GroupSession.objects.for_member(user)
        .filter(starts_at__gte=since)
        .select_related("group")
        .order_by("starts_at")[:500]
    )


def feed_ics(feed: CalendarFeed) -> bytes:
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    sessions = list(feed_sessions(feed.user))
    places = session_places(sessions, user=feed.user)
    return sessions_ics(sessions, name=_("My peer support groups"), places=places)
