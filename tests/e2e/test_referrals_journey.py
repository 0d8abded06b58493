"""A clinician's referral link and a named referral, followed through to enrolment."""

from __future__ import annotations

import re
import socket

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from notifications.models import Delivery
from referrals import services
from referrals.models import Referral, ReferralLink
from tests import factories
from tests.e2e.conftest import PHONE
from tests.factories import TEST_PASSWORD
from tests.notifications.helpers import dispatch_and_send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager_celery():
    from peersupport.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = old


def _sign_up(page, name: str, email: str | None) -> None:
    page.get_by_label("Your name").fill(name)
    if email is not None:
        page.get_by_label("Email").fill(email)
    page.locator("input[name=password1]").fill(TEST_PASSWORD)
    page.locator("input[name=password2]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign Up").click()


def _join(page, axe_check) -> None:
    expect(page).to_have_url(re.compile(r"/join/\?role="))
    axe_check(page)
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text("Welcome! You have joined")).to_be_visible()


def test_referral_link_and_named_referral_journey(
    browser, desktop, phone, live_server, login, axe_check, shot, eager_celery
):
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
    coordinator = factories.CoordinatorFactory(organisation=organisation).user

    # The clinician makes a link for the waiting room and opens its poster.
    page = desktop
    login(page, clinician)
    page.goto(f"{live_server.url}/clinician/")
    expect(page.get_by_role("heading", name="Your referrals")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="Make a referral link or poster").click()
    page.get_by_label("Label (optional)").fill("Diabetes clinic waiting room")
    axe_check(page)
    page.get_by_role("button", name="Make link").click()
    expect(page.get_by_role("heading", name="Your poster")).to_be_visible()
    expect(page.locator(".poster svg")).to_be_visible()
    expect(page.locator(".poster")).to_contain_text("Meet people who live with type 2 diabetes.")
    axe_check(page)
    shot(page, "referrals-poster-desktop")
    link = ReferralLink.objects.get()
    path = link.url.split("/r/", 1)[1]

    # A visitor follows the poster's link on a phone, signs up and joins.
    visitor = phone
    visitor.goto(f"{live_server.url}/r/{path}")
    expect(visitor.get_by_role("heading", name="Type 2 diabetes peer support")).to_be_visible()
    axe_check(visitor)
    shot(visitor, "referrals-landing-phone")
    visitor.get_by_role("link", name="For myself").click()
    expect(visitor).to_have_url(re.compile(r"/accounts/signup/"))
    _sign_up(visitor, "Vic Visitor", "vic@example.org")
    _join(visitor, axe_check)
    referral = Referral.objects.get(link=link)
    assert referral.status == "enrolled" and referral.new_account

    # The clinician refers a named patient; the invitation goes out by e-mail, through the
    # notifications ledger (the task queued when the referral is saved runs eagerly here).
    page.goto(f"{live_server.url}/clinician/")
    page.get_by_role("link", name="Refer a patient").click()
    page.get_by_label("Patient's name").fill("Rosa Green")
    page.get_by_label("E-mail").fill("rosa@example.org")
    page.get_by_label("The patient agreed that the programme may contact them").check()
    page.get_by_label("The patient agreed that I may see whether they took up the referral").check()
    axe_check(page)
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_text("Referral sent.")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Rosa Green")
    expect(row).to_contain_text("Sent")
    invitations = [m for m in mail.outbox if m.to == ["rosa@example.org"]]
    assert len(invitations) == 1
    token = re.search(r"/invited/([A-Za-z0-9_-]{43})/", invitations[0].body).group(1)
    named = Referral.objects.get(patient_name="Rosa Green")
    sent = Delivery.objects.for_referrals([named.pk]).get(kind="referral_invitation")
    assert sent.status == "sent" and sent.user is None

    # The coordinator sees the sign-up with its source, and that the named invitation went.
    page.context.clear_cookies()
    login(page, coordinator)
    page.goto(f"{live_server.url}/manage/programmes/{programme.pk}/")
    page.get_by_role("link", name="Referrals", exact=True).click()
    row = page.get_by_role("row").filter(has_text="Vic Visitor")
    expect(row).to_contain_text("Diabetes clinic waiting room")
    expect(row).to_contain_text("Riverside Surgery")
    axe_check(page)
    shot(page, "referrals-inbox-desktop")

    page.get_by_role("link", name="Rosa Green").click()
    messages = page.get_by_role("table", name="The invitation and the reminder")
    expect(
        messages.get_by_role("row").filter(has_text="Invitation after a referral")
    ).to_contain_text("Sent")
    expect(messages.get_by_role("row").filter(has_text="Reminder")).to_contain_text("Will go")
    axe_check(page)
    shot(page, "referrals-detail-desktop")
    page.context.clear_cookies()
    login(page, clinician)

    # The patient follows the e-mail on their phone, signs up (e-mail filled in) and joins.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    patient = context.new_page()
    patient.set_default_timeout(15_000)
    patient.goto(f"{live_server.url}/invited/{token}/")
    expect(patient.get_by_text("Dr Asha Patel thought this might help you.")).to_be_visible()
    axe_check(patient)
    patient.get_by_role("link", name="For myself").click()
    expect(patient.get_by_label("Email")).to_have_value("rosa@example.org")
    _sign_up(patient, "Rosa", None)
    _join(patient, axe_check)
    shot(patient, "referrals-patient-joined-phone")
    context.close()

    # The clinician sees the status change.
    page.goto(f"{live_server.url}/clinician/")
    row = page.get_by_role("row").filter(has_text="Rosa Green")
    expect(row).to_contain_text("Joined the programme")
    link_row = page.get_by_role("row").filter(has_text="Diabetes clinic waiting room")
    expect(link_row).to_contain_text("1")
    axe_check(page)
    shot(page, "referrals-clinician-home-desktop")


