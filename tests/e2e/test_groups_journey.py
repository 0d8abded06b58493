"""Peer groups on a phone: find, join, calendar, waiting list promotion, a place at a session
with fewer places than members, attendance, moderation."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups import services
from groups.models import Attendance, Membership, Post
from tests import factories
from tests.e2e.conftest import PHONE
from tests.groups.factories import GroupSessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _phone_page(browser):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_members_join_wait_get_promoted_and_a_facilitator_runs_the_group(
    browser, phone, live_server, login, axe_check, shot
):
    organisation = factories.OrganisationFactory(name="Northfield Health")
    coordinator = factories.CoordinatorFactory(organisation=organisation).user
    programme = factories.ProgrammeFactory(organisation=organisation, name="Diabetes peers")
    facilitator = factories.SupporterEnrolmentFactory(programme=programme).user
    amy, ben, cat = (
        factories.EnrolmentFactory(programme=programme, user__display_name=name).user
        for name in ("Amy Member", "Ben Member", "Cat Member")
    )
    group = services.group_create(
        user=coordinator,
        programme=programme,
        facilitators=[facilitator],
        name="Tuesday evening group",
        description="We chat about food, tablets and feeling well.",
        format="hybrid",
        venue_address="Community Centre\n1 High Street",
        meeting_link="https://meet.example.org/tuesday",
        capacity=2,
        time_zone="Europe/London",
    )
    services.series_create(
        user=coordinator,
        group=group,
        frequency="weekly",
        start_date=timezone.localdate() + dt.timedelta(days=2),
        start_time=dt.time(18, 0),
        duration_minutes=90,
    )
    url = live_server.url

    # Amy finds the group from her programme card and joins with one tap.
    page = phone
    login(page, amy)
    page.goto(f"{url}/my/programmes/")
    page.get_by_role("link", name="Find a group").click()
    expect(page.get_by_role("heading", name="Find a group")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Join Tuesday evening group").click()
    expect(page.get_by_text("You have joined Tuesday evening group")).to_be_visible()
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Add to my calendar")).first.click()
    ics = Path(download.value.path()).read_text()
    assert "BEGIN:VEVENT" in ics and "TZID=Europe/London" in ics
    shot(page, "groups-member-joined-phone")

    # Ben takes the last place; Cat joins the waiting list.
    ben_page = _phone_page(browser)
    login(ben_page, ben)
    ben_page.goto(f"{url}/groups/{group.pk}/")
    axe_check(ben_page)
    ben_page.get_by_role("button", name="Join this group").click()
    expect(ben_page.get_by_text("You are a member of this group.")).to_be_visible()

    cat_page = _phone_page(browser)
    login(cat_page, cat)
    cat_page.goto(f"{url}/groups/")
    expect(cat_page.get_by_text("Full: you can join the waiting list")).to_be_visible()
    axe_check(cat_page)
    cat_page.get_by_role("button", name="Join the waiting list for Tuesday evening group").click()
    expect(cat_page.get_by_text("You are number 1 on the waiting list")).to_be_visible()
    axe_check(cat_page)

    # Amy leaves; Cat is offered the place and accepts it.
    page.goto(f"{url}/groups/{group.pk}/")
    page.get_by_role("button", name="Leave this group").click()
    expect(page.get_by_text("You have left Tuesday evening group")).to_be_visible()
    cat_page.goto(f"{url}/my/groups/")
    axe_check(cat_page)
    cat_page.get_by_role("link", name="Tuesday evening group").click()
    expect(cat_page.get_by_text("A place is free for you!")).to_be_visible()
    axe_check(cat_page)
    cat_page.get_by_role("button", name="Yes, take the place").click()
    expect(cat_page.get_by_text("You are a member of this group.")).to_be_visible()
    shot(cat_page, "groups-promoted-phone")
    assert Membership.objects.get(group=group, user=cat).status == "member"

    # One week the group meets in a smaller room: one place for its two members. Ben saves
    # it; Cat sees the session is full and waits; Ben cancels and the place is Cat's.
    small = group.sessions.order_by("starts_at").first()
    local = small.local_start
    services.session_reschedule(
        user=coordinator,
        session=small,
        date=local.date(),
        start_time=local.time(),
        duration_minutes=90,
        capacity=1,
    )
    ben_page.goto(f"{url}/groups/{group.pk}/")
    expect(ben_page.get_by_text("Only 1 place at this session")).to_be_visible()
    axe_check(ben_page)
    ben_page.get_by_role("button", name=re.compile("Save my place")).click()
    expect(ben_page.get_by_text("Your place is saved")).to_be_visible()
    expect(ben_page.get_by_text("You have a place.")).to_be_visible()
    axe_check(ben_page)
    cat_page.goto(f"{url}/my/sessions/")
    expect(cat_page.get_by_text("This session is full.")).to_be_visible()
    axe_check(cat_page)
    cat_page.get_by_role("button", name=re.compile("Join the waiting list")).click()
    expect(
        cat_page.get_by_text("You are number 1 on the waiting list for this session.")
    ).to_be_visible()
    axe_check(cat_page)
    ben_page.get_by_role("button", name=re.compile("Cancel my place")).click()
    expect(ben_page.get_by_text("Your place is cancelled")).to_be_visible()
    expect(ben_page.get_by_text("This session is full.")).to_be_visible()
    cat_page.reload()
    expect(cat_page.get_by_text("You have a place.")).to_be_visible()
    axe_check(cat_page)
    shot(cat_page, "groups-session-place-phone")
    assert list(small.bookings.values_list("user", "status")) == [(cat.pk, "booked")]

    # Ben starts a conversation after agreeing to the guidelines; Cat reports the post.
    ben_page.goto(f"{url}/groups/{group.pk}/")
    ben_page.get_by_role("link", name="Group discussion").click()
    axe_check(ben_page)
    ben_page.get_by_role("link", name="Start a conversation").click()
    expect(ben_page.get_by_role("heading", name="Group guidelines")).to_be_visible()
    axe_check(ben_page)
    ben_page.get_by_role("button", name="I agree").click()
    ben_page.get_by_label("Title").fill("Cheap tablets")
    ben_page.get_by_label("Your message").fill("Buy cheap tablets at example.org")
    axe_check(ben_page)
    ben_page.get_by_role("button", name="Post").click()
    expect(ben_page.get_by_role("heading", name="Cheap tablets")).to_be_visible()
    axe_check(ben_page)
    thread_url = ben_page.url

    cat_page.goto(thread_url)
    cat_page.get_by_role("link", name="Report this message").click()
    axe_check(cat_page)
    cat_page.get_by_label("What is wrong with this post?").fill("It is an advert.")
    cat_page.get_by_role("button", name="Send report").click()
    expect(cat_page.get_by_text("A facilitator will look at this post")).to_be_visible()

    # The facilitator marks attendance for the last session and hides the post.
    past = GroupSessionFactory(
        group=group, starts_at=timezone.now() - dt.timedelta(days=1), series=None
    )
    Membership.objects.filter(group=group, user=amy).update(status="left")
    fac_page = _phone_page(browser)
    login(fac_page, facilitator)
    fac_page.goto(f"{url}/my/groups/")
    fac_page.get_by_role("link", name="Tuesday evening group").click()
    axe_check(fac_page)
    fac_page.goto(f"{url}/manage/sessions/{past.pk}/attendance/")
    expect(fac_page.get_by_role("heading", name="Who came")).to_be_visible()
    axe_check(fac_page)
    ben_row = fac_page.get_by_role("group", name="Ben Member")
    ben_row.get_by_role("button", name="Came").click()
    expect(
        fac_page.get_by_role("group", name="Ben Member").get_by_role("button", name="Came")
    ).to_have_attribute("aria-pressed", "true")
    cat_row = fac_page.get_by_role("group", name="Cat Member")
    cat_row.get_by_role("button", name="Sent apologies").click()
    expect(
        fac_page.get_by_role("group", name="Cat Member").get_by_role(
            "button", name="Sent apologies"
        )
    ).to_have_attribute("aria-pressed", "true")
    axe_check(fac_page)
    shot(fac_page, "groups-attendance-phone")
    assert Attendance.objects.get(session=past, user=ben).status == "present"
    assert Attendance.objects.get(session=past, user=cat).status == "apologies"

    # The facilitator sees who has a place at the smaller session.
    fac_page.goto(f"{url}/manage/sessions/{small.pk}/attendance/")
    places = fac_page.get_by_role("region", name="Places at this session")
    expect(places.get_by_text("1 of 1 places saved.")).to_be_visible()
    expect(places.get_by_role("listitem").filter(has_text="Cat Member")).to_be_visible()
    axe_check(fac_page)

    fac_page.goto(f"{url}/manage/moderation/")
    expect(fac_page.get_by_text("It is an advert.")).to_be_visible()
    axe_check(fac_page)
    fac_page.get_by_role("button", name="Hide the message").click()
    expect(fac_page.get_by_text("The post is hidden from members")).to_be_visible()
    assert Post.objects.get(thread__group=group).is_hidden
    cat_page.goto(thread_url)
    expect(cat_page.get_by_text("A facilitator hid this message.")).to_be_visible()
    axe_check(cat_page)
