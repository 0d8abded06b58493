"""Factories for referral links and referrals."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory
from faker import Faker

from referrals.models import ClinicianInvitation, Referral, ReferralLink
from referrals.tokens import new_token_pair
from tests.factories import ClinicianFactory, PracticeFactory, ProgrammeFactory


class ReferralLinkFactory(DjangoModelFactory):
    class Meta:
        model = ReferralLink

    programme = factory.SubFactory(ProgrammeFactory)
    clinician = factory.SubFactory(
        ClinicianFactory, practice__organisation=factory.SelfAttribute("...programme.organisation")
    )
    practice = factory.SelfAttribute("clinician.practice")
    created_by = factory.SelfAttribute("clinician.user")
    label = factory.Sequence(lambda n: f"Waiting room {n}")

    @factory.lazy_attribute
    def token_nonce(self):
        return new_token_pair(ReferralLink.TOKEN_PURPOSE)[0]

    @factory.lazy_attribute
    def token_hash(self):
        from referrals.tokens import hash_token, token_from_nonce

        return hash_token(token_from_nonce(ReferralLink.TOKEN_PURPOSE, self.token_nonce))


class ReferralFactory(DjangoModelFactory):
    """A named referral, made directly (no invitation planned: see referral_create)."""

    class Meta:
        model = Referral

    kind = Referral.Kind.NAMED
    programme = factory.SubFactory(ProgrammeFactory)
    clinician = factory.SubFactory(
        ClinicianFactory, practice__organisation=factory.SelfAttribute("...programme.organisation")
    )
    practice = factory.SelfAttribute("clinician.practice")
    created_by = factory.SelfAttribute("clinician.user")
    patient_name = factory.LazyFunction(lambda: Faker("en_GB").name().replace("'", ""))
    email = factory.Sequence(lambda n: f"patient{n}@example.org")
    contact_agreed = True
    progress_consent = True
    status = Referral.Status.SENT
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=30))

    @factory.lazy_attribute
    def token_nonce(self):
        return new_token_pair(Referral.TOKEN_PURPOSE)[0]

    @factory.lazy_attribute
    def token_hash(self):
        from referrals.tokens import hash_token, token_from_nonce

        return hash_token(token_from_nonce(Referral.TOKEN_PURPOSE, self.token_nonce))


class ClinicianInvitationFactory(DjangoModelFactory):
    class Meta:
        model = ClinicianInvitation

    practice = factory.SubFactory(PracticeFactory)
    email = factory.Sequence(lambda n: f"newdoc{n}@example.org")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))

    @factory.lazy_attribute
    def token_nonce(self):
        return new_token_pair(ClinicianInvitation.TOKEN_PURPOSE)[0]

    @factory.lazy_attribute
    def token_hash(self):
        from referrals.tokens import hash_token, token_from_nonce

        return hash_token(token_from_nonce(ClinicianInvitation.TOKEN_PURPOSE, self.token_nonce))
