"""Coordinators: practices and clinicians, the referral inbox, triage, notes, sources, links."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from referrals.models import Clinician, ClinicianInvitation, Practice, Referral, ReferralNote
from tests import factories
from tests.referrals.factories import ReferralFactory, ReferralLinkFactory

pytestmark = pytest.mark.django_db


def _inbox(programme):
    return reverse("referrals:inbox", args=[programme.pk])


def test_coordinator_pages_refuse_other_roles(client, clinician, member, programme):
    referral = ReferralFactory(programme=programme)
    practice = referral.practice
    urls = [
        reverse("referrals:practice_list"),
        reverse("referrals:practice_create"),
        reverse("referrals:practice_invite", args=[practice.pk]),
        _inbox(programme),
        reverse("referrals:sources", args=[programme.pk]),
        reverse("referrals:manage_links", args=[programme.pk]),
        reverse("referrals:referral_detail", args=[referral.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302, url
    for user in (clinician, member):
        client.force_login(user)
        for url in urls:
            assert client.get(url).status_code == 403, url
        for url in (
            reverse("referrals:referral_triage", args=[referral.pk]),
            reverse("referrals:referral_note", args=[referral.pk]),
            reverse("referrals:clinician_status", args=[referral.clinician.pk]),
        ):
            assert (
                client.post(
                    url, {"action": "accept", "text": "x", "status": "approved"}
                ).status_code
                == 403
            )


def test_another_organisations_coordinator_gets_not_found(client, other_coordinator, programme):
    referral = ReferralFactory(programme=programme)
    client.force_login(other_coordinator)
    for url in (
        reverse("referrals:practice_invite", args=[referral.practice.pk]),
        _inbox(programme),
        reverse("referrals:sources", args=[programme.pk]),
        reverse("referrals:manage_links", args=[programme.pk]),
        reverse("referrals:referral_detail", args=[referral.pk]),
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("referrals:referral_triage", args=[referral.pk]), {"action": "accept"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("referrals:referral_note", args=[referral.pk]), {"text": "x"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            reverse("referrals:clinician_status", args=[referral.clinician.pk]),
            {"status": "suspended"},
        ).status_code
        == 404
    )
    assert Referral.objects.get(pk=referral.pk).triage == "new"
    assert (
        referral.practice.name
        not in client.get(reverse("referrals:practice_list")).content.decode()
    )


def test_the_programme_page_links_to_the_inbox(client, coordinator, programme):
    client.force_login(coordinator)
    content = client.get(reverse("programmes:manage_detail", args=[programme.pk])).content.decode()
    assert _inbox(programme) in content


def test_the_inbox_lists_referrals_with_their_source(client, coordinator, programme):
    named = ReferralFactory(programme=programme, patient_name="Rosa Named")
    link = ReferralLinkFactory(programme=programme, label="Foot clinic")
    person = factories.UserFactory(display_name="Lena Linked")
    from referrals.services import link_referral_record

    link_referral_record(link=link, user=person, new_account=True)
    ReferralFactory(patient_name="Elsewhere Person")  # another organisation's programme
    client.force_login(coordinator)
    content = client.get(_inbox(programme)).content.decode()
    assert "Rosa Named" in content and named.practice.name in content
    assert "Lena Linked" in content and "Foot clinic" in content
    assert "Elsewhere Person" not in content


def test_the_inbox_filters_by_status_triage_and_source(client, coordinator, programme):
    one = ReferralFactory(programme=programme, patient_name="Alpha One")
    two = ReferralFactory(programme=programme, patient_name="Beta Two", status="declined")
    Referral.objects.filter(pk=two.pk).update(triage="accepted")
    client.force_login(coordinator)
    by_status = client.get(_inbox(programme), {"status": "declined"}).content.decode()
    assert "Beta Two" in by_status and "Alpha One" not in by_status
    by_triage = client.get(_inbox(programme), {"triage": "new"}).content.decode()
    assert "Alpha One" in by_triage and "Beta Two" not in by_triage
    by_source = client.get(
        _inbox(programme), {"source": f"practice:{one.practice_id}"}
    ).content.decode()
    assert "Alpha One" in by_source and "Beta Two" not in by_source
    bad = client.get(_inbox(programme), {"source": "practice:999999"})
    assert bad.status_code == 200


@pytest.mark.parametrize("size", [3, 30])
def test_the_inbox_runs_a_bounded_number_of_queries(
    client, coordinator, programme, django_assert_max_num_queries, size
):
    link = ReferralLinkFactory(programme=programme)
    for i in range(size):
        ReferralFactory(programme=programme, clinician=link.clinician)
        from referrals.services import link_referral_record

        link_referral_record(link=link, user=factories.UserFactory(), new_account=i % 2 == 0)
    client.force_login(coordinator)
    with django_assert_max_num_queries(16):
        assert client.get(_inbox(programme)).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("referrals:sources", args=[programme.pk])).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("referrals:manage_links", args=[programme.pk])).status_code == 200


@pytest.mark.parametrize("size", [2, 15])
def test_the_practice_list_runs_a_bounded_number_of_queries(
    client, coordinator, organisation, django_assert_max_num_queries, size
):
    for _ in range(size):
        practice = factories.PracticeFactory(organisation=organisation)
        factories.ClinicianFactory.create_batch(2, practice=practice)
        factories.ClinicianFactory(practice=practice, status="pending")
    client.force_login(coordinator)
    with django_assert_max_num_queries(16):
        assert client.get(reverse("referrals:practice_list")).status_code == 200


def test_triage_accept_contact_and_decline_with_reason(client, coordinator, programme):
    referral = ReferralFactory(programme=programme)
    url = reverse("referrals:referral_triage", args=[referral.pk])
    client.force_login(coordinator)
    assert client.get(url).status_code == 405
    client.post(url, {"action": "accept"})
    assert Referral.objects.get(pk=referral.pk).triage == "accepted"
    client.post(url, {"action": "contact"})
    assert Referral.objects.get(pk=referral.pk).triage == "contacted"
    client.post(url, {"action": "decline", "reason": ""})
    assert Referral.objects.get(pk=referral.pk).triage == "contacted"
    client.post(url, {"action": "decline", "reason": "Outside our area"})
    referral.refresh_from_db()
    assert referral.triage == "declined" and referral.triage_reason == "Outside our area"
    # The clinician sees it as a status, with the reason.
    client.force_login(referral.clinician.user)
    content = client.get("/clinician/").content.decode()
    assert "Not accepted by the programme" in content and "Outside our area" in content


def test_notes_are_for_coordinators_only(client, coordinator, programme):
    referral = ReferralFactory(programme=programme)
    client.force_login(coordinator)
    client.post(
        reverse("referrals:referral_note", args=[referral.pk]), {"text": "Called, no answer"}
    )
    assert ReferralNote.objects.get().author == coordinator
    detail = client.get(reverse("referrals:referral_detail", args=[referral.pk])).content.decode()
    assert "Called, no answer" in detail


def test_coordinator_adds_a_practice_and_invites_a_clinician(client, coordinator, organisation):
    client.force_login(coordinator)
    assert client.get(reverse("referrals:practice_create")).status_code == 200
    client.post(
        reverse("referrals:practice_create"),
        {"organisation": organisation.pk, "name": "Hill Surgery", "kind": "gp", "area": "North"},
    )
    practice = Practice.objects.get(name="Hill Surgery")
    url = reverse("referrals:practice_invite", args=[practice.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"email": "doc@example.org"})
    assert response.url == reverse("referrals:practice_list")
    assert ClinicianInvitation.objects.get().email == "doc@example.org"
    listing = client.get(reverse("referrals:practice_list")).content.decode()
    assert "Hill Surgery" in listing and "doc@example.org" in listing


def test_coordinator_approves_and_suspends_clinicians(client, coordinator, organisation):
    pending = factories.ClinicianFactory(practice__organisation=organisation, status="pending")
    client.force_login(coordinator)
    listing = client.get(reverse("referrals:practice_list")).content.decode()
    assert "waiting for approval" in listing
    url = reverse("referrals:clinician_status", args=[pending.pk])
    client.post(url, {"status": "approved"})
    assert Clinician.objects.get(pk=pending.pk).status == "approved"
    client.post(url, {"status": "suspended"})
    assert Clinician.objects.get(pk=pending.pk).status == "suspended"
    client.post(url, {"status": "nonsense"})
    assert Clinician.objects.get(pk=pending.pk).status == "suspended"


def test_sources_counts_referrals_by_practice(client, coordinator, programme):
    referral = ReferralFactory(programme=programme)
    ReferralFactory(programme=programme, clinician=referral.clinician)
    client.force_login(coordinator)
    content = client.get(reverse("referrals:sources", args=[programme.pk])).content.decode()
    assert referral.practice.name in content


def test_the_invitation_email_is_sent_when_the_invite_is_committed(
    client, coordinator, organisation, django_capture_on_commit_callbacks, eager_celery
):
    practice = factories.PracticeFactory(organisation=organisation)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("referrals:practice_invite", args=[practice.pk]), {"email": "d@example.org"}
        )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["d@example.org"]
