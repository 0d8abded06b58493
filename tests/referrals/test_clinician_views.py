"""The clinician's pages, the poster and QR downloads, and the member's 'stop sharing' button."""

from __future__ import annotations

import pytest
from django.urls import reverse

from referrals import services
from referrals.models import Clinician, Referral, ReferralLink
from tests import factories
from tests.referrals.factories import ReferralFactory, ReferralLinkFactory

pytestmark = pytest.mark.django_db

HOME = "/clinician/"


def _refer_data(programme, **extra):
    data = {
        "programme": programme.pk,
        "patient_name": "Rosa Patient",
        "email": "rosa@example.org",
        "phone": "",
        "reason": "",
        "contact_agreed": "on",
        "progress_consent": "on",
    }
    data.update(extra)
    return data


def test_anonymous_people_are_sent_to_sign_in(client):
    for url in (HOME, reverse("referrals:refer"), reverse("referrals:link_create")):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_a_person_who_is_not_a_clinician_is_offered_registration(client, stranger):
    client.force_login(stranger)
    assert client.get(HOME).url == reverse("referrals:clinician_register")
    assert client.get(reverse("referrals:refer")).status_code == 403
    assert client.get(reverse("referrals:link_create")).status_code == 403


def test_clinician_registration_waits_for_approval(client, stranger, organisation):
    client.force_login(stranger)
    response = client.post(
        reverse("referrals:clinician_register"),
        {
            "organisation": organisation.pk,
            "practice_name": "Hill Surgery",
            "practice_kind": "gp",
            "practice_area": "North",
            "job_title": "GP",
        },
    )
    assert response.url == HOME
    assert Clinician.objects.get(user=stranger).status == "pending"
    page = client.get(HOME)
    assert "Waiting for approval" in page.content.decode()
    assert client.get(reverse("referrals:refer")).status_code == 403
    assert client.get(reverse("referrals:clinician_register")).url == HOME


def test_a_clinician_sees_only_their_own_referrals(client, clinician, other_clinician, programme):
    ReferralFactory(programme=programme, clinician=clinician.clinician, patient_name="Mine Person")
    ReferralFactory(
        programme=programme, clinician=other_clinician.clinician, patient_name="Their Person"
    )
    client.force_login(clinician)
    content = client.get(HOME).content.decode()
    assert "Mine Person" in content and "Their Person" not in content


def test_a_clinician_never_sees_reasons_or_notes_and_only_consented_status(
    client, clinician, coordinator, programme
):
    hidden = ReferralFactory(
        programme=programme,
        clinician=clinician.clinician,
        reason="very private reason",
        progress_consent=False,
        status=Referral.Status.ENROLLED,
    )
    services.referral_note_add(
        coordinator=coordinator, referral=hidden, text="secret coordinator note"
    )
    client.force_login(clinician)
    content = client.get(HOME).content.decode()
    assert "very private reason" not in content
    assert "secret coordinator note" not in content
    assert "Joined the programme" not in content
    assert ">Sent<" in content


def test_clinician_home_lists_links_with_counts(client, clinician, programme):
    link = ReferralLinkFactory(
        programme=programme, clinician=clinician.clinician, label="Foot clinic"
    )
    ReferralLink.objects.filter(pk=link.pk).update(visit_count=12)
    client.force_login(clinician)
    content = client.get(HOME).content.decode()
    assert "Foot clinic" in content and "12" in content
    assert "Taking part" in content


@pytest.mark.parametrize("size", [2, 12])
def test_clinician_home_runs_a_bounded_number_of_queries(
    client, clinician, programme, django_assert_max_num_queries, size
):
    for _ in range(size):
        ReferralFactory(programme=programme, clinician=clinician.clinician)
        ReferralLinkFactory(programme=programme, clinician=clinician.clinician)
    client.force_login(clinician)
    with django_assert_max_num_queries(12):
        assert client.get(HOME).status_code == 200


def test_a_referral_takes_one_form_and_is_listed(client, clinician, programme):
    client.force_login(clinician)
    assert client.get(reverse("referrals:refer")).status_code == 200
    response = client.post(reverse("referrals:refer"), _refer_data(programme))
    assert response.url == HOME
    referral = Referral.objects.get()
    assert (
        referral.clinician.user == clinician and referral.practice == clinician.clinician.practice
    )
    assert "Rosa Patient" in client.get(HOME).content.decode()


