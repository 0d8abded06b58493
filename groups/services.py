"""Writes for groups, session series and single sessions.

Membership and waiting lists live in `membership.py`, attendance in `attendance.py`,
discussion in `discussion.py`.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from programmes.models import Enrolment, Programme, StaffMembership

from . import bookings, recurrence
from .access import require_manager
from .errors import SessionNotChangeable
from .models import Group, GroupSession, SessionChange, SessionSeries

logger = logging.getLogger(__name__)

WINDOW_WEEKS = 12
GROUP_FIELDS = (
    "name",
    "description",
    "audience",
    "format",
    "venue_address",
    "accessibility_notes",
    "meeting_link",
    "time_zone",
    "capacity",
    "join_policy",
    "status",
)


def facilitator_candidates(programme: Programme):
    """People who may facilitate a programme's groups: its active supporters and the
    coordinators of its organisation."""
    supporters = Enrolment.objects.filter(
        programme=programme, role="supporter", status="active"
    ).values("user")
    staff = StaffMembership.objects.filter(organisation_id=programme.organisation_id).values("user")
    return User.objects.filter(Q(pk__in=supporters) | Q(pk__in=staff)).order_by("display_name")


def _check_facilitators(programme: Programme, facilitators) -> list[User]:
    facilitators = list(facilitators or [])
    allowed = set(
        facilitator_candidates(programme)
        .filter(pk__in=[f.pk for f in facilitators])
        .values_list("pk", flat=True)
    )
    if any(f.pk not in allowed for f in facilitators):
        raise PermissionDenied
    return facilitators


@transaction.atomic
def group_create(*, user: User, programme: Programme, facilitators=(), **fields) -> Group:
    """Create a group in a programme the coordinator manages."""
    if not Programme.objects.managed_by(user).filter(pk=programme.pk).exists():
        raise PermissionDenied
    facilitators = _check_facilitators(programme, facilitators)
    group = Group.objects.create(
        programme=programme, **{k: v for k, v in fields.items() if k in GROUP_FIELDS}
    )
    group.facilitators.set(facilitators)
    logger.info("group.created", extra={"group_id": group.pk})
    return group


@transaction.atomic
def group_update(*, user: User, group: Group, facilitators=None, **fields) -> Group:
    """Change a group's details. More places offer the new places to the waiting list."""
    from .membership import offer_free_places

    require_manager(user, group)
    group = Group.objects.select_for_update().get(pk=group.pk)
    old_tz = group.time_zone
    for name, value in fields.items():
        if name in GROUP_FIELDS:
            setattr(group, name, value)
    group.save()
    if facilitators is not None:
        group.facilitators.set(_check_facilitators(group.programme, facilitators))
    if group.time_zone != old_tz:
        for series in group.series.all():
            series.time_zone = group.time_zone
            series.save(update_fields=["time_zone", "updated_at"])
            _resync_future_sessions(series)
    offer_free_places(group=group)
    return group


# --- series -------------------------------------------------------------------------------


def _local_today(time_zone: str, now: dt.datetime | None = None) -> dt.date:
    return timezone.localtime(now or timezone.now(), recurrence.ZoneInfo(time_zone)).date()


@transaction.atomic
def series_create(
    *,
    user: User,
    group: Group,
    frequency: str,
    start_date: dt.date,
    start_time: dt.time,
    duration_minutes: int,
    end_date: dt.date | None = None,
    last_weekday_of_month: bool = False,
) -> SessionSeries:
    """Add a one-off session or a repeating pattern to a group, and create its sessions ahead."""
    require_manager(user, group)
    series = SessionSeries(
        group=group,
        frequency=frequency,
        start_date=start_date,
        start_time=start_time,
        duration_minutes=duration_minutes,
        end_date=end_date,
        time_zone=group.time_zone,
        nth_weekday=-1 if last_weekday_of_month else None,
    )
    series.save()
    sessions_generate(series=series)
    return series


@transaction.atomic
def series_update(
    *,
    user: User,
    series: SessionSeries,
    frequency: str,
    start_date: dt.date,
    start_time: dt.time,
    duration_minutes: int,
    end_date: dt.date | None = None,
    last_weekday_of_month: bool = False,
) -> SessionSeries:
    """Change a pattern. Future sessions follow it; ones moved by hand are left alone."""
    require_manager(user, series.group)
    series.frequency = frequency
    series.start_date = start_date
    series.start_time = start_time
    series.duration_minutes = duration_minutes
    series.end_date = end_date
    series.nth_weekday = -1 if last_weekday_of_month else None
    series.save()
    _resync_future_sessions(series)
    sessions_generate(series=series)
    return series


