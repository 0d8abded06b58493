"""Factories for matching tests."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from matching import vocab
from matching.models import BuddyRequest, Pairing, ScreeningStep, SupporterProfile
from tests import factories

EVENINGS = sum(vocab.slot_bit(day, 2) for day in range(5))


class SupporterProfileFactory(DjangoModelFactory):
    """An approved supporter (active enrolment) who fits the default request."""

    class Meta:
        model = SupporterProfile

    enrolment = factory.SubFactory(factories.SupporterEnrolmentFactory, status="active")
    lived_experience = "I was diagnosed ten years ago and learned a lot."
    lived_roles = ["patient"]
    conditions = ["type_2_diabetes"]
    experiences = ["diagnosis"]
    age_group = "45_64"
    languages = ["en"]
    availability = EVENINGS
    formats = ["phone", "video", "messaging"]
    capacity = 1


class BuddyRequestFactory(DjangoModelFactory):
    class Meta:
        model = BuddyRequest

    enrolment = factory.SubFactory(factories.EnrolmentFactory)
    wants = ["condition"]
    conditions = ["type_2_diabetes"]
    experiences = ["diagnosis"]
    age_group = "45_64"
    languages = ["en"]
    availability = EVENINGS
    formats = ["phone"]


class PairingFactory(DjangoModelFactory):
    class Meta:
        model = Pairing

    request = factory.SubFactory(BuddyRequestFactory, status="paired")
    recipient = factory.SelfAttribute("request.enrolment")
    programme = factory.SelfAttribute("request.enrolment.programme")
    supporter = factory.SubFactory(
        SupporterProfileFactory, enrolment__programme=factory.SelfAttribute("...programme")
    )


def passed_screening(profile: SupporterProfile, by=None) -> None:
    import datetime

    for kind in ScreeningStep.Kind.values:
        ScreeningStep.objects.create(
            profile=profile,
            kind=kind,
            done_on=datetime.date.today(),
            outcome=ScreeningStep.Outcome.PASSED,
            recorded_by=by,
        )
