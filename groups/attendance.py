"""Who came to each session, apologies sent beforehand, and attendance figures."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .access import require_moderator
from .bookings import session_place_release
from .errors import SessionNotChangeable
from .models import Attendance, GroupSession, Membership


def attendance_mark(*, by: User, session: GroupSession, user: User, status: str) -> Attendance:
    """A facilitator records whether a member came."""
    require_moderator(by, session.group)
    if status not in Attendance.Status.values:
        raise SessionNotChangeable(_("Please choose came, did not come or sent apologies."))
    if not Membership.objects.filter(group_id=session.group_id, user=user).exists():
        raise PermissionDenied
    attendance, _created = Attendance.objects.update_or_create(
        session=session, user=user, defaults={"status": status, "recorded_by": by}
    )
    return attendance


@transaction.atomic
def apologies_send(*, user: User, session: GroupSession) -> Attendance:
    """A member says beforehand that they cannot come; a place they saved goes to the next
    person waiting for one."""
    if not Membership.objects.filter(
        group_id=session.group_id, user=user, status="member"
    ).exists():
        raise PermissionDenied
    if session.is_cancelled or session.starts_at <= timezone.now():
        raise SessionNotChangeable(_("You can only send apologies before a session starts."))
    session_place_release(session=session, user_id=user.pk)
    attendance, _created = Attendance.objects.update_or_create(
        session=session,
        user=user,
        defaults={"status": Attendance.Status.APOLOGIES, "recorded_by": user},
    )
    return attendance


def apologies_withdraw(*, user: User, session: GroupSession) -> None:
    """A member can come after all."""
    if session.starts_at <= timezone.now():
        raise SessionNotChangeable(_("This session has already started."))
    Attendance.objects.filter(session=session, user=user, status="apologies").delete()


def _counts(prefix: str = "") -> dict:
    return {
        "present": Count("pk", filter=Q(**{f"{prefix}status": "present"})),
        "absent": Count("pk", filter=Q(**{f"{prefix}status": "absent"})),
        "apologies": Count("pk", filter=Q(**{f"{prefix}status": "apologies"})),
    }


def _rate(row: dict) -> int | None:
    recorded = row["present"] + row["absent"] + row["apologies"]
    return round(100 * row["present"] / recorded) if recorded else None


def group_figures(*, group_ids: list[int]) -> dict[int, dict]:
    """Present, absent and apologies counts and an attendance rate for each group."""
    rows = (
        Attendance.objects.filter(session__group_id__in=group_ids, session__status="scheduled")
        .values("session__group_id")
        .annotate(**_counts())
    )
    figures = {}
    for row in rows:
        row["rate"] = _rate(row)
        figures[row["session__group_id"]] = row
    return figures


def member_figures(*, group) -> list[dict]:
    """Per member of one group: how often they came. One query."""
    rows = (
        Attendance.objects.filter(session__group=group, session__status="scheduled")
        .values("user_id", "user__display_name")
        .annotate(**_counts())
        .order_by("user__display_name")
    )
    result = []
    for row in rows:
        row["rate"] = _rate(row)
        result.append(row)
    return result


def session_figures(*, group, limit: int = 20) -> list[dict]:
    """The group's latest past sessions with how many came."""
    return list(
        GroupSession.objects.filter(group=group, status="scheduled", starts_at__lt=timezone.now())
        .order_by("-starts_at")
        .annotate(**_counts("attendance__"))
        .values("pk", "starts_at", "present", "absent", "apologies")[:limit]
    )
