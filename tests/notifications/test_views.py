from __future__ import annotations

import pytest
from django.urls import reverse

from notifications import services
from notifications.models import (
    Delivery,
    Notification,
    NotificationPreference,
    OrganisationNotificationSettings,
)
from tests.factories import UserFactory

from .factories import DeliveryFactory, NotificationFactory

pytestmark = pytest.mark.django_db


def _login(client, user):
    client.force_login(user)
    return client


# --- the bell and the list -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["notifications:list", "notifications:bell", "notifications:preferences"]
)
def test_it_sends_anonymous_people_to_sign_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_it_lists_only_the_persons_own_notices(client, member, stranger):
    mine = NotificationFactory(user=member, title="Your group meets tomorrow")
    NotificationFactory(user=stranger, title="Someone else's reminder")
    body = _login(client, member).get(reverse("notifications:list")).content.decode()
    assert mine.title in body
    assert "Someone else" not in body


@pytest.mark.parametrize("count", [3, 30])
def test_the_list_runs_a_fixed_number_of_queries(
    client, member, django_assert_max_num_queries, count
):
    NotificationFactory.create_batch(count, user=member)
    _login(client, member)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("notifications:list"))
    assert response.status_code == 200


def test_the_bell_shows_the_unread_count_on_every_page(client, member):
    NotificationFactory.create_batch(2, user=member)
    NotificationFactory(user=member, read_at="2026-01-01T00:00Z")
    _login(client, member)
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="bell"' in body
    assert ">2</span>" in body
    partial = client.get(reverse("notifications:bell")).content.decode()
    assert ">2</span>" in partial


def test_opening_a_notice_marks_it_read_and_follows_its_link(client, member):
    notice = NotificationFactory(user=member, url="/notifications/preferences/")
    response = _login(client, member).post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/notifications/preferences/"
    notice.refresh_from_db()
    assert notice.read_at is not None


def test_it_never_follows_a_link_to_another_site(client, member):
    notice = NotificationFactory(user=member, url="https://evil.example.com/")
    response = _login(client, member).post(reverse("notifications:open", args=[notice.pk]))
    assert response["Location"] == reverse("notifications:list")


