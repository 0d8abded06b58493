"""Token pages: landing from a link or an invitation, decline, continue, clinician invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals import services
from referrals.attribution import SESSION_LINK, SESSION_REFERRAL
from referrals.models import Clinician, Referral, ReferralLink
from tests import factories
from tests.factories import TEST_PASSWORD
from tests.referrals.factories import (
    ClinicianInvitationFactory,
    ReferralFactory,
    ReferralLinkFactory,
)

pytestmark = pytest.mark.django_db

UNKNOWN = "A" * 43


def _landing(token):
    return reverse("referrals:link_landing", kwargs={"token": token})


def _invited(token):
    return reverse("referrals:invitation_landing", kwargs={"token": token})


def _body_without_csrf(response) -> str:
    import re

    body = response.content.decode()
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", body)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", body)


def test_link_landing_explains_the_programme_and_counts_a_visit(client, programme):
    link = ReferralLinkFactory(programme=programme)
    response = client.get(_landing(link.token))
    assert response.status_code == 200
    content = response.content.decode()
    assert programme.summary in content
    assert "For myself" in content and "For someone I care for" in content
    assert ReferralLink.objects.get(pk=link.pk).visit_count == 1
    assert client.session[SESSION_LINK] == link.pk


def test_unknown_and_revoked_link_tokens_get_the_same_response(client, programme, clinician):
    link = services.referral_link_create(user=clinician, programme=programme)
    services.referral_link_revoke(user=clinician, link=link)
    unknown = client.get(_landing(UNKNOWN))
    revoked = client.get(_landing(link.token))
    assert unknown.status_code == revoked.status_code == 404
    assert _body_without_csrf(unknown) == _body_without_csrf(revoked)
    assert "could not find this link" in unknown.content.decode()
    assert ReferralLink.objects.get(pk=link.pk).visit_count == 0
    assert client.get(_landing("not-a-token")).status_code == 404


def test_an_expired_link_says_what_to_do_next(client, programme):
    link = ReferralLinkFactory(programme=programme, expires_at=timezone.now() - timedelta(days=1))
    response = client.get(_landing(link.token))
    assert response.status_code == 410
    assert "run out" in response.content.decode()
    assert programme.get_absolute_url() in response.content.decode()


def test_token_endpoints_are_rate_limited_per_address(client, programme, settings):
    settings.REFERRALS_TOKEN_RATE_LIMIT = 3
    link = ReferralLinkFactory(programme=programme)
    for _ in range(3):
        assert client.get(_landing(UNKNOWN)).status_code == 404
    assert client.get(_landing(link.token)).status_code == 429
    assert client.get(_invited(UNKNOWN)).status_code == 429
    other = client.get(_landing(link.token), REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 200


def test_behind_a_trusted_proxy_each_client_has_its_own_limit(client, programme, settings):
    settings.REFERRALS_TOKEN_RATE_LIMIT = 2
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    link = ReferralLinkFactory(programme=programme)
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    for _ in range(2):
        client.get(_landing(UNKNOWN), HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
    assert (
        client.get(_landing(link.token), HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code
        == 429
    )
    # Another patient coming through the same proxy is not held back by the first.
    assert (
        client.get(_landing(link.token), HTTP_X_FORWARDED_FOR="198.51.100.8", **proxy).status_code
        == 200
    )


def test_without_a_trusted_proxy_a_forged_forwarded_for_header_changes_nothing(
    client, programme, settings
):
    settings.REFERRALS_TOKEN_RATE_LIMIT = 2
    link = ReferralLinkFactory(programme=programme)
    for n in range(2):
        client.get(_landing(UNKNOWN), HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")
    assert client.get(_landing(link.token), HTTP_X_FORWARDED_FOR="198.51.100.9").status_code == 429


def test_invitation_landing_marks_opened_and_prefills_the_verified_email(client, programme):
    referral = ReferralFactory(programme=programme)
    response = client.get(_invited(referral.token))
    assert response.status_code == 200
    assert "No thanks" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "opened"
    assert client.session[SESSION_REFERRAL] == referral.pk
    assert client.session["account_verified_email"] == referral.email


def test_unknown_and_withdrawn_invitations_get_the_same_response(client, programme):
    referral = ReferralFactory(programme=programme)
    services.referral_withdraw(clinician_user=referral.clinician.user, referral=referral)
    unknown = client.get(_invited(UNKNOWN))
    withdrawn = client.get(_invited(referral.token))
    assert unknown.status_code == withdrawn.status_code == 404
    assert _body_without_csrf(unknown) == _body_without_csrf(withdrawn)


def test_an_expired_invitation_says_what_to_do_next(client, programme):
    referral = ReferralFactory(programme=programme, expires_at=timezone.now() - timedelta(hours=1))
    response = client.get(_invited(referral.token))
    assert response.status_code == 410
    assert "run out" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "sent"


def test_a_used_invitation_says_sign_in(client, programme):
    referral = ReferralFactory(programme=programme)
    services.referral_attach_user(referral=referral, user=factories.UserFactory(), new_account=True)
    response = client.get(_invited(referral.token))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_the_patient_declines_in_one_click(client, programme):
    referral = ReferralFactory(programme=programme)
    url = reverse("referrals:invitation_decline", kwargs={"token": referral.token})
    assert client.get(url).status_code == 405
    response = client.post(url)
    assert response.status_code == 200
    assert "Nobody will contact you" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == "declined"
    again = client.get(_invited(referral.token))
    assert again.status_code == 410 and "said no thanks" in again.content.decode()


def test_continue_without_a_referral_goes_to_the_directory(client):
    response = client.get(reverse("referrals:continue"))
    assert response.url == reverse("programmes:directory")


def test_continue_sends_a_visitor_to_sign_up_then_to_join(client, programme):
    link = ReferralLinkFactory(programme=programme)
    client.get(_landing(link.token))
    response = client.get(reverse("referrals:continue") + "?role=caregiver")
    assert response.url.startswith(reverse("account_signup"))
    assert "next=%2Freferrals%2Fcontinue%2F%3Frole%3Dcaregiver" in response.url
    login = client.get(reverse("referrals:continue") + "?role=patient&have_account=1")
    assert login.url.startswith(reverse("account_login"))


def test_a_signed_in_visitor_is_attributed_and_sent_to_join(client, programme, stranger):
    link = ReferralLinkFactory(programme=programme)
    client.force_login(stranger)
    client.get(_landing(link.token))
    response = client.get(reverse("referrals:continue") + "?role=patient")
    assert (
        response.url
        == reverse("programmes:join", kwargs={"slug": programme.slug}) + "?role=patient"
    )
    referral = Referral.objects.get(link=link)
    assert referral.user == stranger and referral.new_account is False
    assert SESSION_LINK not in client.session


def test_sign_up_from_a_link_records_the_sign_up_and_then_the_enrolment(
    client, programme, settings
):
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"
    link = ReferralLinkFactory(programme=programme)
    client.get(_landing(link.token))
    next_url = reverse("referrals:continue") + "?role=patient"
    response = client.post(
        reverse("account_signup") + "?next=" + next_url,
        {
            "display_name": "Nell",
            "email": "nell@example.org",
            "password1": TEST_PASSWORD,
            "password2": TEST_PASSWORD,
            "next": next_url,
        },
    )
    assert response.status_code == 302 and response.url == next_url
    referral = Referral.objects.get(link=link)
    assert referral.new_account and referral.status == "registered"
    join = client.get(next_url)
    assert join.url.endswith("?role=patient")
    client.post(
        join.url.split("?")[0],
        {"role": "patient", "consent": "on", "consent_version": programme.privacy_notice_version},
    )
    referral.refresh_from_db()
    assert referral.status == "enrolled"
    counted = ReferralLink.objects.with_counts().get(pk=link.pk)
    assert (counted.visit_count, counted.sign_up_count, counted.enrolment_count) == (1, 1, 1)


def test_sign_up_from_an_invitation_needs_no_second_email_check(client, programme, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"
    referral = ReferralFactory(programme=programme, email="kofi@example.org")
    client.get(_invited(referral.token))
    form = client.get(reverse("account_signup"))
    assert 'value="kofi@example.org"' in form.content.decode()
    next_url = reverse("referrals:continue") + "?role=patient"
    response = client.post(
        reverse("account_signup"),
        {
            "display_name": "Kofi",
            "email": "kofi@example.org",
            "password1": TEST_PASSWORD,
            "password2": TEST_PASSWORD,
            "next": next_url,
        },
    )
    assert response.url == next_url  # signed in straight away: the e-mail is proven
    referral.refresh_from_db()
    assert referral.status == "registered" and referral.user.email == "kofi@example.org"


def test_clinician_invitation_page_and_acceptance(client, organisation):
    invitation = ClinicianInvitationFactory(practice__organisation=organisation)
    url = reverse("referrals:clinician_invitation", kwargs={"token": invitation.token})
    response = client.get(url)
    assert response.status_code == 200
    assert "Create an account" in response.content.decode()
    accept = reverse("referrals:clinician_invitation_accept")
    assert client.get(accept).status_code == 302  # sign in first
    person = factories.UserFactory()
    client.force_login(person)
    assert client.get(accept).status_code == 200
    response = client.post(accept, {"job_title": "Practice nurse"})
    assert response.url == reverse("referrals:clinician_home")
    clinician = Clinician.objects.get(user=person)
    assert clinician.is_approved and clinician.job_title == "Practice nurse"
    used = client.get(url)
    assert used.status_code == 410


def test_unknown_clinician_invitation_and_accept_without_one(client, stranger):
    assert (
        client.get(reverse("referrals:clinician_invitation", kwargs={"token": UNKNOWN})).status_code
        == 404
    )
    client.force_login(stranger)
    assert client.get(reverse("referrals:clinician_invitation_accept")).status_code == 404


def test_expired_clinician_invitation(client):
    invitation = ClinicianInvitationFactory(expires_at=timezone.now() - timedelta(days=1))
    response = client.get(
        reverse("referrals:clinician_invitation", kwargs={"token": invitation.token})
    )
    assert response.status_code == 410


def test_a_link_to_a_closed_programme_says_so(client, programme):
    link = ReferralLinkFactory(programme=programme)
    programme.status = "closed"
    programme.save()
    response = client.get(_landing(link.token))
    assert response.status_code == 410
    assert "not taking new people" in response.content.decode()
