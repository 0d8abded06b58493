"""Demo data: the demo clinician's referral link with some uptake, and named referrals in
several statuses. Keyed on labels and e-mail addresses, so seeding twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from .models import Clinician, Referral, ReferralLink
from .services import link_referral_record
from .tokens import new_token_pair

NAMED = [
    # (name, email, status, progress_consent)
    ("Rosa Green", "rosa.green@example.org", Referral.Status.SENT, True),
    ("Omar Shah", "omar.shah@example.org", Referral.Status.OPENED, True),
    ("Jean Bell", "jean.bell@example.org", Referral.Status.ENROLLED, True),
    ("Tom Reid", "tom.reid@example.org", Referral.Status.ACTIVE, False),
    ("Ada Quinn", "ada.quinn@example.org", Referral.Status.DECLINED, True),
    ("Lee Park", "lee.park@example.org", Referral.Status.EXPIRED, True),
]


def seed(context) -> None:
    clinician = Clinician.objects.get(user=context.clinician)
    programme = context.programmes[0]
    now = timezone.now()

    link = ReferralLink.objects.filter(
        programme=programme, clinician=clinician, label="Diabetes clinic waiting room"
    ).first()
    if link is None:
        nonce, token_hash = new_token_pair(ReferralLink.TOKEN_PURPOSE)
        link = ReferralLink.objects.create(
            programme=programme,
            clinician=clinician,
            practice=clinician.practice,
            created_by=context.clinician,
            label="Diabetes clinic waiting room",
            token_nonce=nonce,
            token_hash=token_hash,
            visit_count=23,
        )
    # Some members arrived through the poster; most of them have already joined.
    for member in context.members[0:12:3]:
        if member.enrolments.filter(programme=programme).exists():
            link_referral_record(link=link, user=member, new_account=True)

    for days_ago, (name, email, status, consent) in enumerate(NAMED, start=1):
        if Referral.objects.filter(programme=programme, email=email).exists():
            continue
        nonce, token_hash = new_token_pair(Referral.TOKEN_PURPOSE)
        created = now - timedelta(days=days_ago * 5)
        referral = Referral.objects.create(
            kind=Referral.Kind.NAMED,
            programme=programme,
            clinician=clinician,
            practice=clinician.practice,
            created_by=context.clinician,
            patient_name=name,
            email=email,
            contact_agreed=True,
            progress_consent=consent,
            status=status,
            token_nonce=nonce,
            token_hash=token_hash,
            expires_at=created + timedelta(days=Referral.VALID_DAYS),
            invitation_sent_at=created,
        )
        Referral.objects.filter(pk=referral.pk).update(created_at=created)