def test_the_referral_form_keeps_what_was_typed_on_error(client, clinician, programme):
    client.force_login(clinician)
    response = client.post(
        reverse("referrals:refer"),
        _refer_data(programme, email="", phone="", reason="short note", contact_agreed=""),
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="Rosa Patient"' in content and "short note" in content
    assert "e-mail address or a mobile number" in content
    assert "agreed to be contacted" in content
    assert not Referral.objects.exists()


def test_the_clinician_is_told_about_a_duplicate(client, clinician, other_clinician, programme):
    ReferralFactory(
        programme=programme, clinician=other_clinician.clinician, email="rosa@example.org"
    )
    client.force_login(clinician)
    response = client.post(
        reverse("referrals:refer"), _refer_data(programme, email="ROSA@example.org")
    )
    assert response.status_code == 200
    assert "already been referred" in response.content.decode()
    assert 'value="ROSA@example.org"' in response.content.decode()
    assert Referral.objects.count() == 1


def test_a_clinician_cannot_refer_to_another_organisations_programme(client, clinician):
    elsewhere = factories.ProgrammeFactory()
    client.force_login(clinician)
    response = client.post(reverse("referrals:refer"), _refer_data(elsewhere))
    assert response.status_code == 200
    assert not Referral.objects.exists()


def test_a_clinician_withdraws_their_own_referral_only(
    client, clinician, other_clinician, programme
):
    mine = ReferralFactory(programme=programme, clinician=clinician.clinician)
    theirs = ReferralFactory(programme=programme, clinician=other_clinician.clinician)
    client.force_login(clinician)
    assert client.post(reverse("referrals:withdraw", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("referrals:withdraw", args=[mine.pk])).status_code == 405
    client.post(reverse("referrals:withdraw", args=[mine.pk]))
    assert Referral.objects.get(pk=mine.pk).status == "withdrawn"
    assert Referral.objects.get(pk=theirs.pk).status == "sent"


def test_a_clinician_makes_a_link_and_sees_the_poster(client, clinician, programme):
    client.force_login(clinician)
    assert client.get(reverse("referrals:link_create")).status_code == 200
    response = client.post(
        reverse("referrals:link_create"), {"programme": programme.pk, "label": "Waiting room"}
    )
    link = ReferralLink.objects.get()
    assert response.url == reverse("referrals:link_poster", args=[link.pk])
    poster = client.get(response.url).content.decode()
    assert "<svg" in poster and programme.summary in poster and link.url in poster
    assert "@page" in poster and "A4" in poster


def test_qr_downloads(client, clinician, programme):
    link = ReferralLinkFactory(programme=programme, clinician=clinician.clinician)
    client.force_login(clinician)
    svg = client.get(reverse("referrals:link_qr_svg", args=[link.pk]))
    assert svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = client.get(reverse("referrals:link_qr_png", args=[link.pk]))
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_poster_and_downloads_belong_to_the_maker_and_the_organisation(
    client, clinician, other_clinician, coordinator, other_coordinator, stranger, programme
):
    link = ReferralLinkFactory(programme=programme, clinician=clinician.clinician)
    urls = [
        reverse(name, args=[link.pk])
        for name in ("referrals:link_poster", "referrals:link_qr_svg", "referrals:link_qr_png")
    ]
    for user, expected in (
        (clinician, 200),
        (coordinator, 200),
        (other_clinician, 404),
        (other_coordinator, 404),
        (stranger, 404),
    ):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == expected, (user, url)
    client.logout()
    assert client.get(urls[0]).status_code == 302


def test_a_suspended_clinician_cannot_see_their_old_link_posters(client, clinician, programme):
    link = ReferralLinkFactory(programme=programme, clinician=clinician.clinician)
    Clinician.objects.filter(user=clinician).update(status="suspended")
    client.force_login(clinician)
    assert client.get(reverse("referrals:link_poster", args=[link.pk])).status_code == 404


def test_a_link_is_revoked_by_its_maker_or_coordinator_only(
    client, clinician, other_clinician, coordinator, programme
):
    link = ReferralLinkFactory(programme=programme, clinician=clinician.clinician)
    url = reverse("referrals:link_revoke", args=[link.pk])
    client.force_login(other_clinician)
    assert client.post(url).status_code == 404
    client.force_login(clinician)
    assert client.post(url).url == HOME
    assert ReferralLink.objects.get(pk=link.pk).revoked_at is not None
    second = ReferralLinkFactory(programme=programme, clinician=clinician.clinician)
    client.force_login(coordinator)
    response = client.post(reverse("referrals:link_revoke", args=[second.pk]))
    assert response.url == reverse("referrals:manage_links", args=[programme.pk])


def test_a_coordinator_makes_a_link_for_their_programme(client, coordinator, programme):
    client.force_login(coordinator)
    url = reverse("referrals:link_create") + f"?programme={programme.pk}"
    assert client.get(url).status_code == 200
    client.post(url, {"programme": programme.pk, "label": ""})
    assert ReferralLink.objects.get().clinician is None


def test_a_coordinator_cannot_make_a_link_for_another_organisation(
    client, other_coordinator, programme
):
    client.force_login(other_coordinator)
    response = client.post(reverse("referrals:link_create"), {"programme": programme.pk})
    assert response.status_code == 200  # the form refuses the choice
    assert not ReferralLink.objects.exists()


def test_the_referred_person_stops_sharing_progress_from_my_programmes(client, programme):
    person = factories.UserFactory()
    referral = ReferralFactory(programme=programme)
    services.referral_attach_user(referral=referral, user=person, new_account=True)
    factories.EnrolmentFactory(programme=programme, user=person)
    client.force_login(person)
    mine = client.get(reverse("programmes:mine")).content.decode()
    assert "Stop sharing my progress" in mine
    url = reverse("referrals:stop_sharing", args=[referral.pk])
    client.force_login(factories.UserFactory())
    assert client.post(url).status_code == 404
    client.force_login(person)
    assert client.post(url).url == reverse("programmes:mine")
    referral.refresh_from_db()
    assert referral.progress_consent_withdrawn_at is not None
    assert "Stop sharing my progress" not in client.get(reverse("programmes:mine")).content.decode()


def test_the_clinician_nav_link_shows_for_approved_clinicians(client, clinician, stranger):
    client.force_login(clinician)
    assert "Your referrals" in client.get("/").content.decode()
    client.force_login(stranger)
    assert "Your referrals" not in client.get("/").content.decode()
