"""Where notices come from: each kind plans ledger rows in bulk and, at send time, loads what
it needs for a whole batch and says what to write.

Planning reads only rows whose moment falls in a time window `(since, now]`, with range
queries on indexed columns (`GroupSession.starts_at`, `SessionChange.created_at`,
`WaitingListOffer.created_at`), a constant number of queries per chunk of people.
Apps that are not installed yet (or lack a model) simply plan nothing.

A named referral's invitation and reminder are planned when the clinician makes the referral
(`plan_referral_messages`), for a person with no account: those sources also say where to
send (`email`, `text`) and, for the reminder, when it is time (`not_before`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import bulk
from .models import (
    Channel,
    Delivery,
    Kind,
    NotificationPreference,
    OrganisationNotificationSettings,
    referral_delivery_key,
)

CHUNK = 2000
# Reminder times a person may choose, in minutes before a session.
OFFSET_CHOICES = [15, 30, 60, 120, 180, 24 * 60, 48 * 60]
MAX_OFFSET = max(OFFSET_CHOICES)


def model(app_label: str, name: str):
    """A model of another app, or None while that app has not built it yet."""
    try:
        return apps.get_model(app_label, name)
    except LookupError:
        return None


@dataclass
class Person:
    user_id: int
    email: str | None
    phone: str


@dataclass
class Message:
    """What one delivery says, in the person's language and time zone."""

    title: str
    lines: list[str]
    url: str = ""
    action: str = ""
    attachments: list[tuple[str, bytes | str, str]] = field(default_factory=list)
    # Set by a source that hands the same Message to many people: e-mail bodies are then
    # rendered once per key. Messages are shared, so nobody may change one after it is made.
    cache_key: tuple | None = None


# The choices of someone who has not saved any (only read, never saved).
DEFAULT_PREFERENCE = NotificationPreference()


def channels_for(person: Person, pref: NotificationPreference | None, kind: str) -> list[str]:
    pref = pref or DEFAULT_PREFERENCE
    wanted = []
    if person.email and pref.wants(kind, Channel.EMAIL):
        wanted.append(Channel.EMAIL)
    if person.phone and pref.wants(kind, Channel.SMS):
        wanted.append(Channel.SMS)
    if pref.wants(kind, Channel.IN_APP):
        wanted.append(Channel.IN_APP)
    return wanted


