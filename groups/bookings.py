"""Places at one session that has fewer places than the group has members.

A coordinator can give one session its own, smaller number of places (a smaller room one
week). While that number is below the number of members, members save a place there, first
come first served, and the rest can join that session's waiting list: when someone cancels,
the first person waiting gets the place without having to do anything. Reminders for such a
session go only to people with a place (`people_with_places`, read by the notifications app).

Every change to who has a place locks the session row (`GroupSession.objects.for_change()`),
so the last place is never given twice. Saving a place locks the member's membership row
first: leaving a group locks the group, the membership, then the sessions, so the two take
locks in the same order, and someone leaving cannot keep a place by saving it at that moment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .errors import SessionFull, SessionNotChangeable
from .models import Attendance, GroupSession, Membership, SessionBooking

logger = logging.getLogger(__name__)

BOOKED, WAITING = SessionBooking.Status.BOOKED, SessionBooking.Status.WAITING
CHUNK = 500


def places_needed(capacity: int | None, members: int) -> bool:
    """Members must save a place when the session's own number of places is below the
    number of members; otherwise everyone in the group can come."""
    return capacity is not None and members > capacity


@dataclass(frozen=True)
class Places:
    """Places at one session with its own number of places, as one person sees them."""

    capacity: int
    members: int
    booked: int
    waiting: int
    mine: str | None = None  # "booked", "waiting" or None
    position: int | None = None  # on this session's waiting list, 1 for the first
    is_member: bool = False

    @property
    def needed(self) -> bool:
        return places_needed(self.capacity, self.members)

    @property
    def left(self) -> int:
        return max(self.capacity - self.booked, 0)

    @property
    def full(self) -> bool:
        return self.booked >= self.capacity

    @property
    def over(self) -> int:
        """How many more people have a place than there are places (after a cut)."""
        return max(self.booked - self.capacity, 0)

    @property
    def has_place(self) -> bool:
        return self.mine == BOOKED

    @property
    def expected(self) -> bool:
        """Whether this person, as a member, is expected at the session."""
        return not self.needed or self.has_place

    @property
    def shows_booking(self) -> bool:
        """Show the member the buttons to save, cancel or wait for a place."""
        return self.is_member and (self.needed or self.mine is not None)


def session_places(
    sessions: Iterable[GroupSession], *, user: User | None = None
) -> dict[int, Places]:
    """Places at each session that has its own number of places, keyed by session id.

    At most three queries whatever the number of sessions: counts of places and waiting
    people, members per group (and whether `user` is one), and `user`'s own bookings with
    their place on each waiting list.
    """
    own = [s for s in sessions if s.capacity is not None]
    if not own:
        return {}
    session_ids = [s.pk for s in own]
    group_ids = {s.group_id for s in own}
    counts = {
        row["session_id"]: row
        for row in SessionBooking.objects.filter(session_id__in=session_ids)
        .values("session_id")
        .annotate(
            booked=Count("pk", filter=Q(status=BOOKED)),
            waiting=Count("pk", filter=Q(status=WAITING)),
        )
        .order_by()
    }
    person = user if user is not None and user.is_authenticated else None
    me = Count("pk", filter=Q(user_id=person.pk)) if person else Value(0)
    members = {
        row["group_id"]: row
        for row in Membership.objects.filter(group_id__in=group_ids, status="member")
        .values("group_id")
        .annotate(n=Count("pk"), me=me)
        .order_by()
    }
    mine = {}
    if person is not None:
        ahead = (
            SessionBooking.objects.filter(
                session_id=OuterRef("session_id"),
                status=WAITING,
                created_at__lt=OuterRef("created_at"),
            )
            .values("session_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        mine = {
            row["session_id"]: row
            for row in SessionBooking.objects.filter(session_id__in=session_ids, user=person)
            .annotate(ahead=Coalesce(Subquery(ahead, output_field=IntegerField()), 0))
            .values("session_id", "status", "ahead")
        }
    places = {}
    for session in own:
        count = counts.get(session.pk, {})
        group = members.get(session.group_id, {})
        booking = mine.get(session.pk)
        status = booking["status"] if booking else None
        places[session.pk] = Places(
            capacity=session.capacity,
            members=group.get("n", 0),
            booked=count.get("booked", 0),
            waiting=count.get("waiting", 0),
            mine=status,
            position=booking["ahead"] + 1 if status == WAITING else None,
            is_member=bool(group.get("me")),
        )
    return places


def session_booking_list(session: GroupSession) -> list[SessionBooking]:
    """Who has a place at a session and who is waiting, in the order they asked."""
    # "booked" sorts before "waiting".
    return list(session.bookings.select_related("user").order_by("status", "created_at", "pk"))


# --- writes ----------------------------------------------------------------------------------


def _lock_session(session: GroupSession) -> GroupSession:
    return GroupSession.objects.for_change().get(pk=session.pk)


def _check_open(session: GroupSession) -> None:
    if session.is_cancelled or session.starts_at <= timezone.now():
        raise SessionNotChangeable(_("You can only save a place before a session starts."))
    if session.capacity is None:
        raise SessionNotChangeable(_("There is room for everyone at this session."))


def _booked_count(session: GroupSession) -> int:
    return session.bookings.filter(status=BOOKED).count()


def _promote(session: GroupSession) -> int:
    """Give free places to the first people waiting who are still members. The caller holds
    the session lock."""
    free = session.capacity - _booked_count(session) if session.capacity is not None else 0
    if free <= 0:
        return 0
    members = Membership.objects.filter(group_id=session.group_id, status="member")
    first = list(
        session.bookings.filter(status=WAITING, user__in=members.values("user"))
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:free]
    )
    promoted = SessionBooking.objects.filter(pk__in=first).update(status=BOOKED)
    for booking_id in first:
        logger.info("group.session_place_given", extra={"booking_id": booking_id})
    return promoted


@transaction.atomic
def session_place_save(*, user: User, session: GroupSession, wait_if_full: bool = False):
    """Save a member's place at a session, first come first served. When it is full, join
    that session's waiting list if asked to, otherwise raise `SessionFull`."""
    membership = (
        Membership.objects.select_for_update()
        .filter(group_id=session.group_id, user=user, status="member")
        .first()
    )
    if membership is None:
        raise PermissionDenied
    session = _lock_session(session)
    _check_open(session)
    booking = SessionBooking.objects.filter(session=session, user=user).first()
    if booking is not None and booking.status == BOOKED:
        return booking
    if _booked_count(session) < session.capacity:
        status = BOOKED
    elif wait_if_full:
        status = WAITING
    else:
        raise SessionFull(
            _("Sorry, the last place has just gone. You can join the waiting list for it.")
        )
    if booking is None:
        booking = SessionBooking.objects.create(session=session, user=user, status=status)
    elif booking.status != status:
        booking.status = status
        booking.save(update_fields=["status"])
    # Asking for a place means they can come after all.
    Attendance.objects.filter(session=session, user=user, status="apologies").delete()
    logger.info("group.session_place_saved", extra={"booking_id": booking.pk, "status": status})
    return booking


