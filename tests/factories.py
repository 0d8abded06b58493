"""factory-boy factories shared by every app. Apps add theirs in tests/<app>/factories.py."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP
from factory.django import DjangoModelFactory
from faker import Faker

from accounts.models import User
from programmes.models import Enrolment, Organisation, Programme, StaffMembership
from referrals.models import Clinician, Practice

TEST_PASSWORD = "correct horse battery staple"
_FAKE = Faker("en_GB")
TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    # No apostrophes (O'Brien): tests look for names in HTML, where they would be escaped.
    display_name = factory.LazyFunction(lambda: _FAKE.name().replace("'", ""))
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            self.save()
            if self.email:
                EmailAddress.objects.get_or_create(
                    user=self, email=self.email, defaults={"verified": True, "primary": True}
                )


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Health charity {n}")
    slug = factory.Sequence(lambda n: f"health-charity-{n}")


class CoordinatorFactory(DjangoModelFactory):
    """A coordinator with two-step sign-in already set up (staff must have it)."""

    class Meta:
        model = StaffMembership
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = StaffMembership.Role.COORDINATOR

    @factory.post_generation
    def mfa(self, create, extracted, **kwargs):
        if create and extracted is not False:
            TOTP.activate(self.user, TEST_TOTP_SECRET)


class ProgrammeFactory(DjangoModelFactory):
    class Meta:
        model = Programme

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Peer support programme {n}")
    slug = factory.Sequence(lambda n: f"programme-{n}")
    summary = "Meet people who understand."
    description = "You join a group and can ask for a buddy."
    condition = "Type 2 diabetes"
    privacy_notice = "We keep your name and contact details to run the programme."
    status = Programme.Status.OPEN


class EnrolmentFactory(DjangoModelFactory):
    class Meta:
        model = Enrolment

    programme = factory.SubFactory(ProgrammeFactory)
    user = factory.SubFactory(UserFactory)
    role = Enrolment.Role.PATIENT
    status = Enrolment.Status.ACTIVE
    consent_version = factory.LazyAttribute(lambda o: o.programme.privacy_notice_version)


class SupporterEnrolmentFactory(EnrolmentFactory):
    role = Enrolment.Role.SUPPORTER


class PracticeFactory(DjangoModelFactory):
    class Meta:
        model = Practice

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Riverside Surgery {n}")
    area = "Northfield"


class ClinicianFactory(DjangoModelFactory):
    class Meta:
        model = Clinician

    user = factory.SubFactory(UserFactory)
    practice = factory.SubFactory(PracticeFactory)
    status = Clinician.Status.APPROVED
