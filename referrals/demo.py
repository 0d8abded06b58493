"""Demo data: the demo clinician's referral link with some uptake, and named referrals in
several statuses. The ones still waiting get their invitations when the demo's worker runs: by
e-mail (var/mail/) and by text message (var/sms/; texts wait until 08:00 at night). Keyed on
labels, e-mail addresses and mobile numbers, so seeding twice changes nothing."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from notifications.services import referral_messages_plan

from .models import Clinician, Referral, ReferralLink
from .services import link_referral_record, normalise_phone
from .tokens import new_token_pair

NAMED = [
    # (name, email, mobile, status, progress_consent)
    ("Rosa Green", "rosa.green@example.org", "", Referral.Status.SENT, True),
    ("Sam Cole", "", "07700 900456", Referral.Status.SENT, True),
    ("Omar Shah", "omar.shah@example.org", "", Referral.Status.OPENED, True),
    ("Jean Bell", "jean.bell@example.org", "", Referral.Status.ENROLLED, True),
    ("Tom Reid", "tom.reid@example.org", "", Referral.Status.ACTIVE, False),
    ("Ada Quinn", "ada.quinn@example.org", "", Referral.Status.DECLINED, True),
    ("Lee Park", "lee.park@example.org", "", Referral.Status.EXPIRED, True),
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

    for days_ago, (name, email, phone, status, consent) in enumerate(NAMED):
        phone_normalised = normalise_phone(phone)
        same_person = Q(email=email) if email else Q(phone_normalised=phone_normalised)
        if Referral.objects.filter(same_person, programme=programme).exists():
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
            phone=phone,
            phone_normalised=phone_normalised,
            contact_agreed=True,
            progress_consent=consent,
            status=status,
            token_nonce=nonce,
            token_hash=token_hash,
            expires_at=created + timedelta(days=Referral.VALID_DAYS),
        )
        Referral.objects.filter(pk=referral.pk).update(created_at=created)
        if status == Referral.Status.SENT:
            referral_messages_plan(referral=referral, now=now)