def preferences_for(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    prefs = NotificationPreference.objects.filter(user_id__in=bulk.ids(set(user_ids)))
    return {p.user_id: p for p in prefs}


def organisation_offsets() -> dict[int, list[int]]:
    return dict(
        OrganisationNotificationSettings.objects.values_list(
            "organisation_id", "session_reminder_offsets"
        )
    )


def offsets_for(
    pref: NotificationPreference | None, org_id: int | None, org_offsets: dict[int, list[int]]
) -> list[int]:
    from .models import DEFAULT_SESSION_REMINDER_OFFSETS

    if pref is not None and pref.session_reminder_offsets:
        return list(pref.session_reminder_offsets)
    return list(org_offsets.get(org_id) or DEFAULT_SESSION_REMINDER_OFFSETS)


def superseded(offset: int, offsets: list[int], starts_at: dt.datetime, now: dt.datetime) -> bool:
    """A nearer reminder is already due (after an outage): send only that one."""
    return any(o < offset and starts_at - dt.timedelta(minutes=o) <= now for o in offsets)


# The columns a planner fills, in the order of the tuples it yields (see bulk.insert_rows).
LEDGER_FIELDS = (
    "key",
    "user",
    "organisation",
    "kind",
    "channel",
    "status",
    "object_id",
    "data",
    "due_at",
    "expires_at",
    "last_error",
    "attempts",
    "claim",
    "created_at",
)


def ledger_row(
    *,
    key: str,
    user_id: int | None,
    organisation_id: int | None,
    kind: str,
    channel: str,
    object_id: int | None,
    due_at: dt.datetime,
    expires_at: dt.datetime | None = None,
    data: dict | None = None,
    status: str = "pending",
    reason: str = "",
    now: dt.datetime,
) -> tuple:
    """One planned `Delivery`, as a tuple in LEDGER_FIELDS order."""
    return (
        key,
        user_id,
        organisation_id,
        kind,
        channel,
        status,
        object_id,
        data or {},
        due_at,
        expires_at,
        reason,
        0,
        "",
        now,
    )


def _chunks(rows: Iterator, size: int = CHUNK) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class Planned:
    """One message to plan for one person, on every channel they take for its kind."""

    person: Person
    key: str
    """The ledger key without its channel, which is added to it."""
    organisation_id: int | None
    object_id: int | None
    due_at: dt.datetime
    expires_at: dt.datetime | None = None
    data: dict | None = None
    status: str = "pending"
    reason: str = ""


def ledger_rows(kind: str, planned: list[Planned], now: dt.datetime) -> list[tuple]:
    """Ledger rows for planned messages, one per channel each person takes (one query)."""
    prefs = preferences_for(p.person.user_id for p in planned)
    return [
        ledger_row(
            key=f"{p.key}:{channel}",
            user_id=p.person.user_id,
            organisation_id=p.organisation_id,
            kind=kind,
            channel=channel,
            object_id=p.object_id,
            due_at=p.due_at,
            expires_at=p.expires_at,
            data=p.data,
            status=p.status,
            reason=p.reason,
            now=now,
        )
        for p in planned
        for channel in channels_for(p.person, prefs.get(p.person.user_id), kind)
    ]


def _url(name: str, **kwargs) -> str:
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return ""


def when(moment: dt.datetime, tzinfo: dt.tzinfo) -> str:
    """A time in the person's own zone, in words: "Tuesday 4 March at 14:00 GMT"."""
    local = timezone.localtime(moment, tzinfo)
    return _("%(date)s at %(time)s %(zone)s") % {
        "date": formats.date_format(local, "l j F"),
        "time": formats.time_format(local, "H:i"),
        "zone": local.tzname(),
    }


# --- group session reminders -------------------------------------------------------------


def reminder_offsets_in_use(org_offsets: dict[int, list[int]]) -> list[int]:
    """Every reminder time someone may get: the defaults, organisations' and people's own."""
    from .models import DEFAULT_SESSION_REMINDER_OFFSETS

    offsets = set(DEFAULT_SESSION_REMINDER_OFFSETS)
    for values in org_offsets.values():
        offsets.update(int(o) for o in values or [])
    personal = (
        NotificationPreference.objects.exclude(session_reminder_offsets=[])
        .values_list("session_reminder_offsets", flat=True)
        .distinct()
    )
    for values in personal:
        offsets.update(int(o) for o in values or [])
    return sorted(offsets)


def plan_session_reminders(*, since: dt.datetime, now: dt.datetime) -> Iterator[list[tuple]]:
    """Ledger rows for reminders whose moment (start minus offset) falls in (since, now].

    First the due sessions, by range queries on the GroupSession(starts_at, status) index (one
    range per reminder time in use); then their members by group, in chunks. A constant
    number of queries per chunk, however many people and sessions there are in total.
    A session with fewer places than members reminds only those who saved a place
    (`groups.bookings.people_with_places`: two queries per 500 such sessions).
    """
    GroupSession = model("groups", "GroupSession")
    Membership = model("groups", "Membership")
    if GroupSession is None or Membership is None:
        return
    org_offsets = organisation_offsets()
    window = Q()
    for offset in reminder_offsets_in_use(org_offsets):
        delta = dt.timedelta(minutes=offset)
        window |= Q(starts_at__gt=since + delta, starts_at__lte=now + delta)
    sessions: dict[int, list[tuple]] = {}
    capacities = []
    for session_id, group_id, starts_at, org_id, capacity in (
        GroupSession.objects.filter(window, status="scheduled")
        .values_list("id", "group_id", "starts_at", "group__programme__organisation_id", "capacity")
        .order_by()
    ):
        sessions.setdefault(group_id, []).append((session_id, starts_at, org_id))
        capacities.append((session_id, group_id, capacity))
    booked_only = _people_with_places(capacities)
    group_ids = sorted(sessions)
    for start in range(0, len(group_ids), 500):
        members = (
            Membership.objects.filter(group_id__in=group_ids[start : start + 500], status="member")
            .values_list("group_id", "user_id", "user__email", "user__phone")
            .order_by()
        )
        for chunk in _chunks(members.iterator(chunk_size=CHUNK)):
            yield _session_reminder_rows(chunk, sessions, booked_only, org_offsets, since, now)


def _people_with_places(capacities: list[tuple[int, int, int | None]]) -> dict[int, set[int]]:
    """Sessions with fewer places than members remind only the people who saved one."""
    try:
        from groups.bookings import people_with_places
    except ImportError:
        return {}
    return people_with_places(capacities)


def _session_reminder_rows(chunk, sessions, booked_only, org_offsets, since, now) -> list[tuple]:
    prefs = preferences_for(row[1] for row in chunk)
    kind = Kind.SESSION_REMINDER
    planned = []
    data_for: dict[tuple[int, int], dict] = {}
    for group_id, user_id, email, phone in chunk:
        pref = prefs.get(user_id)
        user_offsets = list(pref.session_reminder_offsets or []) if pref else []
        channels = channels_for(Person(user_id, email, phone), pref, kind)
        if not channels:
            continue
        for session_id, starts_at, org_id in sessions[group_id]:
            if session_id in booked_only and user_id not in booked_only[session_id]:
                continue
            offsets = user_offsets or offsets_for(None, org_id, org_offsets)
            stamp = int(starts_at.timestamp())
            for offset in offsets:
                due_at = starts_at - dt.timedelta(minutes=offset)
                if not (since < due_at <= now):
                    continue
                status, reason = Delivery.Status.PENDING, ""
                if starts_at <= now:
                    status, reason = Delivery.Status.SKIPPED, "stale: session started"
                elif superseded(offset, offsets, starts_at, now):
                    status, reason = Delivery.Status.SKIPPED, "superseded by a nearer reminder"
                data = data_for.setdefault((offset, stamp), {"offset": offset, "starts_at": stamp})
                for channel in channels:
                    planned.append(
                        ledger_row(
                            key=f"session_reminder:{session_id}:{stamp}:{user_id}:{offset}:{channel}",
                            user_id=user_id,
                            organisation_id=org_id,
                            kind=kind,
                            channel=channel,
                            status=status,
                            reason=reason,
                            object_id=session_id,
                            data=data,
                            due_at=due_at,
                            expires_at=starts_at,
                            now=now,
                        )
                    )
    return planned


def _members_of(group_ids: set[int], user_ids: set[int]) -> set[tuple[int, int]]:
    Membership = model("groups", "Membership")
    return set(
        Membership.objects.filter(
            group_id__in=group_ids, user_id__in=bulk.ids(user_ids), status="member"
        ).values_list("group_id", "user_id")
    )


def _session_ics(session) -> bytes | None:
    try:
        from groups.calendar import session_ics
    except ImportError:
        return None
    return session_ics(session)


class SessionReminderSource:
    kind = Kind.SESSION_REMINDER

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        GroupSession = model("groups", "GroupSession")
        ids = {d.object_id for d in deliveries}
        self.sessions = GroupSession.objects.select_related("group").in_bulk(ids)
        self.members = _members_of(
            {s.group_id for s in self.sessions.values()}, {d.user_id for d in deliveries}
        )
        # Checked again at send time: a place given up after planning means no reminder.
        self.booked_only = _people_with_places(
            [(s.pk, s.group_id, s.capacity) for s in self.sessions.values()]
        )
        self.org_offsets = organisation_offsets()
        self.ics: dict[int, str] = {}
        self.urls: dict[int, str] = {}
        self.messages: dict[tuple, Message] = {}
        self.emailed: dict[tuple, Message] = {}

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        session = self.sessions.get(delivery.object_id)
        if session is None or session.status != "scheduled":
            return "session cancelled"
        if int(session.starts_at.timestamp()) != delivery.data.get("starts_at"):
            return "session moved"
        if session.starts_at <= now:
            return "stale: session started"
        if (session.group_id, delivery.user_id) not in self.members:
            return "no longer a member"
        places = self.booked_only.get(session.pk)
        if places is not None and delivery.user_id not in places:
            return "no place at this session"
        offsets = offsets_for(pref, delivery.organisation_id, self.org_offsets)
        if superseded(delivery.data.get("offset", 0), offsets, session.starts_at, now):
            return "superseded by a nearer reminder"
        return ""

    def message(self, delivery: Delivery, user) -> Message:
        """The same words for everyone at one session in one language and time zone, so
        each is made (and its e-mail rendered) once per batch."""
        key = (delivery.object_id, user.time_zone, get_language())
        if key not in self.messages:
            self.messages[key] = self._message(self.sessions[delivery.object_id], user, key)
        if delivery.channel != Channel.EMAIL:
            return self.messages[key]
        # Every e-mailed reminder carries the calendar file, so a person who missed the
        # first e-mail still gets the event: made once per session per batch, and shared by
        # every e-mail about the session (notifications.mime).
        if key not in self.emailed:
            self.emailed[key] = replace(
                self.messages[key], attachments=self._ics(delivery.object_id)
            )
        return self.emailed[key]

    def _message(self, session, user, key: tuple) -> Message:
        group = session.group
        start = when(session.starts_at, user.tzinfo)
        lines = [
            _("Your group “%(group)s” meets on %(when)s.") % {"group": group.name, "when": start}
        ]
        if getattr(group, "meeting_link", ""):
            lines.append(_("It is online. The link to join is on the group’s page."))
        elif getattr(group, "venue_address", ""):
            lines.append(_("Where: %(place)s") % {"place": group.venue_address})
        if group.pk not in self.urls:
            self.urls[group.pk] = _group_url(group)
        return Message(
            title=_("Reminder: %(group)s, %(when)s") % {"group": group.name, "when": start},
            lines=lines,
            url=self.urls[group.pk],
            action=_("See your group"),
            cache_key=(self.kind, *key),
        )

    def _ics(self, session_id: int) -> list[tuple[str, str, str]]:
        if session_id not in self.ics:
            # Text, as Django keeps a text/* attachment (else each e-mail decodes it again).
            self.ics[session_id] = (_session_ics(self.sessions[session_id]) or b"").decode()
        data = self.ics[session_id]
        return [("session.ics", data, "text/calendar")] if data else []


def _group_url(group) -> str:
    try:
        return group.get_absolute_url()
    except (AttributeError, NoReverseMatch):
        return ""


# --- session moved or cancelled ----------------------------------------------------------


def plan_session_changes(*, since: dt.datetime, now: dt.datetime) -> Iterator[list[tuple]]:
    """Moved or cancelled sessions: the changes made in (since, now] (indexed on created_at),
    then the members of their groups, set-based as for reminders."""
    Membership = model("groups", "Membership")
    SessionChange = model("groups", "SessionChange")
    if Membership is None or SessionChange is None:
        return
    changes: dict[int, list[tuple]] = {}
    for change_id, created_at, previous, starts_at, group_id, org_id in (
        SessionChange.objects.filter(
            created_at__gt=since, created_at__lte=now, kind__in=["moved", "cancelled"]
        )
        .values_list(
            "id",
            "created_at",
            "previous_starts_at",
            "session__starts_at",
            "session__group_id",
            "session__group__programme__organisation_id",
        )
        .order_by()
    ):
        expires_at = max(filter(None, [previous, starts_at]))
        changes.setdefault(group_id, []).append((change_id, created_at, expires_at, org_id))
    group_ids = sorted(changes)
    for start in range(0, len(group_ids), 500):
        members = (
            Membership.objects.filter(group_id__in=group_ids[start : start + 500], status="member")
            .values_list("group_id", "user_id", "user__email", "user__phone")
            .order_by()
        )
        for chunk in _chunks(members.iterator(chunk_size=CHUNK)):
            yield ledger_rows(
                Kind.SESSION_CHANGE,
                [
                    Planned(
                        Person(user_id, email, phone),
                        key=f"session_change:{change_id}:{user_id}",
                        organisation_id=org_id,
                        object_id=change_id,
                        due_at=created_at,
                        expires_at=expires_at,
                        status=Delivery.Status.SKIPPED if expires_at <= now else "pending",
                        reason="stale: session time passed" if expires_at <= now else "",
                    )
                    for group_id, user_id, email, phone in chunk
                    for change_id, created_at, expires_at, org_id in changes[group_id]
                ],
                now,
            )


class SessionChangeSource:
    kind = Kind.SESSION_CHANGE

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        SessionChange = model("groups", "SessionChange")
        self.changes = SessionChange.objects.select_related("session__group").in_bulk(
            {d.object_id for d in deliveries}
        )
        self.members = _members_of(
            {c.session.group_id for c in self.changes.values()}, {d.user_id for d in deliveries}
        )

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        change = self.changes.get(delivery.object_id)
        if change is None:
            return "change removed"
        if (change.session.group_id, delivery.user_id) not in self.members:
            return "no longer a member"
        return ""

    def message(self, delivery: Delivery, user) -> Message:
        change = self.changes[delivery.object_id]
        session, group = change.session, change.session.group
        tz = user.tzinfo
        if change.kind == "cancelled":
            title = _("Cancelled: %(group)s on %(when)s") % {
                "group": group.name,
                "when": when(session.starts_at, tz),
            }
            lines = [_("This group session will not happen. We are sorry.")]
        else:
            title = _("New time: %(group)s is now on %(when)s") % {
                "group": group.name,
                "when": when(session.starts_at, tz),
            }
            lines = []
            if change.previous_starts_at:
                lines.append(
                    _("It was going to be on %(when)s.")
                    % {"when": when(change.previous_starts_at, tz)}
                )
        return Message(title=title, lines=lines, url=_group_url(group), action=_("See your group"))


# --- waiting-list offers -----------------------------------------------------------------


# Offers are expired by a periodic task soon after their time runs out; one expired later than
# this (the workers were down) gets no "your offer ended" message.
LAPSED_NOTICE_WITHIN = dt.timedelta(days=1)


def plan_waiting_list_offers(*, since: dt.datetime, now: dt.datetime) -> Iterator[list[tuple]]:
    """Offers made in (since, now], and offers that ran out unanswered in that time (so the
    person hears they are back on the list rather than finding out on the website)."""
    Offer = model("groups", "WaitingListOffer")
    if Offer is None:
        return
    person = ("membership__user_id", "membership__user__email", "membership__user__phone")
    organisation = "membership__group__programme__organisation_id"
    made = (
        Offer.objects.filter(created_at__gt=since, created_at__lte=now, status="open")
        .values_list("id", "created_at", "expires_at", organisation, *person)
        .order_by()
    )
    for chunk in _chunks(made.iterator(chunk_size=CHUNK)):
        yield ledger_rows(
            Kind.WAITING_LIST_OFFER,
            [
                Planned(
                    Person(user_id, email, phone),
                    key=f"waiting_list_offer:{offer_id}",
                    organisation_id=org_id,
                    object_id=offer_id,
                    due_at=created_at,
                    expires_at=expires_at,
                )
                for offer_id, created_at, expires_at, org_id, user_id, email, phone in chunk
            ],
            now,
        )
    lapsed = (
        Offer.objects.filter(
            status="expired",
            expires_at__gt=since - LAPSED_NOTICE_WITHIN,
            expires_at__lte=now,
            answered_at__gt=since,
            answered_at__lte=now,
        )
        .values_list("id", "answered_at", organisation, *person)
        .order_by()
    )
    for chunk in _chunks(lapsed.iterator(chunk_size=CHUNK)):
        yield ledger_rows(
            Kind.WAITING_LIST_OFFER,
            [
                Planned(
                    Person(user_id, email, phone),
                    key=f"waiting_list_offer:lapsed:{offer_id}",
                    organisation_id=org_id,
                    object_id=offer_id,
                    data={"lapsed": True},
                    due_at=answered_at,
                    expires_at=answered_at + dt.timedelta(days=2),
                )
                for offer_id, answered_at, org_id, user_id, email, phone in chunk
            ],
            now,
        )


class WaitingListOfferSource:
    """An offer of a free place, or (data "lapsed") the news that an offer ran out."""

    kind = Kind.WAITING_LIST_OFFER

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        Offer = model("groups", "WaitingListOffer")
        self.offers = Offer.objects.select_related("membership__group").in_bulk(
            {d.object_id for d in deliveries}
        )
        lapsed = [
            self.offers[d.object_id].membership
            for d in deliveries
            if (d.data or {}).get("lapsed") and d.object_id in self.offers
        ]
        self.positions = _waiting_positions(lapsed)

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        offer = self.offers.get(delivery.object_id)
        if (delivery.data or {}).get("lapsed"):
            if offer is None or offer.membership.status != "waiting":
                return "no longer on the waiting list"
            return ""
        if offer is None or offer.status != "open" or offer.expires_at <= now:
            return "offer no longer open"
        return ""

    def message(self, delivery: Delivery, user) -> Message:
        offer = self.offers[delivery.object_id]
        group = offer.membership.group
        if (delivery.data or {}).get("lapsed"):
            return self._lapsed(offer.membership, group)
        return Message(
            title=_("A place is free in “%(group)s”") % {"group": group.name},
            lines=[
                _("You were on the waiting list, and now there is a place for you."),
                _("Please say yes or no before %(when)s, or we offer it to the next person.")
                % {"when": when(offer.expires_at, user.tzinfo)},
            ],
            url=_group_url(group),
            action=_("Answer the offer"),
        )

    def _lapsed(self, membership, group) -> Message:
        lines = [_("We did not hear from you in time, so we offered the place to the next person.")]
        if membership.offers_paused:
            lines.append(
                _(
                    "We will not offer you more places unless you tell us you still want one. "
                    "You can do that on the group page."
                )
            )
        else:
            lines.append(
                _("You are still on the waiting list. You are number %(position)d.")
                % {"position": self.positions.get(membership.pk, 1)}
            )
        return Message(
            title=_("Your offer of a place in “%(group)s” has ended") % {"group": group.name},
            lines=lines,
            url=_group_url(group),
            action=_("Open the group page"),
        )


def _waiting_positions(memberships: list) -> dict[int, int]:
    """Each membership's number on its group's waiting list (1 is next), in one query."""
    if not memberships:
        return {}
    Membership = model("groups", "Membership")
    queue = (
        Membership.objects.filter(group_id__in={m.group_id for m in memberships}, status="waiting")
        .offerable()
        .order_by("group_id", "waiting_since", "pk")
        .values_list("pk", "group_id")
    )
    positions: dict[int, int] = {}
    counts: dict[int, int] = {}
    for pk, group_id in queue:
        counts[group_id] = counts.get(group_id, 0) + 1
        positions[pk] = counts[group_id]
    return positions


# --- daily summary for coordinators ------------------------------------------------------


def plan_coordinator_digests(*, now: dt.datetime) -> list[tuple]:
    """One e-mail a day to each coordinator, per organisation (key: organisation + date)."""
    from programmes.models import StaffMembership

    day = now.date().isoformat()
    staff = StaffMembership.objects.filter(user__is_active=True, user__email__isnull=False)
    rows = list(staff.values_list("organisation_id", "user_id", "user__email", "user__phone"))
    prefs = preferences_for(row[1] for row in rows)
    planned = []
    for org_id, user_id, email, phone in rows:
        if Channel.EMAIL not in channels_for(
            Person(user_id, email, phone), prefs.get(user_id), Kind.COORDINATOR_DIGEST
        ):
            continue
        planned.append(
            ledger_row(
                key=f"coordinator_digest:{org_id}:{day}:{user_id}:email",
                user_id=user_id,
                organisation_id=org_id,
                kind=Kind.COORDINATOR_DIGEST,
                channel=Channel.EMAIL,
                object_id=org_id,
                due_at=now,
                expires_at=now + dt.timedelta(hours=20),
                now=now,
            )
        )
    return planned


class CoordinatorDigestSource:
    kind = Kind.COORDINATOR_DIGEST

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        from django.db.models import Count

        from programmes.models import Organisation

        org_ids = {d.object_id for d in deliveries}
        since = now - dt.timedelta(days=1)
        self.organisations = Organisation.objects.in_bulk(org_ids)
        self.counts: dict[str, dict[int, int]] = {}
        Referral = model("referrals", "Referral")
        if Referral is not None:
            self.counts["referrals"] = dict(
                Referral.objects.filter(
                    programme__organisation_id__in=org_ids, created_at__gt=since
                )
                .values_list("programme__organisation_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
        PostReport = model("groups", "PostReport")
        if PostReport is not None:
            self.counts["reports"] = dict(
                PostReport.objects.filter(
                    post__thread__group__programme__organisation_id__in=org_ids,
                    resolved_at__isnull=True,
                )
                .values_list("post__thread__group__programme__organisation_id")
                .annotate(n=Count("pk"))
                .order_by()
            )
        self.counts["failed"] = dict(
            Delivery.objects.filter(organisation_id__in=org_ids, status="failed", due_at__gt=since)
            .values_list("organisation_id")
            .annotate(n=Count("pk"))
            .order_by()
        )

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        if delivery.object_id not in self.organisations:
            return "organisation removed"
        if not any(counts.get(delivery.object_id) for counts in self.counts.values()):
            return "nothing new to report"
        return ""

    def message(self, delivery: Delivery, user) -> Message:
        org_id = delivery.object_id
        organisation = self.organisations[org_id]
        lines = []
        if "referrals" in self.counts:
            lines.append(
                _("New referrals in the last day: %(n)s")
                % {"n": self.counts["referrals"].get(org_id, 0)}
            )
        if "reports" in self.counts:
            lines.append(
                _("Reported posts waiting for you: %(n)s")
                % {"n": self.counts["reports"].get(org_id, 0)}
            )
        lines.append(
            _("Messages we could not deliver: %(n)s") % {"n": self.counts["failed"].get(org_id, 0)}
        )
        return Message(
            title=_("Your daily summary for %(org)s") % {"org": organisation.name},
            lines=lines,
            url=_url("notifications:failed"),
            action=_("See messages we could not deliver"),
        )


# --- a new buddy pairing, told to both people ---------------------------------------------


# Pairings are told to both people by matching's own notices when a coordinator introduces
# them ("Meet your buddy"), delivered through here as BUDDY_NEWS (see MatchingNoticeSource):
# one notice per event. This source only still reads rows planned before that change.


class PairingSource:
    kind = Kind.PAIRING_PROPOSED

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        Pairing = model("matching", "Pairing")
        self.pairings = Pairing.objects.select_related("supporter__enrolment").in_bulk(
            {d.object_id for d in deliveries}
        )

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        pairing = self.pairings.get(delivery.object_id)
        if pairing is None or pairing.status == "ended":
            return "pairing ended"
        return ""

    def message(self, delivery: Delivery, user) -> Message:
        pairing = self.pairings[delivery.object_id]
        if user.pk == pairing.supporter.enrolment.user_id:
            title = _("You have a new person to support")
            lines = [_("A coordinator has matched you with someone. They will introduce you.")]
        else:
            title = _("We have found you a buddy")
            lines = [
                _("A coordinator has matched you with a peer supporter. They will introduce you.")
            ]
        return Message(
            title=title,
            lines=lines,
            url=_url("matching:pairing", pk=pairing.pk),
            action=_("See your buddy"),
        )


# --- notices from the matching app (introductions, messages, endings, alerts) -------------


class MatchingNoticeSource:
    """matching.Notice rows (a subject and a short body with a link, never health details),
    handed over by matching's notice task and delivered on the person's own channels."""

    kind = Kind.BUDDY_NEWS

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        Notice = model("matching", "Notice")
        ids = {d.object_id for d in deliveries}
        self.notices = Notice.objects.in_bulk(ids) if Notice is not None else {}

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        return "" if delivery.object_id in self.notices else "notice removed"

    def message(self, delivery: Delivery, user) -> Message:
        notice = self.notices[delivery.object_id]
        text, url = notice_text_and_link(notice.body)
        return Message(
            title=notice.subject,
            lines=[part.strip() for part in text.split("\n\n") if part.strip()],
            url=url,
            action=_("Open the page"),
        )


def notice_text_and_link(body: str) -> tuple[str, str]:
    """matching writes "text\n\nhttps://site/path"; split off the link (as a path if it is ours)."""
    text, _sep, last = body.rstrip().rpartition("\n\n")
    if not text or not last.startswith(("http://", "https://")) or any(c.isspace() for c in last):
        return body, ""
    if last.startswith(settings.SITE_URL + "/"):
        last = last[len(settings.SITE_URL) :]
    return text, last


# --- buddy check-in nudges ----------------------------------------------------------------

DEFAULT_NO_CONTACT_DAYS = 14
CHECKIN_AFTER_DAYS = 14


def _no_contact_days() -> tuple[dict[int, int], int]:
    MatchSettings = model("matching", "MatchSettings")
    if MatchSettings is None:
        return {}, DEFAULT_NO_CONTACT_DAYS
    default = MatchSettings._meta.get_field("no_contact_days").default
    return dict(MatchSettings.objects.values_list("programme_id", "no_contact_days")), default


def _checkin_after_days() -> int:
    try:
        from matching.services.pairings import CHECKIN_AFTER_DAYS as days
    except ImportError:
        return CHECKIN_AFTER_DAYS
    return days


def plan_checkin_nudges(*, since: dt.datetime, now: dt.datetime) -> Iterator[list[tuple]]:
    """Two nudges about active buddy pairings, each once (the key says which and for whom):

    - the supporter, when there has been no contact for the programme's `no_contact_days`
      (the same measure as the coordinator's "no contact" list: last contact, or the start);
      once per quiet spell, since the key holds the moment of the last contact;
    - both people, when the "how is it going?" check-in is still unanswered two weeks after
      the start (matching asks it then, or after two contacts if sooner).

    Range queries on the moment each nudge falls due, as for the other planners.
    """
    Pairing = model("matching", "Pairing")
    if Pairing is None:
        return
    from django.db.models.functions import Coalesce

    days_by_programme, default_days = _no_contact_days()
    window = Q()
    for days in set(days_by_programme.values()) | {default_days}:
        others = [p for p, d in days_by_programme.items() if d != days]
        programmes = (
            ~Q(programme_id__in=others)
            if days == default_days
            else Q(programme_id__in=[p for p, d in days_by_programme.items() if d == days])
        )
        delta = dt.timedelta(days=days)
        window |= programmes & Q(since_contact__gt=since - delta, since_contact__lte=now - delta)
    quiet = (
        Pairing.objects.filter(status="active")
        .annotate(since_contact=Coalesce("last_contact_at", "activated_at"))
        .filter(window)
        .values_list(
            "id",
            "since_contact",
            "programme_id",
            "programme__organisation_id",
            "supporter__enrolment__user_id",
            "supporter__enrolment__user__email",
            "supporter__enrolment__user__phone",
        )
        .order_by()
    )
    for chunk in _chunks(quiet.iterator(chunk_size=CHUNK)):
        planned = []
        for pairing_id, since_contact, programme_id, org_id, user_id, email, phone in chunk:
            days = days_by_programme.get(programme_id, default_days)
            stamp = int(since_contact.timestamp())
            due_at = since_contact + dt.timedelta(days=days)
            planned.append(
                Planned(
                    Person(user_id, email, phone),
                    key=f"checkin_nudge:contact:{pairing_id}:{stamp}:{user_id}",
                    organisation_id=org_id,
                    object_id=pairing_id,
                    data={"nudge": "contact", "since": stamp, "days": days},
                    due_at=due_at,
                    expires_at=due_at + dt.timedelta(days=7),
                )
            )
        yield ledger_rows(Kind.CHECKIN_NUDGE, planned, now)

    after = dt.timedelta(days=_checkin_after_days())
    started = (
        Pairing.objects.filter(
            status="active", activated_at__gt=since - after, activated_at__lte=now - after
        )
        .values_list(
            "id",
            "activated_at",
            "programme__organisation_id",
            "recipient__user_id",
            "recipient__user__email",
            "recipient__user__phone",
            "supporter__enrolment__user_id",
            "supporter__enrolment__user__email",
            "supporter__enrolment__user__phone",
        )
        .order_by()
    )
    CheckIn = model("matching", "CheckIn")
    for chunk in _chunks(started.iterator(chunk_size=CHUNK)):
        answered = set(
            CheckIn.objects.filter(pairing_id__in=[row[0] for row in chunk]).values_list(
                "pairing_id", "user_id"
            )
        )
        yield ledger_rows(
            Kind.CHECKIN_NUDGE,
            [
                Planned(
                    Person(user_id, email, phone),
                    key=f"checkin_nudge:answer:{pairing_id}:{user_id}",
                    organisation_id=org_id,
                    object_id=pairing_id,
                    data={"nudge": "answer"},
                    due_at=activated_at + after,
                    expires_at=activated_at + after + dt.timedelta(days=14),
                )
                for pairing_id, activated_at, org_id, *people in chunk
                for user_id, email, phone in (people[0:3], people[3:6])
                if (pairing_id, user_id) not in answered
            ],
            now,
        )


class CheckinNudgeSource:
    kind = Kind.CHECKIN_NUDGE

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        Pairing = model("matching", "Pairing")
        CheckIn = model("matching", "CheckIn")
        ids = {d.object_id for d in deliveries}
        self.pairings = Pairing.objects.select_related("supporter__enrolment").in_bulk(ids)
        self.answered = set(
            CheckIn.objects.filter(pairing_id__in=ids).values_list("pairing_id", "user_id")
        )

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        pairing = self.pairings.get(delivery.object_id)
        if pairing is None or pairing.status != "active":
            return "pairing not active"
        if delivery.data.get("nudge") == "answer":
            if (pairing.pk, delivery.user_id) in self.answered:
                return "check-in already answered"
            return ""
        since_contact = pairing.last_contact_at or pairing.activated_at
        if since_contact is None or int(since_contact.timestamp()) != delivery.data.get("since"):
            return "contact logged since"
        return ""

    def message(self, delivery: Delivery, user) -> Message:
        pairing = self.pairings[delivery.object_id]
        url = _url("matching:pairing", pk=pairing.pk)
        if delivery.data.get("nudge") == "answer":
            return Message(
                title=_("How is it going with your buddy?"),
                lines=[_("Please tell us how it is going. It only takes a minute.")],
                url=url,
                action=_("Tell us how it is going"),
            )
        return Message(
            title=_("Time to get in touch with your buddy"),
            lines=[
                _("There has been no contact with your buddy for %(n)s days.")
                % {"n": delivery.data.get("days", DEFAULT_NO_CONTACT_DAYS)},
                _(
                    "If you have talked, please log it. If something is in the way, tell your "
                    "coordinator."
                ),
            ],
            url=url,
            action=_("See your buddy"),
        )


# --- invitations to people a clinician referred -------------------------------------------

# Why a referral's invitation or reminder is no longer needed, by the referral's status.
REFERRAL_CLOSED = {
    "opened": "invitation opened",
    "registered": "invitation used",
    "enrolled": "invitation used",
    "active": "invitation used",
    "declined": "person said no thanks",
    "withdrawn": "referral withdrawn",
    "expired": "invitation expired",
}
SMS_LENGTH = 160


def plan_referral_messages(*, referral, now: dt.datetime) -> list[tuple]:
    """Ledger rows for a named referral: the invitation now and one reminder a week later, on
    each channel the referral has an address for. The addresses stay on the referral."""
    channels = [
        channel
        for channel, address in (
            (Channel.EMAIL, referral.email),
            (Channel.SMS, referral.phone_normalised),
        )
        if address
    ]
    reminder_at = now + dt.timedelta(days=referral.REMINDER_AFTER_DAYS)
    return [
        ledger_row(
            key=referral_delivery_key(kind, referral.pk, channel),
            user_id=None,
            organisation_id=referral.programme.organisation_id,
            kind=kind,
            channel=channel,
            object_id=referral.pk,
            due_at=due_at,
            expires_at=referral.expires_at,
            now=now,
        )
        for kind, due_at in ((Kind.REFERRAL_INVITATION, now), (Kind.REFERRAL_REMINDER, reminder_at))
        for channel in channels
    ]


def fit_sms(wordings: list[str]) -> str:
    """The first wording that fits in one text message, else the shortest."""
    for text in wordings:
        if len(text) <= SMS_LENGTH:
            return text
    return min(wordings, key=len)


class ReferralInvitationSource:
    """A named referral's invitation, to someone with no account: no preferences apply, and
    the address is read from the referral at send time (the ledger holds only its id)."""

    kind = Kind.REFERRAL_INVITATION
    template = "invitation"

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        Referral = model("referrals", "Referral")
        self.referrals = Referral.objects.select_related(
            "programme__organisation", "clinician__user", "practice"
        ).in_bulk({d.object_id for d in deliveries})

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        referral = self.referrals.get(delivery.object_id)
        if referral is None:
            return "referral removed"
        if referral.status != "sent":
            return REFERRAL_CLOSED.get(referral.status, "referral closed")
        if referral.expires_at is None or referral.expires_at <= now:
            return "invitation expired"
        if delivery.channel == Channel.EMAIL and not referral.email:
            return "no e-mail address"
        if delivery.channel == Channel.SMS and not referral.phone_normalised:
            return "no mobile number"
        return ""

    def not_before(self, delivery: Delivery, now: dt.datetime) -> dt.datetime | None:
        return None

    def email(self, delivery: Delivery) -> EmailMultiAlternatives:
        referral = self.referrals[delivery.object_id]
        context = {
            "referral": referral,
            "programme": referral.programme,
            "clinician_name": referral.clinician.user.display_name if referral.clinician else "",
            "practice_name": referral.practice.name if referral.practice else "",
            "url": referral.url,
        }
        name = f"notifications/referral/{self.template}"
        email = EmailMultiAlternatives(
            subject=render_to_string(f"{name}_subject.txt", context).strip(),
            body=render_to_string(f"{name}.txt", context),
            to=[referral.email],
        )
        email.attach_alternative(render_to_string(f"{name}.html", context), "text/html")
        return email

    def text(self, delivery: Delivery) -> tuple[str, str]:
        """(mobile number, words): plain words and the link, in one text message if it fits.
        Texts show on locked phones, so they name the organisation but not the programme."""
        referral = self.referrals[delivery.object_id]
        return referral.phone_normalised, fit_sms(self._wordings(referral))

    def _wordings(self, referral) -> list[str]:
        """Warmest first; even the last names the sender, so the link is not a stranger's."""
        names = {
            "name": referral.patient_name,
            "clinician": referral.clinician.user.display_name if referral.clinician else "",
            "org": referral.programme.organisation.name,
            "url": referral.url,
        }
        wordings = [
            _("%(org)s invites you to peer support. Find out more, or say no thanks: %(url)s"),
            _("An invitation from %(org)s: %(url)s"),
        ]
        if names["clinician"]:
            wordings[:0] = [
                _(
                    "Hello %(name)s. %(clinician)s asked %(org)s to invite you to peer support: "
                    "%(url)s"
                ),
                _("%(clinician)s asked %(org)s to invite you to peer support: %(url)s"),
            ]
        return [wording % names for wording in wordings]


class ReferralReminderSource(ReferralInvitationSource):
    """The one gentle reminder, a week after the invitation went on the same channel."""

    kind = Kind.REFERRAL_REMINDER
    template = "reminder"

    def load(self, deliveries: list[Delivery], now: dt.datetime) -> None:
        super().load(deliveries, now)
        keys = [self._invitation_key(d) for d in deliveries]
        self.invitations = {
            key: (status, sent_at, due_at)
            for key, status, sent_at, due_at in Delivery.objects.filter(key__in=keys).values_list(
                "key", "status", "sent_at", "due_at"
            )
        }

    @staticmethod
    def _invitation_key(delivery: Delivery) -> str:
        return referral_delivery_key(Kind.REFERRAL_INVITATION, delivery.object_id, delivery.channel)

    def skip_reason(self, delivery: Delivery, pref, now: dt.datetime) -> str:
        reason = super().skip_reason(delivery, pref, now)
        if reason:
            return reason
        invitation = self.invitations.get(self._invitation_key(delivery))
        if invitation is None or invitation[0] in ("failed", "skipped"):
            return "invitation was not sent this way"
        return ""

    def not_before(self, delivery: Delivery, now: dt.datetime) -> dt.datetime | None:
        """A week after the invitation went; a week after it will go, while it waits."""
        status, sent_at, due_at = self.invitations[self._invitation_key(delivery)]
        after = dt.timedelta(days=self.referrals[delivery.object_id].REMINDER_AFTER_DAYS)
        moment = (sent_at if status == "sent" else max(due_at, now)) + after
        return moment if moment > now else None

    def _wordings(self, referral) -> list[str]:
        names = {"org": referral.programme.organisation.name, "url": referral.url}
        wordings = [
            _("A reminder from %(org)s: your invitation to peer support is still open. %(url)s"),
            _("A reminder from %(org)s: %(url)s"),
        ]
        return [wording % names for wording in wordings]


REFERRAL_SOURCES = {
    Kind.REFERRAL_INVITATION: ReferralInvitationSource,
    Kind.REFERRAL_REMINDER: ReferralReminderSource,
}


SOURCES = {
    Kind.SESSION_REMINDER: SessionReminderSource,
    Kind.SESSION_CHANGE: SessionChangeSource,
    Kind.WAITING_LIST_OFFER: WaitingListOfferSource,
    Kind.COORDINATOR_DIGEST: CoordinatorDigestSource,
    Kind.PAIRING_PROPOSED: PairingSource,
    Kind.BUDDY_NEWS: MatchingNoticeSource,
    Kind.STAFF_ALERT: MatchingNoticeSource,
    Kind.CHECKIN_NUDGE: CheckinNudgeSource,
    **REFERRAL_SOURCES,
}

PLANNERS = [
    plan_session_reminders,
    plan_session_changes,
    plan_waiting_list_offers,
    plan_checkin_nudges,
]


def site_url(path: str) -> str:
    if not path or path.startswith("http"):
        return path
    return f"{settings.SITE_URL}{path}"
