"""The whole journey in a real browser, with a real Celery worker and beat (issue 9).

A clinician makes a referral link; a patient follows it on a phone, signs up, joins the
programme and a group, and asks for a buddy. A coordinator runs matching from the browser and
approves the proposal; patient and supporter accept and exchange messages. Beat's dispatcher
sends the session reminder by e-mail with its calendar file, the calendar feed lists the session,
and the clinician sees that the person from their link is taking part.

The live server runs in this process; the worker and beat are subprocesses on the same test
database and Redis broker, writing e-mail to files in the test's folder. Nothing runs eagerly.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from email.message import Message

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups import services as group_services
from groups.models import GroupSession
from matching.models import MatchRun, Pairing
from referrals.models import Referral
from tests import factories
from tests.e2e.conftest import PHONE
from tests.factories import TEST_PASSWORD
from tests.groups.factories import GroupSessionFactory
from tests.matching.factories import SupporterProfileFactory
from tests.worker import Beat, Worker, flush_broker, sent_mail, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PATIENT_EMAIL = "rita@example.org"


@pytest.fixture
def celery_stack(tmp_path, live_server, settings):
    """A worker and beat for this test; links in their e-mails point at the live server."""
    from peersupport.celery import app

    settings.SITE_URL = live_server.url
    app.conf.task_always_eager = False
    flush_broker()
    env = {"SITE_URL": live_server.url}
    # Beat first: its first dispatch comes a minute after it starts, and the worker's start-up
    # counts towards that minute.
    beat = Beat(tmp_path, "beat", env=env, wait=False)
    worker = Worker(tmp_path, pool="threads", args=["--concurrency=2"], env=env)
    beat.wait_ready()
    yield tmp_path / "mail"
    beat.stop()
    worker.stop()


def _new_page(browser, viewport=PHONE):
    mobile = viewport == PHONE
    context = browser.new_context(viewport=viewport, is_mobile=mobile, has_touch=mobile)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def _shots(page, shot, name: str) -> None:
    """Save the page at phone and at desktop width, then put the page back as it was.

    At phone width nothing may stick out sideways: the page must not scroll left and right.
    """
    size = page.viewport_size
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        shot(page, f"journey-{name}-{label}")
        wide = page.evaluate("document.documentElement.scrollWidth")
        assert wide <= viewport["width"], f"{page.url} is {wide}px wide at {label} width"
    page.set_viewport_size(size)


def _seed():
    organisation = factories.OrganisationFactory(name="Northfield Health")
    programme = factories.ProgrammeFactory(
        organisation=organisation,
        name="Type 2 diabetes peer support",
        summary="Meet people who live with type 2 diabetes.",
    )
    clinician = factories.ClinicianFactory(
        practice__organisation=organisation,
        practice__name="Riverside Surgery",
        user__display_name="Dr Asha Patel",
    ).user
    coordinator = factories.CoordinatorFactory(
        organisation=organisation, user__display_name="Cora Coordinator"
    ).user
    supporter = SupporterProfileFactory(
        enrolment__programme=programme, enrolment__user__display_name="Sam Supporter"
    ).enrolment.user
    group = group_services.group_create(
        user=coordinator,
        programme=programme,
        name="Tuesday evening group",
        description="We chat about food, tablets and feeling well.",
        format="online",
        meeting_link="https://meet.example.org/tuesday",
        capacity=8,
        time_zone="Europe/London",
    )
    # The default reminders come 24 hours and 1 hour before. Starting a day and a few
    # seconds from now, the 24-hour one (which carries the calendar file) falls due at once,
    # and beat's next dispatch after the patient joins sends it.
    session = GroupSessionFactory(
        group=group, series=None, starts_at=timezone.now() + dt.timedelta(days=1, seconds=5)
    )
    return programme, clinician, coordinator, supporter, session


def test_a_referred_patient_joins_a_group_gets_a_buddy_and_a_reminder(
    browser, live_server, login, axe_check, shot, celery_stack
):
    started = time.monotonic()
    timings: dict[str, float] = {}
    url = live_server.url
    programme, clinician, coordinator, supporter, session = _seed()

    # 1a. The clinician makes a referral link for the waiting room.
    doctor = _new_page(browser, DESKTOP)
    login(doctor, clinician, check=axe_check)
    doctor.goto(f"{url}/clinician/")
    axe_check(doctor)
    doctor.get_by_role("link", name="Make a referral link or poster").click()
    doctor.get_by_label("Label (optional)").fill("Diabetes clinic waiting room")
    axe_check(doctor)
    doctor.get_by_role("button", name="Make link").click()
    expect(doctor.get_by_role("heading", name="Your poster")).to_be_visible()
    axe_check(doctor)
    _shots(doctor, shot, "poster")
    link_url = doctor.locator(".poster .short-url").inner_text().strip()
    assert link_url.startswith(f"{url}/r/")

    # 1b. The patient types the poster's address on her phone, signs up and joins.
    patient = _new_page(browser)
    patient.goto(link_url)
    expect(patient.get_by_role("heading", name="Type 2 diabetes peer support")).to_be_visible()
    axe_check(patient)
    _shots(patient, shot, "landing")
    patient.get_by_role("link", name="For myself").click()
    expect(patient).to_have_url(re.compile(r"/accounts/signup/"))
    axe_check(patient)
    patient.get_by_label("Your name").fill("Rita Recipient")
    patient.get_by_label("Email").fill(PATIENT_EMAIL)
    patient.locator("input[name=password1]").fill(TEST_PASSWORD)
    patient.locator("input[name=password2]").fill(TEST_PASSWORD)
    patient.get_by_role("button", name="Sign Up").click()
    expect(patient).to_have_url(re.compile(r"/join/\?role=patient"))
    axe_check(patient)
    patient.get_by_label("I have read the privacy notice").check()
    patient.get_by_role("button", name="Join").click()
    expect(patient.get_by_text("Welcome! You have joined")).to_be_visible()
    axe_check(patient)

    # 1c. She joins a group from her programme card.
    patient.get_by_role("link", name="Find a group").click()
    expect(patient.get_by_role("heading", name="Find a group")).to_be_visible()
    axe_check(patient)
    patient.get_by_role("button", name="Join Tuesday evening group").click()
    expect(patient.get_by_text("You have joined Tuesday evening group")).to_be_visible()
    axe_check(patient)
    _shots(patient, shot, "group-joined")

    # 1d. She asks for a buddy.
    patient.goto(f"{url}/my/programmes/")
    patient.get_by_role("link", name="Ask for a buddy").click()
    expect(patient.get_by_role("heading", name="Ask for a buddy")).to_be_visible()
    axe_check(patient)
    patient.get_by_label("The same condition").check()
    patient.get_by_label("Type 2 diabetes", exact=True).check()
    patient.get_by_label("Tuesday evening").check()
    patient.get_by_label("Thursday evening").check()
    patient.get_by_label("Phone calls").check()
    patient.get_by_role("button", name="Send").click()
    expect(patient.get_by_text("We will look for a buddy for you")).to_be_visible()
    expect(patient.get_by_text("You are waiting for a buddy.")).to_be_visible()
    axe_check(patient)
    _shots(patient, shot, "my-programmes-waiting")
    referral = Referral.objects.get(programme=programme, kind="link")
    assert referral.user.email == PATIENT_EMAIL and referral.status == "active"
    timings["1 referral to buddy request"] = time.monotonic() - started

    # 2a. The coordinator starts matching and watches the run until proposals appear.
    desk = _new_page(browser, DESKTOP)
    login(desk, coordinator, check=axe_check)
    desk.goto(f"{url}/manage/programmes/{programme.pk}/")
    axe_check(desk)
    desk.get_by_role("link", name="Buddy matching").first.click()
    expect(desk.get_by_role("heading", name="Buddy matching")).to_be_visible()
    axe_check(desk)
    polls: list[int] = []
    desk.on(
        "response",
        lambda response: polls.append(response.status) if "/progress/" in response.url else None,
    )
    desk.get_by_role("button", name="Find buddies for 1 person").click()
    expect(desk).to_have_url(re.compile(r"/manage/match-runs/\d+/$"))
    progress = desk.locator("#run-progress")
    expect(progress.get_by_role("progressbar")).to_be_visible()
    polling = progress.get_attribute("hx-get") is not None
    if polling:
        axe_check(desk)  # the page while the run is going
        _shots(desk, shot, "match-run-progress")
    card = desk.locator("article").filter(has_text="Rita Recipient + Sam Supporter")
    expect(card).to_be_visible(timeout=90_000)
    run = MatchRun.objects.get(programme=programme)
    assert run.status == "done" and run.proposals_count == 1, run.error
    if polling:
        # htmx polled the progress panel and reloaded the page once the run was done.
        assert polls and set(polls) == {200}
    expect(progress).to_contain_text("100%")
    axe_check(desk)
    _shots(desk, shot, "match-run-proposals")
    timings["2a match run"] = time.monotonic() - started

    # 2b. She approves the proposal and introduces them.
    card.get_by_role("button", name="Approve").click()
    expect(desk.get_by_text("Approved. You can now introduce them")).to_be_visible()
    axe_check(desk)
    desk.goto(f"{url}/manage/programmes/{programme.pk}/pairings/")
    axe_check(desk)
    desk.get_by_role("link", name="Rita Recipient").click()
    axe_check(desk)
    desk.get_by_role("button", name="Introduce them").click()
    expect(desk.locator(".badge").filter(has_text="Introduced")).to_be_visible()
    axe_check(desk)

    # 2c. Both say yes on their phones and exchange messages.
    patient.goto(f"{url}/my/buddies/")
    axe_check(patient)
    patient.get_by_role("link", name="Sam Supporter").click()
    expect(patient.get_by_role("heading", name="Meet Sam Supporter")).to_be_visible()
    axe_check(patient)
    patient.get_by_label("I agree to these rules").check()
    patient.get_by_role("button", name="Yes, I would like to start").click()
    expect(patient.get_by_text("We are waiting for the other person.")).to_be_visible()
    pairing_url = patient.url

    buddy = _new_page(browser)
    login(buddy, supporter, check=axe_check)
    buddy.goto(f"{url}/my/buddies/")
    axe_check(buddy)
    buddy.get_by_role("link", name="Rita Recipient").click()
    expect(buddy.get_by_role("heading", name="Supporting Rita Recipient")).to_be_visible()
    axe_check(buddy)
    buddy.get_by_label("I agree to these rules").check()
    buddy.get_by_role("button", name="Yes, I would like to start").click()
    expect(buddy.get_by_text("You have both said yes")).to_be_visible()
    buddy.get_by_label("Your message").fill("Hello Rita, lovely to meet you.")
    buddy.get_by_role("button", name="Send message").click()
    expect(buddy.get_by_text("Message sent")).to_be_visible()
    axe_check(buddy)

    patient.goto(pairing_url)
    expect(patient.get_by_text("Hello Rita, lovely to meet you.")).to_be_visible()
    patient.get_by_label("Your message").fill("Thank you Sam! Thursday evening suits me.")
    patient.get_by_role("button", name="Send message").click()
    expect(patient.get_by_text("Message sent")).to_be_visible()
    axe_check(patient)
    _shots(patient, shot, "pairing-messages")
    buddy.goto(pairing_url)
    expect(buddy.get_by_text("Thursday evening suits me.")).to_be_visible()
    pairing = Pairing.objects.get(programme=programme)
    assert pairing.status == "active" and pairing.messages.count() == 2
    timings["2 matching to messages"] = time.monotonic() - started

    # 3a. Beat's dispatcher sends the session reminder by e-mail, with the calendar file.
    def reminder() -> Message | None:
        """the session reminder e-mail to reach the patient"""
        for message in sent_mail(celery_stack):
            if PATIENT_EMAIL in (message["To"] or "") and "Reminder" in message["Subject"]:
                return message
        return None

    message = wait_until(reminder, timeout=150, interval=0.5)
    timings["3a reminder e-mail arrived"] = time.monotonic() - started
    assert "Tuesday evening group" in message["Subject"]
    calendars = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert len(calendars) == 1 and calendars[0].get_filename() == "session.ics"
    ics = calendars[0].get_payload(decode=True).decode()
    uid = re.search(r"^UID:(\S+)", ics, re.M).group(1)
    assert uid.startswith(f"groupsession-{session.pk}@")
    assert "SUMMARY:Tuesday evening group" in ics and "TZID=Europe/London" in ics
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    group_link = re.search(rf"{re.escape(url)}/groups/\d+/", text.get_payload(decode=True).decode())
    assert group_link is not None

    # 3b. She opens the e-mail's link and sees the reminder in the bell's list too.
    patient.goto(group_link.group(0))
    expect(patient.get_by_role("heading", name="Tuesday evening group")).to_be_visible()
    axe_check(patient)
    patient.goto(f"{url}/notifications/")
    expect(
        patient.get_by_role("heading", name=re.compile("Reminder: Tuesday evening group"))
    ).to_be_visible()
    axe_check(patient)

    # 3c. Her private calendar feed lists the same session.
    patient.goto(f"{url}/my/sessions/")
    expect(patient.get_by_role("link", name="Tuesday evening group", exact=True)).to_be_visible()
    axe_check(patient)
    patient.get_by_role("button", name="Make my calendar address").click()
    feed_url = patient.get_by_label("Your private calendar address").input_value()
    axe_check(patient)
    _shots(patient, shot, "my-sessions-calendar")
    feed = patient.context.request.get(feed_url)
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    assert f"UID:{uid}" in feed.text() and "SUMMARY:Tuesday evening group" in feed.text()
    assert GroupSession.objects.filter(pk=session.pk, status="scheduled").exists()

    # 4. The clinician sees that the person from the link is taking part.
    doctor.goto(f"{url}/clinician/")
    row = doctor.get_by_role("row").filter(has_text="Diabetes clinic waiting room")
    headers = [h.strip() for h in doctor.locator("table").nth(1).locator("th").all_inner_texts()]
    cells = [c.strip() for c in row.locator("td").all_inner_texts()]
    counts = dict(zip(headers, cells, strict=False))
    assert counts["Sign-ups"] == "1" and counts["Joined"] == "1"
    assert counts["Taking part"] == "1"
    axe_check(doctor)
    _shots(doctor, shot, "clinician-home")
    timings["total"] = time.monotonic() - started
    print("journey timings (s):", {k: round(v, 1) for k, v in timings.items()})
    print(f"match run progress: polled by htmx {len(polls)} times" if polling else "run done")
