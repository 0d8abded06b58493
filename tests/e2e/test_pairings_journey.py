"""A buddy pairing from introduction to a good ending, on phones."""

from __future__ import annotations

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from matching.models import Pairing
from tests import factories
from tests.e2e.conftest import PHONE
from tests.matching.factories import BuddyRequestFactory, PairingFactory, SupporterProfileFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_recipient_and_a_supporter_are_introduced_talk_and_finish(
    browser, phone, live_server, login, axe_check, shot
):
    programme = factories.ProgrammeFactory(name="Diabetes buddies")
    recipient = factories.UserFactory(display_name="Rita Recipient")
    supporter = factories.UserFactory(display_name="Sam Supporter")
    request = BuddyRequestFactory(
        enrolment__programme=programme, enrolment__user=recipient, status="paired"
    )
    profile = SupporterProfileFactory(enrolment__programme=programme, enrolment__user=supporter)
    pairing = PairingFactory(
        request=request, supporter=profile, status="introduced", introduced_at=timezone.now()
    )
    url = f"{live_server.url}/my/buddies/{pairing.pk}/"

    # The recipient reads about the supporter and accepts the agreement.
    page = phone
    login(page, recipient)
    page.goto(f"{live_server.url}/my/buddies/")
    axe_check(page)
    page.get_by_role("link", name="Sam Supporter").click()
    expect(page.get_by_role("heading", name="Meet Sam Supporter")).to_be_visible()
    expect(page.get_by_text("Our agreement")).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="Yes, I would like to start").click()
    expect(page.get_by_role("alert")).to_contain_text("Please tick the box")
    page.get_by_label("I agree to these rules").check()
    page.get_by_role("button", name="Yes, I would like to start").click()
    expect(page.get_by_text("You said yes. We are waiting for the other person.")).to_be_visible()

    # The supporter accepts on their phone; now they can talk.
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    other = context.new_page()
    other.set_default_timeout(15_000)
    login(other, supporter)
    other.goto(url)
    expect(other.get_by_role("heading", name="Supporting Rita Recipient")).to_be_visible()
    other.get_by_label("I agree to these rules").check()
    other.get_by_role("button", name="Yes, I would like to start").click()
    expect(other.get_by_text("You have both said yes")).to_be_visible()
    other.get_by_label("Your message").fill("Hello Rita, call me on 07700 900 123")
    other.get_by_role("button", name="Send message").click()
    expect(other.get_by_role("alert")).to_contain_text("keep in touch through this website")
    axe_check(other)
    other.get_by_label("Your message").fill("Hello Rita, lovely to meet you.")
    other.get_by_role("button", name="Send message").click()
    expect(other.get_by_text("Message sent")).to_be_visible()
    axe_check(other)

    # The recipient reads it and replies.
    page.goto(url)
    expect(page.get_by_text("Hello Rita, lovely to meet you.")).to_be_visible()
    page.get_by_label("Your message").fill("Thank you Sam! Tuesday evening suits me.")
    page.get_by_role("button", name="Send message").click()
    expect(page.get_by_text("Message sent")).to_be_visible()
    shot(page, "pairing-messages-phone")

    # The supporter logs the conversation.
    other.goto(url)
    expect(other.get_by_text("Tuesday evening suits me.")).to_be_visible()
    other.get_by_role("link", name="Log a conversation").click()
    axe_check(other)
    other.get_by_label("How long (minutes)").fill("40")
    other.get_by_label("Phone call").check()
    other.get_by_label("Short note").fill("Talked about starting to walk more.")
    other.get_by_role("button", name="Save").click()
    expect(other.get_by_text("Saved. Thank you.")).to_be_visible()
    context.close()

    # The recipient ends the pairing as completed.
    page.goto(url)
    page.get_by_role("link", name="End the pairing").click()
    axe_check(page)
    page.get_by_label("We finished as planned").check()
    page.get_by_role("button", name="End the pairing").click()
    expect(page.get_by_text("The pairing has ended")).to_be_visible()
    axe_check(page)
    shot(page, "pairing-ended-phone")

    pairing.refresh_from_db()
    assert pairing.status == Pairing.Status.ENDED and pairing.ending == "completed"
    assert pairing.ended_by == recipient
    assert pairing.messages.count() == 2 and pairing.contact_logs.count() == 1
