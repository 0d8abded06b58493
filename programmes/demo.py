"""Demo data: one organisation, three programmes, staff, a clinician, supporters and members.

Everything is keyed on e-mail addresses and slugs, so seeding twice changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cache

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.contrib.auth.hashers import make_password

from accounts.models import User
from referrals.models import Clinician, Practice

from .models import Enrolment, Organisation, Programme, StaffMembership

DEMO_PASSWORD = "peer-support-demo"
# Known TOTP secrets, so a newcomer can sign in as a coordinator with `make demo-code`.
DEMO_TOTP_SECRETS = {
    "coordinator@example.org": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    "coordinator2@example.org": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU",
}

FIRST_NAMES = [
    "Amira",
    "Ben",
    "Carol",
    "Dev",
    "Elena",
    "Frank",
    "Grace",
    "Hamid",
    "Iris",
    "Jon",
    "Kemi",
    "Liam",
    "Maya",
    "Nadia",
    "Owen",
    "Priya",
    "Quentin",
    "Rosa",
    "Sam",
    "Tariq",
    "Una",
    "Victor",
    "Wendy",
    "Xavier",
    "Yusuf",
    "Zara",
    "Alan",
    "Bea",
    "Chidi",
    "Dora",
    "Eli",
    "Fay",
    "Gus",
    "Hana",
    "Ivan",
    "Jade",
    "Kofi",
    "Lena",
    "Moses",
    "Nell",
    "Ola",
    "Pete",
    "Rani",
    "Stan",
    "Tess",
    "Uma",
    "Vic",
    "Will",
    "Yara",
    "Zeb",
]
LAST_INITIALS = "ABCDEFGHJKLMNPRSTW"

PROGRAMMES = [
    {
        "slug": "type-2-diabetes-peer-support",
        "name": "Type 2 diabetes peer support",
        "summary": "Meet people who live with type 2 diabetes. Share tips on food, tablets and "
        "feeling well, in a friendly group or with a buddy.",
        "condition": "Type 2 diabetes",
        "audience": Programme.Audience.PATIENTS,
        "formats": Programme.Formats.BOTH,
        "area": "Northfield and online",
    },
    {
        "slug": "cancer-carers-circle",
        "name": "Cancer carers circle",
        "summary": "For family and friends who look after someone with cancer. Talk to other "
        "carers who understand what it is like.",
        "condition": "Caring for someone with cancer",
        "audience": Programme.Audience.CAREGIVERS,
        "formats": Programme.Formats.BOTH,
        "area": "Online",
    },
    {
        "slug": "long-covid-recovery-peers",
        "name": "Long COVID recovery peers",
        "summary": "Support from people who have long COVID too: pacing, fatigue, going back "
        "to work, and being believed.",
        "condition": "Long COVID",
        "audience": Programme.Audience.BOTH,
        "formats": Programme.Formats.BOTH,
        "area": "Northfield and online",
    },
]

DESCRIPTION = (
    "After you join, a coordinator will say hello within a week.\n\n"
    "You can join a group that meets every week or two, in person or online. "
    "You can also ask for a buddy: a trained volunteer who has been through something "
    "similar, who you talk to by phone, video or messages.\n\n"
    "It is free. You can stop at any time."
)
PRIVACY = (
    "We keep your name, contact details and the groups you join, so we can run the programme "
    "and remind you of sessions. Only coordinators of this programme and your buddy see your "
    "details. We never sell or share them. You can ask us to delete them at any time."
)


@dataclass
class DemoContext:
    organisation: Organisation
    programmes: list[Programme]
    coordinators: list[User]
    clinician: User
    practice: Practice
    supporters: list[User] = field(default_factory=list)
    members: list[User] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(2026))


@cache
def _demo_password_hash() -> str:
    return make_password(DEMO_PASSWORD)


def demo_user(email: str, name: str, **extra) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User(email=email, display_name=name, password=_demo_password_hash(), **extra)
        user.save()
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _totp(user: User, secret: str) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, secret)


def seed() -> DemoContext:
    organisation, _ = Organisation.objects.get_or_create(
        slug="northfield-health",
        defaults={"name": "Northfield Health Peer Support", "contact_email": "hello@example.org"},
    )
    coordinators = [
        demo_user("coordinator@example.org", "Chris Coordinator"),
        demo_user("coordinator2@example.org", "Pat Organiser"),
    ]
    for user, role in zip(
        coordinators, [StaffMembership.Role.ADMIN, StaffMembership.Role.COORDINATOR], strict=True
    ):
        StaffMembership.objects.get_or_create(
            organisation=organisation, user=user, defaults={"role": role}
        )
        _totp(user, DEMO_TOTP_SECRETS[user.email])

    programmes = []
    for spec in PROGRAMMES:
        programme, _ = Programme.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                **{k: v for k, v in spec.items() if k != "slug"},
                "organisation": organisation,
                "description": DESCRIPTION,
                "privacy_notice": PRIVACY,
                "status": Programme.Status.OPEN,
                "created_by": coordinators[0],
            },
        )
        programmes.append(programme)
    Programme.objects.get_or_create(
        slug="heart-failure-peers",
        defaults={
            "organisation": organisation,
            "name": "Heart failure peers",
            "summary": "Being planned: peer support for people living with heart failure.",
            "description": DESCRIPTION,
            "condition": "Heart failure",
            "privacy_notice": PRIVACY,
            "status": Programme.Status.DRAFT,
        },
    )

    practice, _ = Practice.objects.get_or_create(
        organisation=organisation,
        name="Riverside Surgery",
        defaults={"kind": Practice.Kind.GP, "area": "Northfield"},
    )
    clinician = demo_user("clinician@example.org", "Dr Asha Patel")
    Clinician.objects.get_or_create(
        user=clinician,
        defaults={
            "practice": practice,
            "job_title": "GP",
            "status": Clinician.Status.APPROVED,
            "approved_by": coordinators[0],
        },
    )

    context = DemoContext(organisation, programmes, coordinators, clinician, practice)
    names = iter(FIRST_NAMES)
    for i in range(12):
        name = f"{next(names)} {LAST_INITIALS[i % len(LAST_INITIALS)]}."
        user = demo_user(f"supporter{i + 1}@example.org", name)
        context.supporters.append(user)
        programme = programmes[i % len(programmes)]
        Enrolment.objects.get_or_create(
            programme=programme,
            user=user,
            role=Enrolment.Role.SUPPORTER,
            defaults={
                "status": Enrolment.Status.ACTIVE if i < 10 else Enrolment.Status.APPLIED,
                "consent_version": programme.privacy_notice_version,
            },
        )
    for i in range(40):
        first, initial = FIRST_NAMES[(i + 12) % len(FIRST_NAMES)], LAST_INITIALS[(i * 7) % 18]
        name = f"{first} {initial}."
        user = demo_user(f"member{i + 1}@example.org", name)
        context.members.append(user)
        programme = programmes[i % len(programmes)]
        role = (
            Enrolment.Role.CAREGIVER
            if programme.audience == Programme.Audience.CAREGIVERS or i % 5 == 0
            else Enrolment.Role.PATIENT
        )
        Enrolment.objects.get_or_create(
            programme=programme,
            user=user,
            role=role,
            defaults={
                "consent_version": programme.privacy_notice_version,
                "assisted_by": coordinators[1] if i % 13 == 0 else None,
            },
        )
    return context