def _resync_future_sessions(series: SessionSeries) -> None:
    now = timezone.now()
    today = _local_today(series.time_zone, now)
    horizon = today + dt.timedelta(weeks=WINDOW_WEEKS)
    wanted = set(
        recurrence.occurrence_dates(
            frequency=series.frequency,
            start_date=series.start_date,
            nth_weekday=series.nth_weekday,
            first=today,
            last=horizon,
            end_date=series.end_date,
        )
    )
    future = series.sessions.filter(starts_at__gt=now, status="scheduled", is_moved=False)
    for session in future.select_related("group"):
        if session.occurrence_date not in wanted:
            _cancel(session)
            continue
        starts_at, ends_at = recurrence.session_times(
            session.occurrence_date, series.start_time, series.duration_minutes, series.time_zone
        )
        if (starts_at, ends_at) != (session.starts_at, session.ends_at):
            _move(session, starts_at=starts_at, ends_at=ends_at)


def sessions_generate(
    *, series: SessionSeries, now: dt.datetime | None = None, weeks: int = WINDOW_WEEKS
) -> int:
    """Create the series' sessions for the coming weeks; existing ones are left as they are.

    Safe to run again at any time: one session per series and date is a database constraint.
    """
    today = _local_today(series.time_zone, now)
    dates = recurrence.occurrence_dates(
        frequency=series.frequency,
        start_date=series.start_date,
        nth_weekday=series.nth_weekday,
        first=today,
        last=today + dt.timedelta(weeks=weeks),
        end_date=series.end_date,
    )
    existing = set(series.sessions.values_list("occurrence_date", flat=True))
    created = 0
    for day in dates:
        if day in existing:
            continue
        starts_at, ends_at = recurrence.session_times(
            day, series.start_time, series.duration_minutes, series.time_zone
        )
        try:
            with transaction.atomic():
                session = GroupSession.objects.create(
                    group_id=series.group_id,
                    series=series,
                    occurrence_date=day,
                    starts_at=starts_at,
                    ends_at=ends_at,
                )
                SessionChange.objects.create(session=session, kind=SessionChange.Kind.CREATED)
        except IntegrityError:
            continue  # another worker made it first
        created += 1
    if created:
        logger.info("group.sessions_generated", extra={"series_id": series.pk, "count": created})
    return created


def sessions_generate_all(*, now: dt.datetime | None = None) -> int:
    """Top up the rolling window of every open group's series (run daily by Celery beat)."""
    now = now or timezone.now()
    series_list = SessionSeries.objects.filter(group__status=Group.Status.OPEN).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=now.date() - dt.timedelta(days=1))
    )
    return sum(sessions_generate(series=series, now=now) for series in series_list)


# --- one session ----------------------------------------------------------------------------


def _cancel(session: GroupSession) -> None:
    session.status = GroupSession.Status.CANCELLED
    session.sequence = F("sequence") + 1
    session.save(update_fields=["status", "sequence", "updated_at"])
    session.refresh_from_db(fields=["sequence"])
    SessionChange.objects.create(session=session, kind=SessionChange.Kind.CANCELLED)


def _move(session: GroupSession, *, starts_at: dt.datetime, ends_at: dt.datetime) -> None:
    previous = session.starts_at
    session.starts_at, session.ends_at = starts_at, ends_at
    session.sequence = F("sequence") + 1
    session.save(update_fields=["starts_at", "ends_at", "sequence", "is_moved", "updated_at"])
    session.refresh_from_db(fields=["sequence"])
    SessionChange.objects.create(
        session=session, kind=SessionChange.Kind.MOVED, previous_starts_at=previous
    )


@transaction.atomic
def session_cancel(*, user: User, session: GroupSession) -> GroupSession:
    """Cancel one session; members are told through the recorded change."""
    require_manager(user, session.group)
    session = GroupSession.objects.for_change().get(pk=session.pk)
    if session.is_cancelled:
        return session
    if session.ends_at < timezone.now():
        raise SessionNotChangeable(_("This session has already happened."))
    _cancel(session)
    logger.info("group.session_cancelled", extra={"session_id": session.pk})
    return session


@transaction.atomic
def session_reschedule(
    *,
    user: User,
    session: GroupSession,
    date: dt.date,
    start_time: dt.time,
    duration_minutes: int,
    capacity: int | None,
) -> GroupSession:
    """Move one session to another local date or time, or give it its own number of places.

    More places go to the people on the session's waiting list; fewer places take nobody's
    saved place away (the page tells the coordinator how many have one).
    """
    require_manager(user, session.group)
    session = GroupSession.objects.for_change().get(pk=session.pk)
    if session.is_cancelled or session.ends_at < timezone.now():
        raise SessionNotChangeable(_("Only sessions that are still to come can be changed."))
    if capacity != session.capacity:
        session.capacity = capacity
        session.save(update_fields=["capacity", "updated_at"])
        bookings.places_after_capacity_change(session=session)
    starts_at, ends_at = recurrence.session_times(
        date, start_time, duration_minutes, session.group.time_zone
    )
    if (starts_at, ends_at) != (session.starts_at, session.ends_at):
        if starts_at < timezone.now():
            raise SessionNotChangeable(_("Please choose a time in the future."))
        session.is_moved = True
        _move(session, starts_at=starts_at, ends_at=ends_at)
        logger.info("group.session_moved", extra={"session_id": session.pk})
    return session