def _release(session: GroupSession, user_id: int) -> str | None:
    """Give up a person's place or waiting-list place; the caller holds the session lock.
    Returns what they gave up: "booked", "waiting" or None."""
    booking = SessionBooking.objects.filter(session=session, user_id=user_id).first()
    if booking is None:
        return None
    booking.delete()
    if booking.status == BOOKED:
        _promote(session)
    return booking.status


@transaction.atomic
def session_place_cancel(*, user: User, session: GroupSession) -> str | None:
    """Give up a saved place (it goes to the first person waiting) or leave the session's
    waiting list. Returns what was given up: "booked", "waiting" or None."""
    session = _lock_session(session)
    if session.starts_at <= timezone.now():
        raise SessionNotChangeable(_("This session has already started."))
    released = _release(session, user.pk)
    if released:
        logger.info("group.session_place_cancelled", extra={"session_id": session.pk})
    return released


def session_place_release(*, session: GroupSession, user_id: int) -> str | None:
    """The same as cancelling, for callers that already checked who may (apologies, leaving
    the group). Runs in the caller's transaction."""
    return _release(_lock_session(session), user_id)


def places_release_for_leaver(*, group_id: int, user_id: int) -> int:
    """Someone left the group: give their places at coming sessions to the people waiting.
    Runs in the caller's transaction, which holds the group and membership locks."""
    sessions = GroupSession.objects.filter(
        group_id=group_id,
        starts_at__gt=timezone.now(),
        bookings__user_id=user_id,
    ).order_by("pk")
    return sum(bool(session_place_release(session=s, user_id=user_id)) for s in sessions)


def places_keep_for_members(*, group_id: int, newcomer_id: int) -> int:
    """Someone new became a member, and at a coming session whose own number of places was
    exactly the number of members, there are now more members than places. Everyone who was
    a member already had room there, so they keep it as a saved place (and keep their
    reminders); the newcomer saves a place if one frees. Runs in the caller's transaction,
    which holds the group lock. Returns the number of sessions changed."""
    member_ids = set(
        Membership.objects.filter(group_id=group_id, status="member").values_list(
            "user_id", flat=True
        )
    )
    sessions = list(
        GroupSession.objects.for_change().filter(
            group_id=group_id,
            capacity=len(member_ids) - 1,
            status=GroupSession.Status.SCHEDULED,
            starts_at__gt=timezone.now(),
        )
    )
    keep = member_ids - {newcomer_id}
    for session in sessions:
        had = set(session.bookings.values_list("user_id", flat=True))
        session.bookings.filter(user_id__in=keep, status=WAITING).update(status=BOOKED)
        SessionBooking.objects.bulk_create(
            SessionBooking(session=session, user_id=user_id, status=BOOKED)
            for user_id in sorted(keep - had)
        )
        logger.info("group.session_places_kept", extra={"session_id": session.pk})
    return len(sessions)


def places_after_capacity_change(*, session: GroupSession) -> int:
    """After a session's number of places changes: more places go to the people waiting.
    Fewer places take nobody's place away. The caller holds the session lock."""
    return _promote(session)


# --- for reminders ---------------------------------------------------------------------------


def people_with_places(sessions: Iterable[tuple[int, int, int | None]]) -> dict[int, set[int]]:
    """For the sessions among `sessions` ((session id, group id, own capacity)) where members
    must save a place, the ids of the people who have one. Sessions left out are for every
    member of the group. Two indexed queries per 500 sessions with their own capacity."""
    own = [(sid, gid, cap) for sid, gid, cap in sessions if cap is not None]
    limited: dict[int, set[int]] = {}
    for start in range(0, len(own), CHUNK):
        part = own[start : start + CHUNK]
        members = dict(
            Membership.objects.filter(group_id__in={gid for _s, gid, _c in part}, status="member")
            .values_list("group_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        needed = [sid for sid, gid, cap in part if places_needed(cap, members.get(gid, 0))]
        for sid in needed:
            limited[sid] = set()
        for sid, user_id in SessionBooking.objects.filter(
            session_id__in=needed, status=BOOKED
        ).values_list("session_id", "user_id"):
            limited[sid].add(user_id)
    return limited
