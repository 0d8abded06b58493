"""Pages for members: finding and joining groups, a group's page, sessions and calendars."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from peersupport.choices import choice_labels
from peersupport.pagecache import cached_page
from peersupport.urlpattern import pk_url

from . import access, attendance, bookings, calendar, membership
from .forms import GroupFilterForm
from .models import (
    Attendance,
    CalendarFeed,
    Group,
    GroupSession,
    Membership,
    SessionBooking,
    SessionSeries,
    WaitingListOffer,
)

PAGE_SIZE = 20
TIME_RANGES = {
    "morning": (dt.time(0, 0), dt.time(11, 59, 59)),
    "afternoon": (dt.time(12, 0), dt.time(16, 59, 59)),
    "evening": (dt.time(17, 0), dt.time(23, 59, 59)),
}


def _next_session_start(now):
    return Subquery(
        GroupSession.objects.filter(group=OuterRef("pk"), status="scheduled", starts_at__gte=now)
        .order_by("starts_at")
        .values("starts_at")[:1]
    )


def _filter_groups(groups, data: dict):
    if data.get("audience"):
        groups = groups.filter(audience__in=[data["audience"], Group.Audience.BOTH])
    if data.get("format"):
        formats = {data["format"]}
        if data["format"] != Group.Format.HYBRID:
            formats.add(Group.Format.HYBRID)
        groups = groups.filter(format__in=formats)
    series = SessionSeries.objects.all()
    if data.get("day") not in (None, ""):
        series = series.filter(weekday=int(data["day"]))
    if data.get("time"):
        start, end = TIME_RANGES[data["time"]]
        series = series.filter(start_time__range=(start, end))
    if data.get("day") not in (None, "") or data.get("time"):
        groups = groups.filter(pk__in=series.values("group"))
    if data.get("place"):
        groups = groups.filter(venue_address__icontains=data["place"])
    return groups


@login_required
@cached_page
def group_list(request):
    """Groups of the person's programmes, with filters and a one-tap join on each."""
    now = timezone.now()
    form = GroupFilterForm(request.GET or None)
    groups = (
        Group.objects.visible_to(request.user).for_audience_of(request.user).filter(status="open")
    )
    programme_id = request.GET.get("programme", "")
    if programme_id.isdigit():
        groups = groups.filter(programme_id=int(programme_id))
    if form.is_valid():
        groups = _filter_groups(groups, form.cleaned_data)
    groups = (
        groups.select_related("programme")
        .annotate(
            taken=Coalesce(
                Subquery(
                    Membership.objects.filter(
                        group=OuterRef("pk"), status__in=["member", "offered"]
                    )
                    .values("group")
                    .annotate(n=Count("pk"))
                    .values("n"),
                    output_field=IntegerField(),
                ),
                0,
            ),
            next_start=_next_session_start(now),
            my_status=Subquery(
                Membership.objects.filter(group=OuterRef("pk"), user=request.user).values("status")[
                    :1
                ]
            ),
        )
        .order_by("next_start", "name")
    )
    page = Paginator(groups, PAGE_SIZE).get_page(request.GET.get("page"))
    # Addresses reversed and labels translated once per page, not once per group.
    detail_url, join_url = pk_url("groups:detail"), pk_url("groups:join")
    formats, audiences = choice_labels(Group.Format), choice_labels(Group.Audience)
    for group in page.object_list:
        group.places_left = max(group.capacity - group.taken, 0)
        group.url, group.join_url = detail_url(group.pk), join_url(group.pk)
        group.format_label = formats.get(group.format, group.format)
        group.audience_label = audiences.get(group.audience, group.audience)
    return render(request, "groups/list.html", {"form": form, "page": page})