def test_marking_read_with_htmx_returns_the_item(client, member):
    notice = NotificationFactory(user=member, url="")
    response = _login(client, member).post(
        reverse("notifications:open", args=[notice.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "notifications-changed"
    assert f'id="notice-{notice.pk}"' in response.content.decode()


def test_nobody_can_open_someone_elses_notice(client, member, stranger):
    notice = NotificationFactory(user=stranger)
    response = _login(client, member).post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_opening_needs_sign_in(client, member):
    notice = NotificationFactory(user=member)
    response = client.post(reverse("notifications:open", args=[notice.pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_mark_all_read_touches_only_the_persons_own(client, member, stranger):
    NotificationFactory.create_batch(3, user=member)
    other = NotificationFactory(user=stranger)
    response = _login(client, member).post(reverse("notifications:read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(user=member, read_at__isnull=True).exists()
    other.refresh_from_db()
    assert other.read_at is None


# --- preferences -------------------------------------------------------------------------


def test_a_person_saves_their_choices(client, member):
    _login(client, member)
    assert client.get(reverse("notifications:preferences")).status_code == 200
    response = client.post(
        reverse("notifications:preferences"),
        {
            "email_enabled": "on",
            "sms_enabled": "on",
            "kinds": ["session_reminder", "waiting_list_offer"],
            "session_reminder_offsets": ["120", "15"],
            "quiet_start": "21:30",
            "quiet_end": "07:30",
            "preferred_language": "en-gb",
        },
    )
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=member)
    assert pref.email_enabled and pref.sms_enabled and not pref.in_app_enabled
    assert "session_change" in pref.muted_kinds
    assert "session_reminder" not in pref.muted_kinds
    assert pref.session_reminder_offsets == [120, 15]
    assert str(pref.quiet_start) == "21:30:00"
    assert {"checkin_nudge", "buddy_news"} <= set(pref.muted_kinds)


def test_the_choices_offer_buddy_news_and_check_in_nudges(client, member):
    page = _login(client, member).get(reverse("notifications:preferences")).content.decode()
    assert 'value="buddy_news"' in page and "News about buddy pairings" in page
    assert 'value="checkin_nudge"' in page and "Buddy check-in reminders" in page
    assert 'value="pairing_proposed"' not in page


def test_it_asks_for_both_ends_of_quiet_hours(client, member):
    response = _login(client, member).post(
        reverse("notifications:preferences"),
        {"email_enabled": "on", "quiet_start": "22:00", "preferred_language": "en-gb"},
    )
    assert response.status_code == 200
    assert "Give both a start and an end" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=member).exists()


# --- unsubscribe -------------------------------------------------------------------------


def test_the_unsubscribe_link_shows_a_confirmation_page_and_changes_nothing(client, member):
    token = services.unsubscribe_token(user_id=member.pk, kind="session_reminder")
    response = client.get(reverse("notifications:unsubscribe", args=[token]))
    assert response.status_code == 200
    assert "Yes, stop them" in response.content.decode()
    assert not NotificationPreference.objects.filter(user=member).exists()


def test_one_click_unsubscribe_works_without_signing_in_or_csrf(member):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    token = services.unsubscribe_token(user_id=member.pk, kind="session_reminder")
    response = client.post(
        reverse("notifications:unsubscribe", args=[token]),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert NotificationPreference.objects.get(user=member).muted_kinds == ["session_reminder"]
    client.post(reverse("notifications:unsubscribe", args=[token]))
    assert NotificationPreference.objects.get(user=member).muted_kinds == ["session_reminder"]


def test_a_forged_unsubscribe_link_does_nothing(client, member):
    token = services.unsubscribe_token(user_id=member.pk, kind="session_reminder")
    response = client.post(reverse("notifications:unsubscribe", args=[token[:-2] + "xx"]))
    assert response.status_code == 400
    assert not NotificationPreference.objects.filter(user=member).exists()


# --- coordinators: undelivered messages and reminder times -----------------------------------


def test_a_coordinator_sees_failed_messages_of_their_organisation_only(
    client, coordinator, organisation, other_coordinator
):
    mine = DeliveryFactory(organisation=organisation, status="failed", last_error="SMTPError")
    other_org = other_coordinator.staff_memberships.get().organisation
    DeliveryFactory(organisation=other_org, status="failed", last_error="OtherOrgError")
    body = _login(client, coordinator).get(reverse("notifications:failed")).content.decode()
    assert mine.user.display_name in body
    assert "OtherOrgError" not in body


@pytest.mark.parametrize("count", [2, 20])
def test_the_failed_list_runs_a_fixed_number_of_queries(
    client, coordinator, organisation, django_assert_max_num_queries, count
):
    DeliveryFactory.create_batch(count, organisation=organisation, status="failed")
    _login(client, coordinator)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("notifications:failed")).status_code == 200


@pytest.mark.parametrize("who", ["member", "clinician", "stranger"])
def test_people_who_are_not_coordinators_cannot_see_failed_messages(client, request, who):
    user = request.getfixturevalue(who)
    assert _login(client, user).get(reverse("notifications:failed")).status_code == 403


def test_a_coordinator_can_try_a_failed_message_again(client, coordinator, organisation):
    delivery = DeliveryFactory(organisation=organisation, status="failed", attempts=5)
    response = _login(client, coordinator).post(
        reverse("notifications:failed_retry", args=[delivery.pk])
    )
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 0


def test_a_coordinator_cannot_retry_another_organisations_message(client, coordinator):
    delivery = DeliveryFactory(organisation=None, status="failed")
    response = _login(client, coordinator).post(
        reverse("notifications:failed_retry", args=[delivery.pk])
    )
    assert response.status_code == 404
    assert Delivery.objects.get(pk=delivery.pk).status == "failed"


def test_a_coordinator_changes_the_organisations_reminder_times(client, coordinator, organisation):
    url = reverse("notifications:organisation_settings", args=[organisation.pk])
    _login(client, coordinator)
    assert client.get(url).status_code == 200
    response = client.post(url, {"session_reminder_offsets": ["2880", "120"]})
    assert response.status_code == 302
    saved = OrganisationNotificationSettings.objects.get(organisation=organisation)
    assert saved.session_reminder_offsets == [2880, 120]


def test_reminder_times_of_another_organisation_are_not_found(
    client, organisation, other_coordinator
):
    url = reverse("notifications:organisation_settings", args=[organisation.pk])
    assert _login(client, other_coordinator).get(url).status_code == 404


def test_members_cannot_change_reminder_times(client, member, organisation):
    url = reverse("notifications:organisation_settings", args=[organisation.pk])
    assert _login(client, member).get(url).status_code == 403


def test_the_programme_page_links_to_undelivered_messages(client, coordinator, programme):
    body = (
        _login(client, coordinator)
        .get(reverse("programmes:manage_detail", args=[programme.pk]))
        .content.decode()
    )
    assert reverse("notifications:failed") in body
    assert reverse("notifications:organisation_settings", args=[programme.organisation_id]) in body


def test_a_new_person_has_sensible_defaults():
    pref = services.preference_for(UserFactory())
    assert pref.email_enabled and pref.in_app_enabled and not pref.sms_enabled
