from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from programmes import services
from programmes.models import Enrolment, Programme
from tests import factories

pytestmark = pytest.mark.django_db


def _programme_fields(**extra):
    return {
        "name": "Long COVID peers",
        "summary": "Support from people who have long COVID too.",
        "description": "Weekly online group.",
        "audience": "both",
        "condition": "Long COVID",
        "formats": "both",
        "area": "Online",
        "capacity": None,
        "privacy_notice": "We keep your name.",
        **extra,
    }


def test_it_creates_programmes_as_drafts_with_a_unique_slug(coordinator, organisation):
    first = services.programme_create(
        user=coordinator, organisation=organisation, **_programme_fields(status="open")
    )
    second = services.programme_create(
        user=coordinator, organisation=organisation, **_programme_fields()
    )
    assert first.status == Programme.Status.DRAFT
    assert first.slug == "long-covid-peers"
    assert second.slug == "long-covid-peers-2"
    assert first.created_by == coordinator


def test_it_refuses_to_create_programmes_in_another_organisation(other_coordinator, organisation):
    with pytest.raises(PermissionDenied):
        services.programme_create(
            user=other_coordinator, organisation=organisation, **_programme_fields()
        )


def test_changing_the_privacy_notice_bumps_its_version(coordinator, programme):
    services.programme_update(user=coordinator, programme=programme, name="Renamed")
    assert programme.privacy_notice_version == 1
    services.programme_update(user=coordinator, programme=programme, privacy_notice="New words")
    programme.refresh_from_db()
    assert programme.privacy_notice_version == 2


def test_it_opens_and_closes_programmes(coordinator, programme):
    services.programme_set_status(user=coordinator, programme=programme, status="closed")
    assert Programme.objects.get(pk=programme.pk).status == "closed"
    with pytest.raises(ValidationError):
        services.programme_set_status(user=coordinator, programme=programme, status="deleted")


def test_it_enrols_a_patient_with_consent_recorded(programme, stranger):
    enrolment = services.enrolment_create(
        user=stranger, programme=programme, role="patient", consent_version=1
    )
    assert enrolment.status == Enrolment.Status.ACTIVE
    assert enrolment.consent_version == 1
    assert enrolment.consented_at is not None
    assert not enrolment.is_assisted


def test_a_supporter_enrolment_starts_as_an_application(programme, stranger):
    enrolment = services.enrolment_create(
        user=stranger, programme=programme, role="supporter", consent_version=1
    )
    assert enrolment.status == Enrolment.Status.APPLIED


def test_it_refuses_closed_programmes(stranger):
    programme = factories.ProgrammeFactory(status="closed")
    with pytest.raises(services.ProgrammeNotOpen):
        services.enrolment_create(
            user=stranger, programme=programme, role="patient", consent_version=1
        )


def test_it_refuses_consent_to_an_old_privacy_notice(programme, stranger):
    programme.privacy_notice_version = 2
    programme.save()
    with pytest.raises(ValidationError, match="privacy notice has changed"):
        services.enrolment_create(
            user=stranger, programme=programme, role="patient", consent_version=1
        )


def test_it_refuses_to_enrol_twice_in_the_same_role(programme, member):
    with pytest.raises(services.AlreadyEnrolled):
        services.enrolment_create(
            user=member, programme=programme, role="patient", consent_version=1
        )


def test_a_person_can_be_patient_and_supporter(programme, member):
    services.enrolment_create(user=member, programme=programme, role="supporter", consent_version=1)
    assert Enrolment.objects.filter(user=member, programme=programme).count() == 2


def test_it_respects_programme_capacity_for_recipients_only(stranger):
    programme = factories.ProgrammeFactory(capacity=1)
    factories.EnrolmentFactory(programme=programme)
    with pytest.raises(services.ProgrammeFull):
        services.enrolment_create(
            user=stranger, programme=programme, role="caregiver", consent_version=1
        )
    services.enrolment_create(
        user=stranger, programme=programme, role="supporter", consent_version=1
    )


def test_leaving_and_rejoining_reuses_the_record(programme, member):
    enrolment = Enrolment.objects.get(user=member)
    services.enrolment_leave(user=member, enrolment=enrolment)
    assert enrolment.status == Enrolment.Status.LEFT and enrolment.left_at
    again = services.enrolment_create(
        user=member, programme=programme, role="patient", consent_version=1
    )
    assert again.pk == enrolment.pk
    assert again.status == Enrolment.Status.ACTIVE and again.left_at is None


def test_nobody_can_leave_for_someone_else(member, stranger):
    enrolment = Enrolment.objects.get(user=member)
    with pytest.raises(PermissionDenied):
        services.enrolment_leave(user=stranger, enrolment=enrolment)


def test_assisted_enrolment_records_the_coordinator_and_allows_no_email(coordinator, programme):
    enrolment = services.enrolment_assisted_create(
        coordinator=coordinator,
        programme=programme,
        role="caregiver",
        display_name="Doris",
        email="",
        phone="01632 960123",
    )
    assert enrolment.assisted_by == coordinator
    assert enrolment.user.email is None
    assert not enrolment.user.has_usable_password()


def test_assisted_enrolment_reuses_an_existing_account(coordinator, programme, stranger):
    enrolment = services.enrolment_assisted_create(
        coordinator=coordinator,
        programme=programme,
        role="patient",
        display_name="Whatever",
        email=stranger.email.upper(),
        phone="",
    )
    assert enrolment.user == stranger
    assert User.objects.count() == 2  # the coordinator and the stranger


def test_assisted_enrolment_needs_a_coordinator_of_that_organisation(other_coordinator, programme):
    with pytest.raises(PermissionDenied):
        services.enrolment_assisted_create(
            coordinator=other_coordinator,
            programme=programme,
            role="patient",
            display_name="X",
            email="x@example.org",
            phone="",
        )