@login_required
@cached_page
def group_detail(request, pk):
    """A group's page: when and where it meets, joining, and the meeting link near the time."""
    group = get_object_or_404(
        Group.objects.visible_to(request.user)
        .select_related("programme")
        .prefetch_related("facilitators"),
        pk=pk,
    )
    now = timezone.now()
    mine = Membership.objects.filter(group=group, user=request.user).first()
    offer = None
    if mine is not None and mine.status == Membership.Status.OFFERED:
        offer = mine.offers.filter(status=WaitingListOffer.Status.OPEN).first()
    is_member = mine is not None and mine.is_member
    can_moderate = access.can_moderate_loaded(request.user, group)
    sessions = list(group.sessions.upcoming(now).order_by("starts_at")[:8])
    apologies = set()
    if is_member and sessions:
        apologies = set(
            Attendance.objects.filter(
                user=request.user, session__in=sessions, status="apologies"
            ).values_list("session_id", flat=True)
        )
    places = bookings.session_places(sessions, user=request.user)
    for session in sessions:
        session.places = places.get(session.pk)
    link_session = None
    if group.meeting_link and (is_member or can_moderate):
        link_session = next((s for s in sessions if s.meeting_link_open(now)), None)
    context = {
        "group": group,
        "membership": mine,
        "is_member": is_member,
        "offer": offer,
        "position": membership.waiting_position(mine) if mine else None,
        "taken": group.memberships.holding_place().count(),
        "sessions": sessions,
        "apologies": apologies,
        "link_session": link_session,
        "can_moderate": can_moderate,
        "now": now,
    }
    context["places_left"] = max(group.capacity - context["taken"], 0)
    return render(request, "groups/detail.html", context)


@login_required
@require_POST
def join(request, pk):
    group = get_object_or_404(Group.objects.visible_to(request.user), pk=pk)
    try:
        result = membership.membership_join(user=request.user, group=group)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        text = {
            Membership.Status.MEMBER: _("You have joined %(name)s. See you there!"),
            Membership.Status.WAITING: _(
                "%(name)s is full, so you are on the waiting list. We will offer you a "
                "place when one is free."
            ),
            Membership.Status.PENDING: _(
                "You have asked to join %(name)s. A facilitator will reply soon."
            ),
        }[result.status]
        messages.success(request, text % {"name": group.name})
    return redirect("groups:detail", pk=group.pk)


@login_required
@require_POST
def leave(request, pk):
    mine = get_object_or_404(
        Membership.objects.filter(user=request.user).current().select_related("group"), group=pk
    )
    membership.membership_leave(user=request.user, membership=mine)
    messages.success(
        request, _("You have left %(name)s. You can join again at any time.") % {"name": mine.group}
    )
    return redirect("groups:detail", pk=pk)


@login_required
@require_POST
def waiting_stay(request, pk):
    """Someone we stopped offering places to says they still want one."""
    mine = get_object_or_404(
        Membership.objects.filter(user=request.user, status="waiting").select_related("group"),
        group=pk,
    )
    try:
        result = membership.waiting_list_stay(user=request.user, membership=mine)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        if result.is_member:
            text = _("A place was free, so it is yours. You are a member of %(name)s.")
        else:
            text = _("Thank you. We will offer you the next free place in %(name)s.")
        messages.success(request, text % {"name": mine.group})
    return redirect("groups:detail", pk=pk)


@login_required
@require_POST
def offer_respond(request, pk):
    offer = get_object_or_404(
        WaitingListOffer.objects.filter(membership__user=request.user).select_related(
            "membership__group"
        ),
        pk=pk,
    )
    group = offer.membership.group
    try:
        if request.POST.get("answer") == "accept":
            membership.offer_accept(user=request.user, offer=offer)
            messages.success(request, _("You have a place in %(name)s.") % {"name": group})
        else:
            membership.offer_decline(user=request.user, offer=offer)
            messages.success(request, _("We have offered the place to someone else."))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return redirect("groups:detail", pk=group.pk)


@login_required
def session_ics(request, pk):
    """Download one session as a calendar file."""
    session = get_object_or_404(
        GroupSession.objects.filter(
            group__in=Group.objects.visible_to(request.user).values("pk")
        ).select_related("group"),
        pk=pk,
    )
    places = bookings.session_places([session], user=request.user)
    response = HttpResponse(
        calendar.session_ics(session, places=places.get(session.pk)), content_type="text/calendar"
    )
    response["Content-Disposition"] = f'attachment; filename="group-session-{session.pk}.ics"'
    return response


def _back_to_session(request, session: GroupSession):
    if request.POST.get("next") == "sessions":
        return redirect(reverse("groups:my_sessions") + f"#session-{session.pk}")
    return redirect(reverse("groups:detail", args=[session.group_id]) + f"#session-{session.pk}")


@login_required
@require_POST
def apologies(request, pk):
    session = get_object_or_404(
        GroupSession.objects.for_member(request.user).select_related("group"), pk=pk
    )
    try:
        if request.POST.get("action") == "withdraw":
            attendance.apologies_withdraw(user=request.user, session=session)
            messages.success(request, _("Thank you. We have noted that you can come."))
        else:
            attendance.apologies_send(user=request.user, session=session)
            messages.success(request, _("Thank you for letting us know you cannot come."))
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return _back_to_session(request, session)


