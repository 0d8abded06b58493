"""Pages for places at a session with fewer places than members, and for people whose
waiting-list offer ran out: each role that may use them, and each that may not."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from groups import bookings, membership
from groups.models import Membership, SessionBooking
from tests import factories
from tests.groups.factories import GroupFactory, GroupSessionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _as(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def people(group):
    return [MembershipFactory(group=group).user for _ in range(3)]


@pytest.fixture
def small_session(group, people):
    """Three members, two places."""
    return GroupSessionFactory(group=group, capacity=2)


def _place_url(session):
    return reverse("groups:session_place", args=[session.pk])


def _statuses(session):
    return dict(session.bookings.values_list("user_id", "status"))


# --- saving a place ---------------------------------------------------------------------------


def test_a_member_saves_and_cancels_a_place_from_the_group_page(
    client, group, small_session, people
):
    page = _as(client, people[0]).get(group.get_absolute_url()).text
    assert "Only 2 places at this session" in page and "Save my place" in page
    response = client.post(_place_url(small_session), {"action": "save"})
    assert response.status_code == 302
    assert response["Location"].endswith(f"/groups/{group.pk}/#session-{small_session.pk}")
    assert _statuses(small_session) == {people[0].pk: "booked"}
    page = client.get(group.get_absolute_url()).text
    assert "You have a place." in page and "Cancel my place" in page
    assert "I cannot come" not in page  # cancelling the place says it
    response = client.post(_place_url(small_session), {"action": "cancel"}, follow=True)
    assert "Your place is cancelled." in response.text
    assert _statuses(small_session) == {}


def test_a_member_without_a_place_sees_the_session_is_full_and_can_wait_or_send_apologies(
    client, group, small_session, people
):
    for person in people[:2]:
        bookings.session_place_save(user=person, session=small_session)
    _as(client, people[2])
    page = client.get(group.get_absolute_url()).text
    assert "This session is full." in page
    assert "Join the waiting list" in page and "I cannot come" in page
    response = client.post(_place_url(small_session), {"action": "save"}, follow=True)
    assert "the last place has just gone" in response.text
    response = client.post(
        _place_url(small_session), {"action": "wait", "next": "sessions"}, follow=True
    )
    assert response.redirect_chain[-1][0].endswith(
        reverse("groups:my_sessions") + f"#session-{small_session.pk}"
    )
    assert "You are number 1 on the waiting list for this session." in response.text
    assert "Leave this waiting list" in response.text
    response = client.post(_place_url(small_session), {"action": "cancel"}, follow=True)
    assert "You have left the waiting list for this session." in response.text
    client.post(_place_url(small_session), {"action": "wait"})
    # Someone cancels: the place is theirs.
    bookings.session_place_cancel(user=people[0], session=small_session)
    assert "You have a place." in client.get(reverse("groups:my_sessions")).text


def test_my_sessions_offers_to_save_a_place(client, small_session, people):
    page = _as(client, people[0]).get(reverse("groups:my_sessions")).text
    assert "Save my place" in page and "2 places left. Save yours to come." in page
    client.post(_place_url(small_session), {"action": "save", "next": "sessions"})
    assert _statuses(small_session) == {people[0].pk: "booked"}


def test_nobody_but_members_saves_a_place(
    client, group, small_session, member, stranger, coordinator, other_coordinator
):
    facilitator = factories.SupporterEnrolmentFactory(programme=group.programme).user
    group.facilitators.add(facilitator)
    waiting = MembershipFactory(group=group, status="waiting", waiting_since=timezone.now())
    other_member = MembershipFactory(group__programme=group.programme).user
    url = _place_url(small_session)
    for person in (member, stranger, coordinator, other_coordinator, waiting.user, other_member):
        assert _as(client, person).post(url, {"action": "save"}).status_code == 404
    # A facilitator runs the session rather than takes a place at it.
    assert _as(client, facilitator).post(url, {"action": "save"}).status_code == 403
    client.logout()
    assert client.post(url, {"action": "save"}).status_code == 302  # to sign in
    assert not small_session.bookings.exists()


def test_it_refuses_unknown_actions_and_get(client, small_session, people):
    _as(client, people[0])
    assert client.post(_place_url(small_session), {"action": "steal"}).status_code == 404
    assert client.get(_place_url(small_session)).status_code == 405


def test_it_shows_no_booking_where_everyone_fits(client, group, people):
    roomy = GroupSessionFactory(group=group, capacity=3)
    page = _as(client, people[0]).get(group.get_absolute_url()).text
    assert "Only 3 places at this session" in page and "Save my place" not in page
    assert _as(client, people[0]).post(_place_url(roomy), {"action": "save"}).status_code == 302


def test_facilitators_and_coordinators_see_who_saved_a_place(
    client, group, small_session, people, coordinator, other_coordinator, member
):
    facilitator = factories.SupporterEnrolmentFactory(programme=group.programme).user
    group.facilitators.add(facilitator)
    bookings.session_place_save(user=people[1], session=small_session)
    bookings.session_place_save(user=people[0], session=small_session)
    waiting_for = people[2]
    bookings.session_place_save(user=people[2], session=small_session, wait_if_full=True)
    url = reverse("groups:attendance", args=[small_session.pk])
    for person in (facilitator, coordinator):
        page = _as(client, person).get(url).text
        assert "2 of 2 places saved. The group has 3 members." in page
        saved = page.split("Saved a place")[1].split("Waiting for a place")[0]
        assert saved.index(people[1].display_name) < saved.index(people[0].display_name)
        assert waiting_for.display_name in page.split("Waiting for a place")[1]
        run = _as(client, person).get(reverse("groups:manage", args=[group.pk])).text
        assert "2 of 2 places saved, 1 waiting" in run
    assert "2 of 2 places saved." in _as(client, facilitator).get(group.get_absolute_url()).text
    for person in (other_coordinator, member, people[0]):
        assert _as(client, person).get(url).status_code == 404


def test_cutting_places_below_those_saved_keeps_them_and_says_so(
    client, coordinator, group, small_session, people
):
    for person in people[:2]:
        bookings.session_place_save(user=person, session=small_session)
    url = reverse("groups:session_edit", args=[small_session.pk])
    page = _as(client, coordinator).get(url).text
    assert "2 of 2 places saved. The group has 3 members." in page
    local = small_session.local_start
    response = client.post(
        url,
        {
            "date": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "duration_minutes": 90,
            "capacity": 1,
        },
        follow=True,
    )
    assert "2 people had already saved a place, more than the 1 place you set." in response.text
    assert "nobody has been taken off" in response.text
    assert len(_statuses(small_session)) == 2


def test_giving_a_session_fewer_places_tells_the_coordinator_members_save_one(
    client, coordinator, group, people
):
    session = GroupSessionFactory(group=group)
    local = session.local_start
    response = _as(client, coordinator).post(
        reverse("groups:session_edit", args=[session.pk]),
        {
            "date": local.date().isoformat(),
            "start_time": local.strftime("%H:%M"),
            "duration_minutes": 90,
            "capacity": 2,
        },
        follow=True,
    )
    assert "members save a place on the group page. 0 of 2 places are saved." in response.text


def _event(content: bytes, session):
    for event in Calendar.from_ical(content).walk("VEVENT"):
        if str(event["uid"]).startswith(f"groupsession-{session.pk}@"):
            return event
    raise AssertionError("session not in the calendar")


def _event_status(content: bytes, session) -> str:
    return str(_event(content, session)["status"])


def test_calendars_show_a_session_without_a_place_as_not_confirmed(
    client, group, small_session, people
):
    bookings.session_place_save(user=people[0], session=small_session)
    url = reverse("groups:session_ics", args=[small_session.pk])
    assert _event_status(_as(client, people[0]).get(url).content, small_session) == "CONFIRMED"
    content = _as(client, people[1]).get(url).content
    assert _event_status(content, small_session) == "TENTATIVE"
    assert "Save your place on the group page" in str(_event(content, small_session)["description"])
    response = client.post(reverse("groups:feed_change"), {"action": "new"}, follow=True)
    feed_url = response.context["feed_url"]
    client.logout()
    assert _event_status(client.get(feed_url).content, small_session) == "TENTATIVE"
    bookings.session_place_save(user=people[1], session=small_session)
    assert _event_status(client.get(feed_url).content, small_session) == "CONFIRMED"


# --- an offer that ran out ----------------------------------------------------------------


@pytest.fixture
def full_group(programme):
    return GroupFactory(programme=programme, capacity=1)


def _offer_and_let_it_run_out(group, times=1, others_waiting=0):
    holder = MembershipFactory(group=group)
    person = factories.EnrolmentFactory(programme=group.programme).user
    membership.membership_join(user=person, group=group)
    for _ in range(others_waiting):
        other = factories.EnrolmentFactory(programme=group.programme).user
        membership.membership_join(user=other, group=group)
    membership.membership_leave(user=holder.user, membership=holder)
    for n in range(times):
        with time_machine.travel(timezone.now() + dt.timedelta(hours=49 * (n + 1)), tick=False):
            membership.offers_expire()
    return Membership.objects.get(group=group, user=person)


def test_the_group_page_says_the_offer_ran_out_and_they_are_still_waiting(client, full_group):
    mine = _offer_and_let_it_run_out(full_group, others_waiting=1)
    assert mine.status == "waiting"
    page = _as(client, mine.user).get(full_group.get_absolute_url()).text
    assert "The place we offered you was not taken in time" in page
    assert "You are still on the waiting list." in page
    assert "You are number 1 on the waiting list" in page  # the other person holds the offer
    assert "Leave the waiting list" in page
    mine_page = client.get(reverse("groups:mine")).text
    assert "Your offer of a place ran out, but you are still on the waiting list." in mine_page


def test_after_two_offers_ran_out_they_say_they_still_want_a_place(
    client, full_group, member, coordinator, other_coordinator
):
    mine = _offer_and_let_it_run_out(full_group, times=2)
    assert mine.offers_paused
    url = reverse("groups:waiting_stay", args=[full_group.pk])
    assert client.post(url).status_code == 302  # to sign in
    for person in (member, coordinator, other_coordinator):
        assert _as(client, person).post(url).status_code == 404
    assert Membership.objects.get(pk=mine.pk).offers_paused
    _as(client, mine.user)
    assert "We have stopped offering you places" in client.get(reverse("groups:mine")).text
    page = client.get(full_group.get_absolute_url()).text
    assert "Yes, I still want a place" in page and "Leave the waiting list" in page
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "A place was free, so it is yours." in response.text
    assert Membership.objects.get(pk=mine.pk).status == "member"
    assert client.post(url).status_code == 404  # no longer waiting


def test_the_run_page_marks_people_who_did_not_answer_offers(client, full_group, coordinator):
    mine = _offer_and_let_it_run_out(full_group, times=2)
    page = _as(client, coordinator).get(reverse("groups:manage", args=[full_group.pk])).text
    assert mine.user.display_name in page
    assert "did not answer two offers" in page


def test_nobody_else_sees_the_booking_list(client, small_session, stranger):
    SessionBooking.objects.create(
        session=small_session, user=small_session.group.memberships.first().user, status="booked"
    )
    url = reverse("groups:attendance", args=[small_session.pk])
    assert _as(client, stranger).get(url).status_code == 404