def test_a_coordinator_sees_an_invitation_that_could_not_be_sent_and_sends_it_again(
    desktop, live_server, login, axe_check, shot, eager_celery, settings
):
    organisation = factories.OrganisationFactory(name="Northfield Health")
    programme = factories.ProgrammeFactory(organisation=organisation)
    clinician = factories.ClinicianFactory(practice__organisation=organisation).user
    coordinator = factories.CoordinatorFactory(organisation=organisation).user
    # The mail server refuses connections (a port nobody listens on), and we give up at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 1
    referral = services.referral_create(
        clinician_user=clinician,
        programme=programme,
        patient_name="Rosa Green",
        email="rosa@example.org",
        contact_agreed=True,
        progress_consent=True,
    )
    invitation = Delivery.objects.for_referrals([referral.pk]).get(kind="referral_invitation")
    assert invitation.status == "failed"

    page = desktop
    login(page, coordinator)
    page.goto(f"{live_server.url}/manage/programmes/{programme.pk}/referrals/")
    row = page.get_by_role("row").filter(has_text="Rosa Green")
    expect(row).to_contain_text("Invitation could not be sent by e-mail")
    axe_check(page)
    row.get_by_role("link", name="Rosa Green").click()
    expect(page.get_by_text("Invitation could not be sent by e-mail.")).to_be_visible()
    messages = page.get_by_role("table", name="The invitation and the reminder")
    expect(messages.get_by_role("row").filter(has_text="Reminder")).to_contain_text(
        "Only once the invitation has gone"
    )
    axe_check(page)
    shot(page, "referrals-detail-failed-desktop")

    # The mail server is back; the coordinator tries again and the next dispatch sends it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    page.get_by_role("button", name="Try again").click()
    expect(page.get_by_text("We will try to send this message again")).to_be_visible()
    expect(page.get_by_role("heading", name="Rosa Green")).to_be_visible()
    dispatch_and_send(timezone.now())
    assert [m.to for m in mail.outbox] == [["rosa@example.org"]]
    page.reload()
    expect(messages.get_by_role("row").filter(has_text="Invitation after")).to_contain_text("Sent")
    expect(page.get_by_text("could not be sent")).to_have_count(0)
