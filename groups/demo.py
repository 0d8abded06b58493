"""Demo groups: weekly, fortnightly and monthly, with members and a supporter facilitator.
One coming session of the weekly group meets in a smaller room: it has fewer places than
the group has members, and some members have saved one.

Keyed on programme and group name, so seeding twice changes nothing.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from programmes.models import Enrolment

from . import services
from .models import Group, GroupSession, Membership, SessionBooking, SessionSeries

GROUPS = [
    {
        "programme": 0,
        "name": "Tuesday evening diabetes group",
        "description": "A friendly group for people with type 2 diabetes. We chat about food, "
        "tablets, tests and how we feel. Tea and biscuits (sugar-free too!).",
        "format": Group.Format.IN_PERSON,
        "audience": Group.Audience.PATIENTS,
        "venue_address": "Northfield Community Centre\n12 High Street\nNorthfield",
        "accessibility_notes": "Step-free entrance, hearing loop, accessible toilet. Free parking.",
        "capacity": 10,
        "series": ("weekly", 1, dt.time(18, 0), 90),
        "smaller_room": (6, 3),  # places at one coming session, and how many are saved
    },
    {
        "programme": 1,
        "name": "Carers' coffee break online",
        "description": "Half an hour for yourself. Talk with other carers who understand, "
        "from home, on a video call.",
        "format": Group.Format.ONLINE,
        "audience": Group.Audience.CAREGIVERS,
        "meeting_link": "https://meet.example.org/carers-coffee-break",
        "capacity": 8,
        "series": ("fortnightly", 3, dt.time(10, 30), 60),
    },
    {
        "programme": 2,
        "name": "Long COVID pacing circle",
        "description": "Share what helps with pacing, fatigue and going back to work. Come to "
        "the room or join online.",
        "format": Group.Format.HYBRID,
        "audience": Group.Audience.BOTH,
        "venue_address": "Northfield Library, meeting room 2\nStation Road\nNorthfield",
        "accessibility_notes": "Lift to the first floor. Chairs with arms. Quiet room nearby.",
        "meeting_link": "https://meet.example.org/long-covid-circle",
        "capacity": 6,
        "series": ("monthly", 2, dt.time(14, 0), 90),
    },
]


def _first_weekday(weekday: int) -> dt.date:
    today = timezone.localdate()
    return today + dt.timedelta(days=(weekday - today.weekday()) % 7)


def seed(context) -> None:
    for spec in GROUPS:
        programme = context.programmes[spec["programme"]]
        frequency, weekday, start_time, minutes = spec["series"]
        fields = {
            k: v
            for k, v in spec.items()
            if k not in ("programme", "name", "series", "smaller_room")
        }
        group, created = Group.objects.get_or_create(
            programme=programme, name=spec["name"], defaults=fields
        )
        facilitator = next(
            (
                user
                for user in context.supporters
                if Enrolment.objects.filter(
                    user=user, programme=programme, role="supporter", status="active"
                ).exists()
            ),
            None,
        )
        if facilitator is not None:
            group.facilitators.add(facilitator)
        series = SessionSeries.objects.filter(group=group, frequency=frequency).first()
        if series is None:
            start = _first_weekday(weekday)
            if frequency == "monthly":
                start = start.replace(day=1)
                start += dt.timedelta(days=(weekday - start.weekday()) % 7 + 7)
            series = SessionSeries(
                group=group,
                frequency=frequency,
                start_date=start,
                start_time=start_time,
                duration_minutes=minutes,
                time_zone=group.time_zone,
            )
            series.save()
        services.sessions_generate(series=series)
        roles = group.audience_roles()
        people = [
            user
            for user in context.members
            if Enrolment.objects.filter(
                user=user, programme=programme, role__in=roles, status="active"
            ).exists()
        ]
        now = timezone.now()
        # The carers' group is full with a waiting list; the others have a place free.
        full = spec["format"] == Group.Format.ONLINE
        places = group.capacity if full else group.capacity - 1
        for i, user in enumerate(people[: places + (2 if full else 0)]):
            status = Membership.Status.MEMBER if i < places else Membership.Status.WAITING
            Membership.objects.get_or_create(
                group=group,
                user=user,
                defaults={
                    "status": status,
                    "joined_at": now if status == "member" else None,
                    "waiting_since": now + dt.timedelta(seconds=i) if status == "waiting" else None,
                },
            )
        if "smaller_room" in spec:
            _smaller_room(group, *spec["smaller_room"])


def _smaller_room(group: Group, places: int, saved: int) -> None:
    """Give the group's second coming session fewer places, unless one already has."""
    coming = group.sessions.upcoming().scheduled().order_by("starts_at")
    if coming.filter(capacity__isnull=False).exists():
        return
    first_two = list(coming.filter(series__isnull=False).values_list("pk", flat=True)[:2])
    if len(first_two) < 2:
        return
    session_id = first_two[1]
    GroupSession.objects.filter(pk=session_id).update(capacity=places)
    members = group.memberships.members().order_by("joined_at", "pk")
    for item in members[:saved]:
        SessionBooking.objects.get_or_create(
            session_id=session_id, user_id=item.user_id, defaults={"status": "booked"}
        )