@login_required
@require_POST
def session_place(request, pk):
    """Save a place at a session with fewer places than members, wait for one, or give it up."""
    session = get_object_or_404(
        GroupSession.objects.for_member(request.user).select_related("group"), pk=pk
    )
    action = request.POST.get("action")
    try:
        if action == "cancel":
            released = bookings.session_place_cancel(user=request.user, session=session)
            messages.success(
                request,
                {
                    SessionBooking.Status.BOOKED: _(
                        "Your place is cancelled. Thank you: it can go to someone else."
                    ),
                    SessionBooking.Status.WAITING: _(
                        "You have left the waiting list for this session."
                    ),
                }.get(released, _("You had no place at this session.")),
            )
        elif action in ("save", "wait"):
            booking = bookings.session_place_save(
                user=request.user, session=session, wait_if_full=action == "wait"
            )
            if booking.status == SessionBooking.Status.BOOKED:
                messages.success(request, _("Your place is saved. See you there!"))
            else:
                messages.success(
                    request,
                    _(
                        "You are on the waiting list for this session. If someone cancels, "
                        "the place is yours and we will show it here."
                    ),
                )
        else:
            raise Http404
    except ValidationError as error:
        messages.error(request, error.messages[0])
    return _back_to_session(request, session)


@login_required
def mine(request):
    """The person's groups, waiting lists and offers, and groups they facilitate."""
    ahead = (
        Membership.objects.filter(
            group=OuterRef("group"), status="waiting", waiting_since__lt=OuterRef("waiting_since")
        )
        .offerable()
        .values("group")
        .annotate(n=Count("pk"))
        .values("n")
    )
    memberships = (
        Membership.objects.filter(user=request.user)
        .current()
        .select_related("group", "group__programme")
        .annotate(
            ahead=Coalesce(Subquery(ahead, output_field=IntegerField()), 0),
            next_start=Subquery(
                GroupSession.objects.filter(
                    group=OuterRef("group"), status="scheduled", starts_at__gte=timezone.now()
                )
                .order_by("starts_at")
                .values("starts_at")[:1]
            ),
        )
        .order_by("group__name")
    )
    facilitated = Group.objects.filter(facilitators=request.user).select_related("programme")
    return render(
        request, "groups/mine.html", {"memberships": memberships, "facilitated": facilitated}
    )


@login_required
@cached_page
def my_sessions(request):
    """Coming sessions of the person's groups, apologies, and their private calendar address."""
    sessions = list(
        GroupSession.objects.for_member(request.user)
        .upcoming()
        .select_related("group")
        .order_by("starts_at")[:30]
    )
    apologies = set(
        Attendance.objects.filter(
            user=request.user, session__in=sessions, status="apologies"
        ).values_list("session_id", flat=True)
    )
    places = bookings.session_places(sessions, user=request.user)
    group_url, ics_url = pk_url("groups:detail"), pk_url("groups:session_ics")
    for session in sessions:
        session.group_url, session.ics_url = group_url(session.group_id), ics_url(session.pk)
        session.places = places.get(session.pk)
    feed = CalendarFeed.objects.filter(user=request.user).first()
    token = request.session.pop("groups_feed_token", None)
    feed_url = None
    if token and feed is not None:
        feed_url = request.build_absolute_uri(reverse("groups:feed", kwargs={"token": token}))
    return render(
        request,
        "groups/my_sessions.html",
        {
            "sessions": sessions,
            "apologies": apologies,
            "now": timezone.now(),
            "feed": feed,
            "feed_url": feed_url,
            "webcal_url": feed_url.replace("https://", "webcal://").replace("http://", "webcal://")
            if feed_url
            else None,
        },
    )


@login_required
@require_POST
def feed_change(request):
    """Make a new private calendar address, or turn it off."""
    if request.POST.get("action") == "revoke":
        calendar.feed_revoke(user=request.user)
        messages.success(request, _("Your calendar address is turned off."))
    else:
        request.session["groups_feed_token"] = calendar.feed_regenerate(user=request.user)
        messages.success(
            request, _("Here is your new calendar address. Any old address has stopped working.")
        )
    return redirect(reverse("groups:my_sessions") + "#calendar")


def feed(request, token):
    """A person's private calendar feed. The random token in the address is the key."""
    found = calendar.feed_for_token(token)
    if found is None:
        raise Http404
    response = HttpResponse(calendar.feed_ics(found), content_type="text/calendar")
    response["Cache-Control"] = "private, max-age=900"
    return response
