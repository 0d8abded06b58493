"""Pages for coordinators and facilitators: groups, sessions, members and attendance."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.permissions import coordinator_required
from programmes.models import Enrolment, Programme

from . import access, attendance, bookings, membership, services
from .forms import AddMemberForm, GroupForm, SeriesForm, SessionChangeForm
from .models import (
    Attendance,
    Group,
    GroupSession,
    Membership,
    SessionBooking,
    SessionSeries,
)


@coordinator_required
def programme_groups(request, programme_pk):
    """A programme's groups with places, waiting lists and attendance, for its coordinators."""
    programme = get_object_or_404(Programme.objects.managed_by(request.user), pk=programme_pk)
    groups = list(
        Group.objects.filter(programme=programme)
        .annotate(
            members=Count("memberships", filter=Q(memberships__status="member")),
            waiting=Count("memberships", filter=Q(memberships__status="waiting")),
            pending=Count("memberships", filter=Q(memberships__status="pending")),
        )
        .order_by("status", "name")
    )
    figures = attendance.group_figures(group_ids=[g.pk for g in groups])
    for group in groups:
        group.figures = figures.get(group.pk)
    return render(
        request, "groups/manage/programme_groups.html", {"programme": programme, "groups": groups}
    )


@coordinator_required
def group_create(request, programme_pk):
    programme = get_object_or_404(Programme.objects.managed_by(request.user), pk=programme_pk)
    form = GroupForm(
        request.POST if request.method == "POST" else None,
        candidates=services.facilitator_candidates(programme),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        group = services.group_create(
            user=request.user,
            programme=programme,
            facilitators=data.pop("facilitators"),
            **data,
        )
        messages.success(request, _("Group created. Now add when it meets."))
        return redirect("groups:series_create", pk=group.pk)
    return render(
        request,
        "groups/manage/group_form.html",
        {"form": form, "programme": programme, "group": None},
    )


@coordinator_required
def group_edit(request, pk):
    group = get_object_or_404(
        Group.objects.managed_by(request.user).select_related("programme"), pk=pk
    )
    form = GroupForm(
        request.POST if request.method == "POST" else None,
        instance=group,
        candidates=services.facilitator_candidates(group.programme),
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        group = Group.objects.get(pk=group.pk)
        services.group_update(
            user=request.user, group=group, facilitators=data.pop("facilitators"), **data
        )
        messages.success(request, _("Group saved."))
        return redirect("groups:manage", pk=group.pk)
    return render(
        request,
        "groups/manage/group_form.html",
        {"form": form, "programme": group.programme, "group": group},
    )


@login_required
def group_manage(request, pk):
    """Members, requests, waiting list and coming sessions, for facilitators and coordinators."""
    group = get_object_or_404(
        Group.objects.moderated_by(request.user)
        .distinct()
        .select_related("programme")
        .prefetch_related("facilitators", "series"),
        pk=pk,
    )
    memberships = list(
        group.memberships.current().select_related("user").order_by("waiting_since", "created_at")
    )
    by_status = {status: [] for status in Membership.Status.values}
    for item in memberships:
        by_status[item.status].append(item)
    in_group = {m.user_id for m in memberships if m.status in Membership.PLACE_HOLDING}
    candidates = (
        User.objects.filter(
            pk__in=Enrolment.objects.filter(
                programme=group.programme, status="active", role__in=group.audience_roles()
            ).values("user")
        )
        .exclude(pk__in=in_group)
        .order_by("display_name")
    )
    sessions = list(group.sessions.upcoming().order_by("starts_at")[:12])
    places = bookings.session_places(sessions)
    for session in sessions:
        session.places = places.get(session.pk)
    return render(
        request,
        "groups/manage/group.html",
        {
            "group": group,
            "members": by_status["member"],
            "offered": by_status["offered"],
            "waiting": by_status["waiting"],
            "pending": by_status["pending"],
            "add_form": AddMemberForm(candidates=candidates),
            "sessions": sessions,
            "can_manage": access.can_manage(request.user, group),
            "recent": list(group.sessions.past().order_by("-starts_at")[:3]),
        },
    )


@login_required
@require_POST
def member_add(request, pk):
    group = get_object_or_404(Group.objects.moderated_by(request.user).distinct(), pk=pk)
    form = AddMemberForm(
        request.POST,
        candidates=User.objects.filter(
            pk__in=Enrolment.objects.filter(
                programme_id=group.programme_id, status="active"
            ).values("user")
        ),
    )
    if form.is_valid():
        try:
            membership.membership_add(by=request.user, group=group, user=form.cleaned_data["user"])
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(
                request, _("%(name)s is now a member.") % {"name": form.cleaned_data["user"]}
            )
    else:
        messages.error(request, _("Please choose a person to add."))
    return redirect("groups:manage", pk=group.pk)


@login_required
@require_POST
def membership_action(request, pk, action):
    item = get_object_or_404(
        Membership.objects.filter(
            group__in=Group.objects.moderated_by(request.user).values("pk")
        ).select_related("group", "user"),
        pk=pk,
    )
    if action == "approve":
        item = membership.membership_approve(by=request.user, membership=item)
        text = (
            _("%(name)s is now a member.")
            if item.status == Membership.Status.MEMBER
            else _("The group is full, so %(name)s is on the waiting list.")
        )
        messages.success(request, text % {"name": item.user})
    elif action == "remove":
        membership.membership_remove(by=request.user, membership=item)
        messages.success(request, _("%(name)s is no longer in the group.") % {"name": item.user})
    else:
        raise PermissionDenied
    return redirect("groups:manage", pk=item.group_id)


# --- series and sessions --------------------------------------------------------------------


@coordinator_required
def series_create(request, pk):
    group = get_object_or_404(Group.objects.managed_by(request.user), pk=pk)
    form = SeriesForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.series_create(user=request.user, group=group, **form.cleaned_data)
        messages.success(request, _("Sessions added."))
        return redirect("groups:manage", pk=group.pk)
    return render(request, "groups/manage/series_form.html", {"form": form, "group": group})


@coordinator_required
def series_edit(request, pk):
    series = get_object_or_404(
        SessionSeries.objects.filter(
            group__in=Group.objects.managed_by(request.user).values("pk")
        ).select_related("group"),
        pk=pk,
    )
    form = SeriesForm(request.POST if request.method == "POST" else None, instance=series)
    if request.method == "POST" and form.is_valid():
        series = SessionSeries.objects.select_related("group").get(pk=series.pk)
        services.series_update(user=request.user, series=series, **form.cleaned_data)
        messages.success(request, _("Saved. Coming sessions follow the new times."))
        return redirect("groups:manage", pk=series.group_id)
    return render(
        request,
        "groups/manage/series_form.html",
        {"form": form, "group": series.group, "series": series},
    )


def _managed_session(request, pk) -> GroupSession:
    return get_object_or_404(
        GroupSession.objects.filter(
            group__in=Group.objects.managed_by(request.user).values("pk")
        ).select_related("group"),
        pk=pk,
    )


@coordinator_required
def session_edit(request, pk):
    """Move one session or give it its own number of places."""
    session = _managed_session(request, pk)
    local = session.local_start
    form = SessionChangeForm(
        request.POST if request.method == "POST" else None,
        initial={
            "date": local.date(),
            "start_time": local.time().replace(second=0, microsecond=0),
            "duration_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
            "capacity": session.capacity,
        },
    )
    if request.method == "POST" and form.is_valid():
        capacity_before = session.capacity
        try:
            session = services.session_reschedule(
                user=request.user, session=session, **form.cleaned_data
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Session saved. Members will be told about any change."))
            if session.capacity != capacity_before:
                _tell_about_places(request, session)
            return redirect("groups:manage", pk=session.group_id)
    return render(
        request,
        "groups/manage/session_form.html",
        {"form": form, "session": session, "places": _places_of(session)},
    )


def _places_of(session: GroupSession) -> bookings.Places | None:
    return bookings.session_places([session]).get(session.pk)


def _tell_about_places(request, session: GroupSession) -> None:
    places = _places_of(session)
    if places is None or not places.needed:
        return
    if places.over:
        messages.warning(
            request,
            ngettext(
                "%(booked)s people had already saved a place, more than the %(capacity)s "
                "place you set.",
                "%(booked)s people had already saved a place, more than the %(capacity)s "
                "places you set.",
                places.capacity,
            )
            % {"booked": places.booked, "capacity": places.capacity}
            + " "
            + _(
                "They all keep their place: nobody has been taken off. Nobody else can save "
                "a place unless some of them cancel."
            ),
        )
    else:
        messages.info(
            request,
            _(
                "This session has fewer places than the group has members, so members save "
                "a place on the group page. %(booked)s of %(capacity)s places are saved."
            )
            % {"booked": places.booked, "capacity": places.capacity},
        )


@coordinator_required
@require_POST
def session_cancel(request, pk):
    session = _managed_session(request, pk)
    try:
        services.session_cancel(user=request.user, session=session)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Session cancelled. Members will be told."))
    return redirect("groups:manage", pk=session.group_id)


# --- attendance -----------------------------------------------------------------------------


def _moderated_session(request, pk) -> GroupSession:
    return get_object_or_404(
        GroupSession.objects.filter(
            group__in=Group.objects.moderated_by(request.user).values("pk")
        ).select_related("group"),
        pk=pk,
    )


def _attendance_rows(session: GroupSession, user_ids=None) -> list[dict]:
    people = Membership.objects.filter(group=session.group_id).filter(
        Q(status="member") | Q(user__group_attendance__session=session)
    )
    if user_ids is not None:
        people = people.filter(user_id__in=user_ids)
    people = people.select_related("user").distinct().order_by("user__display_name")
    marks = dict(Attendance.objects.filter(session=session).values_list("user_id", "status"))
    return [{"user": m.user, "status": marks.get(m.user_id)} for m in people]


@login_required
def attendance_sheet(request, pk):
    """Tap came / did not come / sent apologies for each member."""
    session = _moderated_session(request, pk)
    places = _places_of(session)
    booking_list = bookings.session_booking_list(session) if places is not None else []
    return render(
        request,
        "groups/manage/attendance.html",
        {
            "session": session,
            "rows": _attendance_rows(session),
            "choices": Attendance.Status.choices,
            "places": places,
            "booked": [b for b in booking_list if b.status == SessionBooking.Status.BOOKED],
            "waiting": [b for b in booking_list if b.status == SessionBooking.Status.WAITING],
        },
    )


@login_required
@require_POST
def attendance_mark(request, pk, user_pk):
    session = _moderated_session(request, pk)
    person = get_object_or_404(
        User.objects.filter(group_memberships__group=session.group_id), pk=user_pk
    )
    try:
        attendance.attendance_mark(
            by=request.user, session=session, user=person, status=request.POST.get("status", "")
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    if request.htmx:
        row = _attendance_rows(session, user_ids=[person.pk])[0]
        return render(
            request,
            "groups/manage/_attendance_row.html",
            {"session": session, "row": row, "choices": Attendance.Status.choices},
        )
    return redirect("groups:attendance", pk=session.pk)


@coordinator_required
def attendance_report(request, pk):
    """How often each member came, and how many came to each session."""
    group = get_object_or_404(Group.objects.managed_by(request.user), pk=pk)
    return render(
        request,
        "groups/manage/attendance_report.html",
        {
            "group": group,
            "members": attendance.member_figures(group=group),
            "sessions": attendance.session_figures(group=group),
            "overall": attendance.group_figures(group_ids=[group.pk]).get(group.pk),
            "now": timezone.now(),
        },
    )
