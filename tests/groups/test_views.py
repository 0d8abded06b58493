"""Every groups page, for each role that may use it and each that may not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from groups import discussion
from groups.models import (
    Attendance,
    CalendarFeed,
    Group,
    GroupSession,
    GuidelinesAcceptance,
    Membership,
    PostReport,
    SessionBooking,
    SessionSeries,
    Thread,
    WaitingListOffer,
)
from tests import factories
from tests.groups.factories import (
    GroupFactory,
    GroupSessionFactory,
    MembershipFactory,
    PostFactory,
    ThreadFactory,
)

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def other_group(other_coordinator):
    from programmes.models import StaffMembership

    organisation = StaffMembership.objects.get(user=other_coordinator).organisation
    return GroupFactory(programme=factories.ProgrammeFactory(organisation=organisation))


@pytest.fixture
def session(group):
    return GroupSessionFactory(group=group)


@pytest.fixture
def post(group, group_member):
    return PostFactory(thread=ThreadFactory(group=group, author=group_member))


# --- finding and joining -----------------------------------------------------------------


def test_it_lists_groups_of_the_members_programmes_only(client, member, group, other_group):
    response = _as(client, member).get(reverse("groups:list"))
    assert response.status_code == 200
    assert group.name in response.text and other_group.name not in response.text


def test_it_lists_only_groups_for_how_the_member_takes_part(client, member, group):
    carers = GroupFactory(programme=group.programme, audience="caregivers", name="Carers only")
    patients = GroupFactory(programme=group.programme, audience="patients", name="Patients only")
    text = _as(client, member).get(reverse("groups:list")).text  # member is a patient
    assert patients.name in text and group.name in text
    assert carers.name not in text


def test_it_filters_groups_by_format_day_time_and_place(client, coordinator, member, group):
    online = GroupFactory(programme=group.programme, format="online", venue_address="")
    SessionSeries.objects.create(
        group=online,
        frequency="weekly",
        start_date=dt.date(2026, 1, 5),  # a Monday
        start_time=dt.time(10, 0),
        time_zone="Europe/London",
    )
    _as(client, member)
    names = lambda **q: client.get(reverse("groups:list"), q).text  # noqa: E731
    assert group.name not in names(format="online", day="0", time="morning")
    assert online.name in names(format="online", day="0", time="morning")
    assert online.name not in names(day="0", time="evening")
    assert group.name in names(place="northfield") and online.name not in names(place="northfield")


def test_it_shows_an_empty_list_to_someone_in_no_programme(client, stranger, group):
    response = _as(client, stranger).get(reverse("groups:list"))
    assert response.status_code == 200 and group.name not in response.text


@pytest.mark.parametrize("name", ["groups:list", "groups:mine", "groups:my_sessions"])
def test_it_sends_anonymous_people_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_it_shows_the_group_page_to_people_in_the_programme(client, member, coordinator, group):
    assert _as(client, member).get(group.get_absolute_url()).status_code == 200
    assert _as(client, coordinator).get(group.get_absolute_url()).status_code == 200


def test_it_hides_the_group_page_from_other_people(client, stranger, other_coordinator, group):
    assert _as(client, stranger).get(group.get_absolute_url()).status_code == 404
    assert _as(client, other_coordinator).get(group.get_absolute_url()).status_code == 404
    assert client.logout() is None
    assert client.get(group.get_absolute_url()).status_code == 302


def test_it_shows_the_meeting_link_to_members_only_shortly_before(
    client, member, group, group_member
):
    soon = GroupSessionFactory(group=group, starts_at=timezone.now() + dt.timedelta(minutes=30))
    link = group.meeting_link
    assert link not in _as(client, group_member).get(group.get_absolute_url()).text
    soon.starts_at = timezone.now() + dt.timedelta(minutes=10)
    soon.ends_at = soon.starts_at + dt.timedelta(hours=1)
    soon.save()
    assert link in _as(client, group_member).get(group.get_absolute_url()).text
    page = _as(client, member).get(group.get_absolute_url()).text  # in programme, not group
    assert link not in page and reverse("groups:threads", args=[group.pk]) not in page


def test_it_joins_in_one_tap(client, member, group):
    response = _as(client, member).post(reverse("groups:join", args=[group.pk]))
    assert response.status_code == 302
    assert Membership.objects.get(group=group, user=member).status == "member"


def test_it_shows_the_waiting_list_position(client, member, group):
    MembershipFactory.create_batch(group.capacity, group=group)
    MembershipFactory(group=group, status="waiting", waiting_since=timezone.now())
    _as(client, member).post(reverse("groups:join", args=[group.pk]))
    assert Membership.objects.get(group=group, user=member).status == "waiting"
    response = client.get(group.get_absolute_url())
    assert "You are number 2 on the waiting list" in response.text


def test_it_refuses_join_to_people_who_cannot_see_the_group(client, stranger, group):
    assert _as(client, stranger).post(reverse("groups:join", args=[group.pk])).status_code == 404
    assert client.get(reverse("groups:join", args=[group.pk])).status_code == 405


def test_it_lets_a_member_leave(client, group, group_member, member):
    _as(client, group_member).post(reverse("groups:leave", args=[group.pk]))
    assert Membership.objects.get(group=group, user=group_member).status == "left"
    assert _as(client, member).post(reverse("groups:leave", args=[group.pk])).status_code == 404


def test_it_lets_only_the_offered_person_answer_an_offer(client, group, member, group_member):
    waiting = MembershipFactory(group=group, status="offered")
    offer = WaitingListOffer.objects.create(
        membership=waiting, expires_at=timezone.now() + dt.timedelta(hours=48)
    )
    url = reverse("groups:offer_respond", args=[offer.pk])
    assert _as(client, member).post(url, {"answer": "accept"}).status_code == 404
    _as(client, waiting.user).post(url, {"answer": "accept"})
    assert Membership.objects.get(pk=waiting.pk).status == "member"


def test_it_downloads_a_session_calendar_file(client, group, member, stranger, session):
    url = reverse("groups:session_ics", args=[session.pk])
    response = _as(client, member).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "text/calendar"
    assert b"BEGIN:VEVENT" in response.content
    assert _as(client, stranger).get(url).status_code == 404


def test_it_takes_apologies_from_group_members_only(client, group, group_member, member, session):
    url = reverse("groups:apologies", args=[session.pk])
    assert _as(client, member).post(url).status_code == 404
    _as(client, group_member).post(url)
    assert Attendance.objects.get(session=session, user=group_member).status == "apologies"
    _as(client, group_member).post(url, {"action": "withdraw"})
    assert not Attendance.objects.filter(session=session).exists()


def test_it_shows_my_groups_and_sessions(client, group, group_member, session):
    assert group.name in _as(client, group_member).get(reverse("groups:mine")).text
    response = client.get(reverse("groups:my_sessions"))
    assert reverse("groups:session_ics", args=[session.pk]) in response.text


def test_it_shows_a_new_feed_address_once(client, group_member):
    _as(client, group_member)
    response = client.post(reverse("groups:feed_change"), {"action": "new"}, follow=True)
    assert "/calendar/" in response.text and "webcal://" in response.text
    assert "webcal://" not in client.get(reverse("groups:my_sessions")).text
    client.post(reverse("groups:feed_change"), {"action": "revoke"})
    assert not CalendarFeed.objects.filter(user=group_member).exists()


def test_it_links_from_the_programme_pages(client, member, coordinator, programme):
    assert reverse("groups:list") in _as(client, member).get(reverse("programmes:mine")).text
    page = _as(client, coordinator).get(reverse("programmes:manage_detail", args=[programme.pk]))
    assert reverse("groups:programme_groups", args=[programme.pk]) in page.text


# --- discussion --------------------------------------------------------------------------


def test_it_shows_discussion_to_members_facilitators_and_coordinators(
    client, group, group_member, facilitator, coordinator, post
):
    url = reverse("groups:threads", args=[group.pk])
    thread_url = reverse("groups:thread", args=[group.pk, post.thread_id])
    for person in (group_member, facilitator, coordinator):
        assert _as(client, person).get(url).status_code == 200
        assert post.body in client.get(thread_url).text


def test_it_never_shows_discussion_to_non_members(
    client, group, member, stranger, other_coordinator, post
):
    for person in (member, stranger, other_coordinator):
        _as(client, person)
        assert client.get(reverse("groups:threads", args=[group.pk])).status_code == 404
        assert (
            client.get(reverse("groups:thread", args=[group.pk, post.thread_id])).status_code == 404
        )
        assert client.get(reverse("groups:post_report", args=[post.pk])).status_code == 404
        assert client.get(reverse("groups:guidelines", args=[group.pk])).status_code == 404


def test_it_shows_guidelines_before_a_first_post(client, group, group_member):
    _as(client, group_member)
    response = client.get(reverse("groups:thread_new", args=[group.pk]))
    assert response.status_code == 302 and "guidelines" in response["Location"]
    client.post(reverse("groups:guidelines", args=[group.pk]))
    assert GuidelinesAcceptance.objects.filter(user=group_member, group=group).exists()
    response = client.post(
        reverse("groups:thread_new", args=[group.pk]),
        {"title": "Hello", "body": "<script>alert(1)</script>\nhttps://example.org"},
    )
    thread = Thread.objects.get(group=group)
    page = client.get(reverse("groups:thread", args=[group.pk, thread.pk])).text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<a href="https://example.org' not in page  # links are not turned into anything


def test_it_replies_and_reports(client, group, group_member, post):
    other = MembershipFactory(group=group).user
    discussion.guidelines_accept(user=other, group=group)
    _as(client, other)
    url = reverse("groups:thread", args=[group.pk, post.thread_id])
    client.post(url, {"body": "Welcome!"})
    assert post.thread.posts.count() == 2
    client.post(reverse("groups:post_report", args=[post.pk]), {"reason": "Unkind"})
    assert PostReport.objects.get(post=post).reporter == other


def test_it_lets_facilitators_hide_posts_and_lock_threads(
    client, group, group_member, facilitator, post
):
    hide = reverse("groups:post_moderate", args=[post.pk])
    lock = reverse("groups:thread_lock", args=[post.thread_id])
    assert _as(client, group_member).post(hide, {"action": "hide"}).status_code == 403
    assert client.post(lock, {"locked": "1"}).status_code == 404
    _as(client, facilitator).post(hide, {"action": "hide"})
    client.post(lock, {"locked": "1"})
    post.refresh_from_db()
    post.thread.refresh_from_db()
    assert post.is_hidden and post.thread.is_locked
    page = _as(client, group_member).get(reverse("groups:thread", args=[group.pk, post.thread_id]))
    assert post.body not in page.text and "A facilitator hid this message" in page.text


def test_it_shows_the_moderation_queue_to_coordinators_of_the_programme(
    client, group, post, coordinator, other_coordinator, other_group, member
):
    PostReport.objects.create(post=post, reporter=post.author, reason="Please check")
    url = reverse("groups:moderation")
    assert "Please check" in _as(client, coordinator).get(url).text
    response = _as(client, other_coordinator).get(url)
    assert response.status_code == 200 and "Please check" not in response.text
    assert _as(client, member).get(url).status_code == 403


# --- coordinators and facilitators --------------------------------------------------------


def test_it_lists_a_programmes_groups_for_its_coordinators(
    client, programme, group, coordinator, other_coordinator, member
):
    url = reverse("groups:programme_groups", args=[programme.pk])
    assert group.name in _as(client, coordinator).get(url).text
    assert _as(client, other_coordinator).get(url).status_code == 404
    assert _as(client, member).get(url).status_code == 403


def test_it_lets_coordinators_create_and_edit_groups(
    client, programme, coordinator, other_coordinator, facilitator, group
):
    url = reverse("groups:group_create", args=[programme.pk])
    assert _as(client, other_coordinator).get(url).status_code == 404
    data = {
        "name": "Friday walk and talk",
        "description": "A gentle walk.",
        "audience": "both",
        "format": "in_person",
        "venue_address": "The park gate",
        "time_zone": "Europe/London",
        "capacity": 8,
        "join_policy": "open",
        "status": "open",
        "facilitators": [facilitator.pk],
    }
    response = _as(client, coordinator).post(url, data)
    created = Group.objects.get(name="Friday walk and talk")
    assert response.status_code == 302 and list(created.facilitators.all()) == [facilitator]
    edit = reverse("groups:group_edit", args=[created.pk])
    client.post(edit, {**data, "capacity": 9})
    created.refresh_from_db()
    assert created.capacity == 9
    assert _as(client, facilitator).get(edit).status_code == 403
    assert _as(client, other_coordinator).get(edit).status_code == 404


def test_it_asks_for_an_address_for_in_person_groups(client, programme, coordinator):
    response = _as(client, coordinator).post(
        reverse("groups:group_create", args=[programme.pk]),
        {
            "name": "x",
            "description": "y",
            "audience": "both",
            "format": "in_person",
            "time_zone": "Europe/London",
            "capacity": 5,
            "join_policy": "open",
            "status": "open",
        },
    )
    assert response.status_code == 200 and "Please give the address" in response.text


def test_it_shows_the_run_page_to_facilitators_and_coordinators(
    client, group, facilitator, coordinator, group_member, other_coordinator
):
    url = reverse("groups:manage", args=[group.pk])
    assert _as(client, facilitator).get(url).status_code == 200
    assert _as(client, coordinator).get(url).status_code == 200
    assert _as(client, group_member).get(url).status_code == 404
    assert _as(client, other_coordinator).get(url).status_code == 404


def test_it_lets_facilitators_add_approve_and_remove(client, group, facilitator, group_member):
    newcomer = factories.EnrolmentFactory(programme=group.programme).user
    add = reverse("groups:member_add", args=[group.pk])
    assert _as(client, group_member).post(add, {"user": newcomer.pk}).status_code == 404
    _as(client, facilitator).post(add, {"user": newcomer.pk})
    added = Membership.objects.get(group=group, user=newcomer)
    assert added.status == "member"
    pending = MembershipFactory(group=group, status="pending")
    client.post(reverse("groups:membership_action", args=[pending.pk, "approve"]))
    assert Membership.objects.get(pk=pending.pk).status == "member"
    client.post(reverse("groups:membership_action", args=[added.pk, "remove"]))
    assert Membership.objects.get(pk=added.pk).status == "left"
    remove_other = reverse("groups:membership_action", args=[pending.pk, "remove"])
    assert _as(client, group_member).post(remove_other).status_code == 404


def test_it_lets_coordinators_add_sessions_and_change_one(
    client, group, coordinator, facilitator, other_coordinator
):
    url = reverse("groups:series_create", args=[group.pk])
    assert _as(client, facilitator).get(url).status_code == 403
    assert _as(client, other_coordinator).get(url).status_code == 404
    start = timezone.localdate() + dt.timedelta(days=3)
    _as(client, coordinator).post(
        url,
        {
            "frequency": "weekly",
            "start_date": start.isoformat(),
            "start_time": "18:00",
            "duration_minutes": 90,
        },
    )
    series = SessionSeries.objects.get(group=group)
    assert series.sessions.count() == 12
    edit_series = reverse("groups:series_edit", args=[series.pk])
    assert client.get(edit_series).status_code == 200
    assert _as(client, other_coordinator).get(edit_series).status_code == 404
    session = series.sessions.first()
    edit = reverse("groups:session_edit", args=[session.pk])
    assert client.get(edit).status_code == 404
    _as(client, coordinator).post(
        edit,
        {
            "date": (start + dt.timedelta(days=1)).isoformat(),
            "start_time": "17:00",
            "duration_minutes": 60,
            "capacity": 4,
        },
    )
    session.refresh_from_db()
    assert session.is_moved and session.capacity == 4
    client.post(reverse("groups:session_cancel", args=[session.pk]))
    assert GroupSession.objects.get(pk=session.pk).status == "cancelled"
    cancel = reverse("groups:session_cancel", args=[series.sessions.last().pk])
    assert _as(client, other_coordinator).post(cancel).status_code == 404


def test_it_lets_facilitators_mark_attendance_with_and_without_htmx(
    client, group, facilitator, group_member
):
    session = GroupSessionFactory(group=group, starts_at=timezone.now() - dt.timedelta(hours=2))
    sheet = reverse("groups:attendance", args=[session.pk])
    mark = reverse("groups:attendance_mark", args=[session.pk, group_member.pk])
    assert _as(client, group_member).get(sheet).status_code == 404
    assert client.post(mark, {"status": "present"}).status_code == 404
    assert group_member.display_name in _as(client, facilitator).get(sheet).text
    response = client.post(mark, {"status": "present"})
    assert response.status_code == 302
    response = client.post(mark, {"status": "absent"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'aria-pressed="true"' in response.text
    assert "<html" not in response.text
    assert Attendance.objects.get(session=session, user=group_member).status == "absent"


def test_it_shows_attendance_figures_to_coordinators(
    client, group, coordinator, other_coordinator, facilitator, group_member
):
    session = GroupSessionFactory(group=group, starts_at=timezone.now() - dt.timedelta(hours=2))
    Attendance.objects.create(session=session, user=group_member, status="present")
    url = reverse("groups:attendance_report", args=[group.pk])
    response = _as(client, coordinator).get(url)
    assert response.status_code == 200 and group_member.display_name in response.text
    assert _as(client, other_coordinator).get(url).status_code == 404
    assert _as(client, facilitator).get(url).status_code == 403


# --- bounded queries ----------------------------------------------------------------------


def _populate(programme, groups: int, members: int, sessions: int):
    """Every other session has fewer places than members; half the places are saved and
    one person waits for one."""
    made = []
    for _ in range(groups):
        group = GroupFactory(programme=programme, capacity=members + 5)
        people = [m.user for m in MembershipFactory.create_batch(members, group=group)]
        for day in range(sessions):
            session = GroupSessionFactory(
                group=group,
                starts_at=timezone.now() + dt.timedelta(days=day + 1),
                capacity=max(members - 1, 1) if day % 2 else None,
            )
            if session.capacity:
                saved = people[: session.capacity // 2]
                SessionBooking.objects.bulk_create(
                    [SessionBooking(session=session, user=p, status="booked") for p in saved]
                    + [SessionBooking(session=session, user=people[-1], status="waiting")]
                )
        made.append(group)
    return made


@pytest.mark.parametrize("size", [(2, 2, 2), (12, 8, 10)])
def test_it_lists_groups_in_a_bounded_number_of_queries(
    client, programme, member, size, django_assert_max_num_queries
):
    _populate(programme, *size)
    _as(client, member)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("groups:list"))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [(2, 2), (30, 20)])
def test_it_shows_the_group_page_in_a_bounded_number_of_queries(
    client, programme, size, django_assert_max_num_queries
):
    (group,) = _populate(programme, 1, *size)
    person = Membership.objects.filter(group=group).first().user
    group.facilitators.add(
        *[
            factories.SupporterEnrolmentFactory(programme=programme).user
            for _ in range(size[0] // 2 + 1)
        ]
    )
    _as(client, person)
    with django_assert_max_num_queries(16):
        response = client.get(group.get_absolute_url())
    assert response.status_code == 200


@pytest.mark.parametrize("size", [(2, 2), (30, 20)])
def test_it_shows_the_run_page_in_a_bounded_number_of_queries(
    client, programme, coordinator, size, django_assert_max_num_queries
):
    (group,) = _populate(programme, 1, *size)
    _as(client, coordinator)
    with django_assert_max_num_queries(18):
        response = client.get(reverse("groups:manage", args=[group.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [(2, 2), (30, 20)])
def test_it_shows_my_sessions_and_calendars_in_a_bounded_number_of_queries(
    client, programme, size, django_assert_max_num_queries
):
    groups = _populate(programme, 3, *size)
    person = Membership.objects.filter(group=groups[0]).order_by("pk").last().user
    for group in groups[1:]:
        MembershipFactory(group=group, user=person)
    _as(client, person)
    response = client.post(reverse("groups:feed_change"), {"action": "new"}, follow=True)
    feed_url = response.context["feed_url"]
    session = GroupSession.objects.filter(group=groups[0], capacity__isnull=False).first()
    with django_assert_max_num_queries(14):
        page = client.get(reverse("groups:my_sessions"))
    assert "You are number 1 on the waiting list for this session." in page.text
    with django_assert_max_num_queries(10):
        assert client.get(reverse("groups:session_ics", args=[session.pk])).status_code == 200
    client.logout()
    with django_assert_max_num_queries(7):
        assert b"STATUS:TENTATIVE" in client.get(feed_url).content


@pytest.mark.parametrize("size", [(2, 2), (30, 20)])
def test_it_shows_who_saved_a_place_in_a_bounded_number_of_queries(
    client, programme, coordinator, size, django_assert_max_num_queries
):
    (group,) = _populate(programme, 1, *size)
    session = GroupSession.objects.filter(group=group, capacity__isnull=False).first()
    _as(client, coordinator)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("groups:attendance", args=[session.pk]))
    assert "Saved a place" in response.text
    with django_assert_max_num_queries(14):
        assert client.get(reverse("groups:session_edit", args=[session.pk])).status_code == 200
