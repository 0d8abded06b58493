from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from notifications import services as notification_services
from notifications.models import Delivery
from programmes.services import enrolment_create
from referrals import services
from referrals.models import Clinician, Referral, ReferralLink
from referrals.tokens import hash_token
from tests import factories
from tests.referrals.factories import ReferralFactory, ReferralLinkFactory

pytestmark = pytest.mark.django_db


def _refer(clinician, programme, **kwargs):
    fields = {
        "patient_name": "Rosa Patient",
        "email": "rosa@example.org",
        "phone": "",
        "reason": "",
        "contact_agreed": True,
        "progress_consent": True,
    }
    fields.update(kwargs)
    return services.referral_create(clinician_user=clinician, programme=programme, **fields)


def _token_from_mail(message) -> str:
    return re.search(r"/invited/([A-Za-z0-9_-]{43})/", message.body).group(1)


def test_it_creates_a_referral_and_emails_the_invitation_once_after_commit(
    clinician, programme, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        referral = _refer(clinician, programme)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rosa@example.org"]
    assert message.alternatives and "text/html" in message.alternatives[0][1]
    token = _token_from_mail(message)
    referral.refresh_from_db()
    invitation = Delivery.objects.get(key=f"referral_invitation:{referral.pk}:email")
    assert invitation.status == "sent" and invitation.sent_at is not None
    # Only the hash is stored, and the token is not in any field.
    assert referral.token_hash == hash_token(token)
    assert token not in (referral.token_nonce, referral.token_hash)
    assert referral.expires_at > timezone.now() + timedelta(days=29)
    # Sending again changes nothing.
    notification_services.send_batch(ids=[invitation.pk])
    assert len(mail.outbox) == 1


def test_it_does_not_put_the_reason_in_the_email(
    clinician, programme, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _refer(clinician, programme, reason="recently diagnosed")
    assert "recently diagnosed" not in mail.outbox[0].body


def test_it_detects_a_duplicate_referral_by_email_in_any_case(
    clinician, other_clinician, programme
):
    _refer(clinician, programme, email="Rosa@Example.org")
    with pytest.raises(services.DuplicateReferral):
        _refer(other_clinician, programme, email="rosa@example.org")


def test_it_detects_a_duplicate_referral_by_mobile_in_any_format(clinician, programme):
    _refer(clinician, programme, email="", phone="07700 900123")
    with pytest.raises(services.DuplicateReferral):
        _refer(clinician, programme, email="", phone="+44 7700-900123")


def test_it_allows_a_new_referral_after_the_old_one_closed(clinician, programme):
    first = _refer(clinician, programme)
    services.referral_decline(referral=first)
    second = _refer(clinician, programme)
    assert second.pk != first.pk


def test_it_allows_the_same_person_in_another_programme(clinician, organisation):
    one, two = factories.ProgrammeFactory.create_batch(2, organisation=organisation)
    _refer(clinician, one)
    _refer(clinician, two)
    assert Referral.objects.count() == 2


def test_it_needs_an_email_or_a_mobile_and_agreement(clinician, programme):
    with pytest.raises(ValidationError):
        _refer(clinician, programme, email="", phone="")
    with pytest.raises(ValidationError):
        _refer(clinician, programme, contact_agreed=False)


def test_it_refuses_referrals_from_unapproved_clinicians(organisation, programme):
    pending = factories.ClinicianFactory(
        practice__organisation=organisation, status=Clinician.Status.PENDING
    ).user
    with pytest.raises(PermissionDenied):
        _refer(pending, programme)


def test_it_refuses_referrals_to_another_organisations_programme(clinician):
    elsewhere = factories.ProgrammeFactory()
    with pytest.raises(services.ReferralNotAllowed):
        _refer(clinician, elsewhere)


def test_housekeeping_task_expires_invitations_after_thirty_days(eager_celery):
    from referrals.tasks import referrals_housekeeping

    old = ReferralFactory()
    Referral.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    fresh = ReferralFactory()
    assert referrals_housekeeping.delay().get() == {"expired": 1, "invitations_requeued": 0}
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == Referral.Status.EXPIRED and old.closed_at is not None
    assert fresh.status == Referral.Status.SENT


def test_it_moves_through_opened_registered_enrolled_active(programme):
    referral = ReferralFactory(programme=programme)
    person = factories.UserFactory()
    services.referral_mark_opened(referral=referral)
    referral.refresh_from_db()
    assert referral.status == "opened" and referral.opened_at
    assert services.referral_attach_user(referral=referral, user=person, new_account=True)
    referral.refresh_from_db()
    assert referral.status == "registered" and referral.user == person and referral.new_account
    # The token is used up now.
    assert not services.referral_attach_user(
        referral=referral, user=factories.UserFactory(), new_account=True
    )
    enrolment_create(
        user=person,
        programme=programme,
        role="patient",
        consent_version=programme.privacy_notice_version,
    )
    referral.refresh_from_db()
    assert referral.status == "enrolled" and referral.enrolled_at
    assert services.referral_mark_active_for_user(user_id=person.pk, programme_id=programme.pk) == 1
    assert services.referral_mark_active_for_user(user_id=person.pk, programme_id=programme.pk) == 0
    referral.refresh_from_db()
    assert referral.status == "active"


def test_it_does_not_move_a_supporter_enrolment_to_enrolled(programme):
    referral = ReferralFactory(programme=programme)
    person = factories.UserFactory()
    services.referral_attach_user(referral=referral, user=person, new_account=True)
    factories.SupporterEnrolmentFactory(programme=programme, user=person, status="applied")
    referral.refresh_from_db()
    assert referral.status == "registered"


def test_the_patient_can_decline_once_and_the_link_stops_working():
    referral = ReferralFactory()
    assert services.referral_decline(referral=referral) is True
    assert services.referral_decline(referral=referral) is False
    referral.refresh_from_db()
    assert referral.status == "declined" and not referral.token_is_usable


def test_the_clinician_can_withdraw_before_sign_up_only(programme):
    referral = ReferralFactory(programme=programme)
    clinician = referral.clinician.user
    with pytest.raises(PermissionDenied):
        services.referral_withdraw(clinician_user=factories.UserFactory(), referral=referral)
    services.referral_withdraw(clinician_user=clinician, referral=referral)
    assert Referral.objects.get(pk=referral.pk).status == "withdrawn"
    # Withdrawn invitations look exactly like unknown ones.
    assert services.referral_find_by_token(referral.token) is None
    other = ReferralFactory(programme=programme, clinician=referral.clinician)
    services.referral_attach_user(referral=other, user=factories.UserFactory(), new_account=True)
    with pytest.raises(ValidationError):
        services.referral_withdraw(clinician_user=clinician, referral=other)


def test_the_clinician_sees_only_sent_when_the_person_withdrew_consent(programme):
    referral = ReferralFactory(programme=programme)
    person = factories.UserFactory()
    services.referral_attach_user(referral=referral, user=person, new_account=True)
    referral.refresh_from_db()
    assert referral.clinician_status() == "Signed up"
    with pytest.raises(PermissionDenied):
        services.referral_withdraw_progress_consent(user=factories.UserFactory(), referral=referral)
    services.referral_withdraw_progress_consent(user=person, referral=referral)
    referral.refresh_from_db()
    assert referral.clinician_status().startswith("Sent")
    assert "Signed up" not in referral.clinician_status()


def test_the_clinician_sees_only_sent_without_consent_to_progress():
    referral = ReferralFactory(progress_consent=False, status=Referral.Status.ENROLLED)
    assert referral.clinician_status() == "Sent"


def test_a_declined_triage_shows_to_the_clinician_as_a_status(coordinator, programme):
    referral = ReferralFactory(programme=programme)
    with pytest.raises(ValidationError):
        services.referral_triage(coordinator=coordinator, referral=referral, action="decline")
    services.referral_triage(
        coordinator=coordinator, referral=referral, action="decline", reason="Outside our area"
    )
    assert referral.clinician_status() == "Not accepted by the programme"
    services.referral_triage(coordinator=coordinator, referral=referral, action="accept")
    assert referral.triage == "accepted" and referral.triage_reason == ""


def test_only_the_organisations_coordinators_triage_and_write_notes(other_coordinator, programme):
    referral = ReferralFactory(programme=programme)
    with pytest.raises(PermissionDenied):
        services.referral_triage(coordinator=other_coordinator, referral=referral, action="accept")
    with pytest.raises(PermissionDenied):
        services.referral_note_add(coordinator=other_coordinator, referral=referral, text="Hi")


def test_links_are_made_by_clinicians_and_coordinators_of_the_organisation(
    clinician, coordinator, other_coordinator, stranger, programme
):
    mine = services.referral_link_create(user=clinician, programme=programme, label="Clinic")
    assert mine.clinician.user == clinician and mine.practice == clinician.clinician.practice
    theirs = services.referral_link_create(user=coordinator, programme=programme)
    assert theirs.clinician is None
    for user in (other_coordinator, stranger):
        with pytest.raises(PermissionDenied):
            services.referral_link_create(user=user, programme=programme)


def test_link_tokens_are_long_random_hashed_and_stable(programme, clinician):
    link = services.referral_link_create(user=clinician, programme=programme)
    token = link.token
    assert len(token) == 43  # 256 bits, URL-safe
    assert link.token_hash == hash_token(token)
    assert token not in link.token_nonce
    assert ReferralLink.objects.get(pk=link.pk).token == token
    other = services.referral_link_create(user=clinician, programme=programme)
    assert other.token != token
    assert services.referral_link_find(token) == link
    assert services.referral_link_find(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert services.referral_link_find("short") is None


def test_a_revoked_link_is_treated_as_unknown(programme, clinician):
    link = services.referral_link_create(user=clinician, programme=programme)
    with pytest.raises(PermissionDenied):
        services.referral_link_revoke(user=factories.UserFactory(), link=link)
    services.referral_link_revoke(user=clinician, link=link)
    assert services.referral_link_find(link.token) is None


def test_link_counts_visits_sign_ups_and_enrolments(programme):
    link = ReferralLinkFactory(programme=programme)
    for _ in range(3):
        services.referral_link_record_visit(link=link)
    new_person, existing = factories.UserFactory.create_batch(2)
    services.link_referral_record(link=link, user=new_person, new_account=True)
    services.link_referral_record(link=link, user=new_person, new_account=True)
    services.link_referral_record(link=link, user=existing, new_account=False)
    enrolment_create(
        user=new_person,
        programme=programme,
        role="caregiver",
        consent_version=programme.privacy_notice_version,
    )
    counted = ReferralLink.objects.with_counts().get(pk=link.pk)
    assert (counted.visit_count, counted.sign_up_count, counted.enrolment_count) == (3, 1, 1)


def test_it_counts_link_referrals_taking_part(programme):
    link = ReferralLinkFactory(programme=programme)
    joined, active = factories.UserFactory.create_batch(2)
    for user in (joined, active):
        services.link_referral_record(link=link, user=user, new_account=True)
        enrolment_create(
            user=user,
            programme=programme,
            role="patient",
            consent_version=programme.privacy_notice_version,
        )
    services.referral_mark_active_for_user(user_id=active.pk, programme_id=programme.pk)
    counted = ReferralLink.objects.with_counts().get(pk=link.pk)
    assert (counted.enrolment_count, counted.active_count) == (2, 1)


def test_link_referral_of_an_already_enrolled_person_starts_enrolled(programme, member):
    link = ReferralLinkFactory(programme=programme)
    referral = services.link_referral_record(link=link, user=member, new_account=False)
    assert referral.status == "enrolled"


def test_referrals_by_practice_month(programme):
    link = ReferralLinkFactory(programme=programme)
    ReferralFactory.create_batch(2, programme=programme, clinician=link.clinician)
    ReferralFactory(programme=programme)
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        ReferralFactory(programme=programme, clinician=link.clinician)
    table = services.referrals_by_practice_month(programme=programme, months=6)
    assert len(table["months"]) == 6
    totals = {row["name"]: row["total"] for row in table["rows"]}
    assert totals[link.practice.name] == 3
    assert sorted(totals.values()) == [1, 3]
    row = next(r for r in table["rows"] if r["name"] == link.practice.name)
    assert row["counts"][-1] == 2


def test_clinician_registers_and_is_approved_by_a_coordinator(
    organisation, coordinator, other_coordinator
):
    person = factories.UserFactory()
    clinician = services.clinician_register(
        user=person, organisation=organisation, practice_name="Hill Surgery", practice_kind="gp"
    )
    assert clinician.status == "pending"
    with pytest.raises(ValidationError):
        services.clinician_register(
            user=person, organisation=organisation, practice_name="Hill Surgery", practice_kind="gp"
        )
    with pytest.raises(PermissionDenied):
        services.clinician_set_status(
            coordinator=other_coordinator, clinician=clinician, status="approved"
        )
    services.clinician_set_status(coordinator=coordinator, clinician=clinician, status="approved")
    clinician.refresh_from_db()
    assert clinician.is_approved and clinician.approved_by == coordinator
    # A second clinician at the same practice name joins the same practice.
    again = services.clinician_register(
        user=factories.UserFactory(),
        organisation=organisation,
        practice_name="hill surgery",
        practice_kind="gp",
    )
    assert again.practice_id == clinician.practice_id


def test_clinician_invitation_is_emailed_and_works_once(
    organisation, coordinator, eager_celery, django_capture_on_commit_callbacks
):
    practice = factories.PracticeFactory(organisation=organisation)
    with django_capture_on_commit_callbacks(execute=True):
        invitation = services.clinician_invitation_create(
            coordinator=coordinator, practice=practice, email="doc@example.org"
        )
    assert len(mail.outbox) == 1
    token = re.search(r"/clinicians/invitation/([A-Za-z0-9_-]{43})/", mail.outbox[0].body).group(1)
    assert services.clinician_invitation_find(token) == invitation
    assert invitation.token_hash == hash_token(token)
    person = factories.UserFactory()
    clinician = services.clinician_invitation_accept(user=person, invitation=invitation)
    assert clinician.is_approved and clinician.practice == practice
    with pytest.raises(services.InvitationNotUsable):
        services.clinician_invitation_accept(user=factories.UserFactory(), invitation=invitation)


def test_an_expired_clinician_invitation_cannot_be_accepted(organisation, coordinator):
    practice = factories.PracticeFactory(organisation=organisation)
    invitation = services.clinician_invitation_create(
        coordinator=coordinator, practice=practice, email="doc@example.org"
    )
    with (
        time_machine.travel(timezone.now() + timedelta(days=15)),
        pytest.raises(services.InvitationNotUsable),
    ):
        services.clinician_invitation_accept(user=factories.UserFactory(), invitation=invitation)


def test_normalise_phone():
    assert services.normalise_phone("07700 900123") == "+447700900123"
    assert services.normalise_phone("+44 (0)7700") == "+4407700"
    assert services.normalise_phone("0044 7700 900123") == "+447700900123"
    assert services.normalise_phone("") == ""
