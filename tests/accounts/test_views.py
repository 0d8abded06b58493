from __future__ import annotations

import time

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.core import mail
from django.urls import reverse

from accounts.models import User
from tests import factories

pytestmark = pytest.mark.django_db


def test_it_signs_up_with_a_name_and_sends_a_verification_email(client):
    response = client.post(
        reverse("account_signup"),
        {
            "display_name": "Ann Example",
            "email": "ann@example.org",
            "password1": "a long enough pass phrase",
            "password2": "a long enough pass phrase",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(email="ann@example.org")
    assert user.display_name == "Ann Example"
    assert len(mail.outbox) == 1
    assert "ann@example.org" in mail.outbox[0].to


def test_signup_keeps_what_was_typed_when_passwords_differ(client):
    response = client.post(
        reverse("account_signup"),
        {
            "display_name": "Ann Example",
            "email": "ann@example.org",
            "password1": "a long enough pass phrase",
            "password2": "something else entirely",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'value="Ann Example"' in body
    assert 'value="ann@example.org"' in body
    assert "There is a problem" in body


def test_login_page_uses_the_site_layout(client):
    response = client.get(reverse("account_login"))
    body = response.content.decode()
    assert 'href="#main"' in body
    assert "btn btn-primary" in body
    assert "form-control" in body


def test_it_rate_limits_failed_logins(client):
    user = factories.UserFactory()
    for _ in range(6):
        response = client.post(
            reverse("account_login"), {"login": user.email, "password": "wrong password"}
        )
    assert "Too many failed login attempts" in response.content.decode()
    # Even the right password is refused until the limit passes.
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": factories.TEST_PASSWORD}
    )
    assert response.status_code == 200


def test_a_coordinator_without_mfa_must_set_it_up_first(client, organisation):
    staff = factories.CoordinatorFactory(organisation=organisation, mfa=False)
    client.force_login(staff.user)
    response = client.get(reverse("programmes:manage_list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")
    # The set-up page is not caught by the same rule (allauth may first ask for the password).
    followed = client.get(reverse("mfa_activate_totp"))
    assert followed.status_code in (200, 302)
    if followed.status_code == 302:
        assert followed["Location"].startswith("/accounts/")


def test_a_member_is_not_forced_to_use_mfa(client, member):
    client.force_login(member)
    assert client.get(reverse("programmes:mine")).status_code == 200


def test_a_coordinator_with_mfa_is_asked_for_a_code_at_login(client, coordinator):
    assert Authenticator.objects.filter(user=coordinator).exists()
    response = client.post(
        reverse("account_login"),
        {"login": coordinator.email, "password": factories.TEST_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")


@pytest.mark.parametrize(("steps_back", "accepted"), [(0, True), (1, True), (2, False)])
def test_a_code_from_the_step_just_gone_still_signs_in(client, coordinator, steps_back, accepted):
    # Ten seconds into a 30-second step, so the step cannot turn over during the test.
    with time_machine.travel(1_800_000_010, tick=False):
        client.post(
            reverse("account_login"),
            {"login": coordinator.email, "password": factories.TEST_PASSWORD},
        )
        counter = int(time.time()) // 30 - steps_back
        code = format_hotp_value(hotp_value(factories.TEST_TOTP_SECRET, counter))
        client.post(reverse("mfa_authenticate"), {"code": code})
        signed_in = client.session.get("_auth_user_id") == str(coordinator.pk)
    assert signed_in is accepted


def test_profile_needs_login(client):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


def test_profile_edits_only_the_signed_in_person(client, member, stranger):
    client.force_login(member)
    response = client.post(
        reverse("accounts:profile"),
        {"display_name": "New Name", "phone": "07700 900123", "time_zone": "Europe/Paris"},
    )
    assert response.status_code == 302
    member.refresh_from_db()
    stranger.refresh_from_db()
    assert member.display_name == "New Name"
    assert member.time_zone == "Europe/Paris"
    assert stranger.display_name != "New Name"


def test_profile_keeps_input_on_error(client, member):
    client.force_login(member)
    response = client.post(
        reverse("accounts:profile"),
        {"display_name": "Kept Name", "phone": "", "time_zone": "Not/AZone"},
    )
    assert response.status_code == 200
    assert 'value="Kept Name"' in response.content.decode()
