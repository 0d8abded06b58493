from __future__ import annotations

import pytest

from notifications.models import Delivery
from programmes import demo as programmes_demo
from referrals import demo
from referrals.models import Referral, ReferralLink

pytestmark = pytest.mark.django_db


def test_it_seeds_a_link_with_counts_and_named_referrals_once():
    context = programmes_demo.seed()
    demo.seed(context)
    demo.seed(context)
    link = ReferralLink.objects.with_counts().get()
    assert link.clinician.user == context.clinician
    assert link.visit_count > 0 and link.sign_up_count > 0 and link.enrolment_count > 0
    named = Referral.objects.filter(kind="named", clinician__user=context.clinician)
    assert named.count() == len(demo.NAMED)
    assert len(set(named.values_list("status", flat=True))) >= 5


def test_it_plans_invitations_for_the_waiting_referrals_by_email_and_text_once():
    context = programmes_demo.seed()
    demo.seed(context)
    demo.seed(context)
    waiting = Referral.objects.filter(kind="named", status="sent")
    assert set(waiting.values_list("patient_name", flat=True)) == {"Rosa Green", "Sam Cole"}
    invitations = Delivery.objects.for_referrals(waiting.values_list("pk", flat=True)).filter(
        kind="referral_invitation", status="pending"
    )
    assert sorted(invitations.values_list("channel", flat=True)) == ["email", "sms"]
    assert Delivery.objects.filter(kind__startswith="referral_").count() == 4
