from __future__ import annotations

import pytest

from tests.notifications.factories import NotificationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_member_sees_the_bell_reads_a_notice_and_sets_choices_on_a_phone(
    phone, live_server, login, axe_check, shot, member
):
    NotificationFactory(user=member, title="Reminder: Tuesday circle tomorrow", url="")
    NotificationFactory(user=member, title="A place is free", url="")
    login(phone, member)
    phone.goto(f"{live_server.url}/notifications/")
    assert phone.get_by_role("heading", name="Your notices").is_visible()
    axe_check(phone)
    shot(phone, "notifications-list-phone")
    buttons = phone.get_by_role("button", name="Mark as read")
    assert buttons.count() == 2
    buttons.first.click()  # htmx swaps just this notice
    phone.wait_for_function("document.querySelectorAll('.list-group-item-warning').length === 1")
    phone.get_by_role("button", name="Mark all as read").click()
    phone.wait_for_load_state()
    assert phone.get_by_role("button", name="Mark all as read").count() == 0
    phone.goto(f"{live_server.url}/notifications/preferences/")
    axe_check(phone)
    phone.get_by_label("By text message").check()
    phone.get_by_label("Quiet hours start").fill("21:00")
    phone.get_by_label("Quiet hours end").fill("08:00")
    phone.get_by_role("button", name="Save my choices").click()
    assert phone.get_by_text("Your choices are saved.").is_visible()
    shot(phone, "notifications-preferences-phone")
