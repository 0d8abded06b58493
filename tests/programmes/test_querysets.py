from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from programmes.models import Enrolment, Programme
from tests import factories

pytestmark = pytest.mark.django_db


def test_anonymous_people_see_only_open_programmes(programme):
    draft = factories.ProgrammeFactory(status="draft")
    visible = Programme.objects.visible_to(AnonymousUser())
    assert programme in visible and draft not in visible


def test_coordinators_see_their_organisations_drafts_but_not_others(coordinator, organisation):
    own_draft = factories.ProgrammeFactory(organisation=organisation, status="draft")
    other_draft = factories.ProgrammeFactory(status="draft")
    visible = Programme.objects.visible_to(coordinator)
    assert own_draft in visible and other_draft not in visible
    assert list(Programme.objects.managed_by(coordinator)) == [own_draft]


def test_members_see_only_their_own_enrolments(programme, member, stranger):
    other = factories.EnrolmentFactory(programme=programme)
    assert list(Enrolment.objects.visible_to(member)) == [Enrolment.objects.get(user=member)]
    assert other not in Enrolment.objects.visible_to(member)
    assert not Enrolment.objects.visible_to(stranger).exists()
    assert not Enrolment.objects.visible_to(AnonymousUser()).exists()


def test_coordinators_see_enrolments_of_their_organisation_only(coordinator, programme, member):
    elsewhere = factories.EnrolmentFactory()
    visible = Enrolment.objects.visible_to(coordinator)
    assert Enrolment.objects.get(user=member) in visible
    assert elsewhere not in visible


def test_counts_per_programme(programme):
    factories.EnrolmentFactory.create_batch(3, programme=programme)
    factories.SupporterEnrolmentFactory(programme=programme)
    factories.SupporterEnrolmentFactory(programme=programme, status="applied")
    counted = Programme.objects.with_counts().get(pk=programme.pk)
    assert (counted.recipient_count, counted.supporter_count, counted.applicant_count) == (3, 1, 1)
