from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from programmes.models import Enrolment, Programme
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_coordinator_creates_and_opens_a_programme_and_a_member_enrols(
    desktop, phone, live_server, login, axe_check, shot
):
    organisation = factories.OrganisationFactory(name="Northfield Health")
    coordinator = factories.CoordinatorFactory(organisation=organisation).user
    member = factories.UserFactory(display_name="Maya Member")

    # The coordinator signs in with a password and an authenticator code.
    page = desktop
    login(page, coordinator)
    page.goto(f"{live_server.url}/manage/programmes/")
    expect(page.get_by_role("heading", name="Your programmes")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="New programme").click()
    page.get_by_label("Name").fill("Kidney disease peer support")
    page.get_by_label("Summary").fill("Meet people who live with kidney disease.")
    page.get_by_label("What happens if you join").fill("You join a group and can ask for a buddy.")
    page.get_by_label("Condition or experience").fill("Kidney disease")
    page.get_by_label("Privacy notice").fill("We keep your name to run the programme.")
    axe_check(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Kidney disease peer support")).to_be_visible()
    page.get_by_role("button", name="Open programme").click()
    expect(page.get_by_text("is now open")).to_be_visible()
    shot(page, "foundation-coordinator-programme-desktop")
    assert Programme.objects.get(name="Kidney disease peer support").status == "open"

    # A member finds it in the directory on a phone and enrols.
    page = phone
    login(page, member)
    page.goto(f"{live_server.url}/programmes/")
    page.get_by_role("textbox", name="Search").fill("kidney")
    page.get_by_role("button", name="Search").click()
    axe_check(page)
    page.get_by_role("link", name="Kidney disease peer support").click()
    axe_check(page)
    page.get_by_role("link", name="Join for myself").click()
    expect(page).to_have_url(re.compile(r"/join/"))
    axe_check(page)
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_role("alert")).to_contain_text("Please tick the box")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Join").click()
    expect(page.get_by_text("Welcome! You have joined")).to_be_visible()
    axe_check(page)
    shot(page, "foundation-member-mine-phone")
    enrolment = Enrolment.objects.get(user=member)
    assert enrolment.role == "patient" and enrolment.status == "active"
    assert enrolment.consent_version == 1
