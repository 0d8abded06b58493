from __future__ import annotations

import zoneinfo

import pytest
from django.db import IntegrityError

from accounts.models import User
from accounts.roles import roles_for
from tests import factories

pytestmark = pytest.mark.django_db


def test_it_logs_in_by_email_case_insensitively():
    user = factories.UserFactory(email="Ann@Example.org")
    assert User.objects.get_by_natural_key("ann@example.org") == user


def test_it_refuses_two_people_with_the_same_email_in_different_case():
    factories.UserFactory(email="ann@example.org")
    with pytest.raises(IntegrityError):
        User.objects.create_user(email="ANN@example.org", display_name="Ann again")


def test_it_allows_people_without_email_for_assisted_enrolment():
    first = User.objects.create_user(email=None, display_name="No e-mail one")
    second = User.objects.create_user(email=None, display_name="No e-mail two")
    assert first.email is None and second.email is None
    assert not first.has_usable_password()


def test_it_falls_back_to_london_for_an_unknown_time_zone():
    user = factories.UserFactory.build(time_zone="Mars/Olympus")
    assert user.tzinfo == zoneinfo.ZoneInfo("Europe/London")


def test_it_creates_superusers_with_admin_access():
    admin = User.objects.create_superuser(email="root@example.org", password="x", display_name="R")
    assert admin.is_staff and admin.is_superuser


def test_roles_reflect_what_a_person_does(organisation):
    person = factories.UserFactory()
    assert not roles_for(person).is_coordinator
    factories.CoordinatorFactory(user=person, organisation=organisation)
    factories.EnrolmentFactory(user=person)
    factories.SupporterEnrolmentFactory(user=person)
    person = User.objects.get(pk=person.pk)
    roles = roles_for(person)
    assert roles.is_coordinator and roles.is_member and roles.is_supporter
    assert not roles.is_org_admin and not roles.is_clinician
    assert roles.coordinator_org_ids == {organisation.pk}


def test_an_applied_supporter_is_not_yet_a_supporter():
    enrolment = factories.SupporterEnrolmentFactory(status="applied")
    assert not roles_for(enrolment.user).is_supporter


def test_only_approved_clinicians_may_refer():
    pending = factories.ClinicianFactory(status="pending")
    approved = factories.ClinicianFactory()
    assert roles_for(pending.user).is_clinician
    assert not roles_for(pending.user).is_approved_clinician
    assert roles_for(approved.user).is_approved_clinician
