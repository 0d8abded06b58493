"""Open referrals made before invitations moved to the ledger keep their history there."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from notifications.models import Delivery
from tests.referrals.factories import ReferralFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("referrals", "0002_referral_links_and_referrals")]
AFTER = [("referrals", "0003_invitations_in_the_ledger")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_it_records_what_was_sent_and_plans_what_was_not():
    now = timezone.now()
    invited = ReferralFactory(email="a@example.org")
    reminded = ReferralFactory(email="b@example.org")
    never_sent = ReferralFactory(email="", phone="07700 900123", phone_normalised="+447700900123")
    opened = ReferralFactory(email="c@example.org", status="opened")
    try:
        old = _migrate(BEFORE).get_model("referrals", "Referral")
        old.objects.filter(pk=invited.pk).update(invitation_sent_at=now - dt.timedelta(days=2))
        old.objects.filter(pk=reminded.pk).update(
            invitation_sent_at=now - dt.timedelta(days=9),
            reminder_sent_at=now - dt.timedelta(days=2),
        )
        _migrate(AFTER)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    def rows(referral):
        return {
            f"{d.kind}:{d.channel}": (d.status, d.user_id, d.organisation_id)
            for d in Delivery.objects.for_referrals([referral.pk])
        }

    org = invited.programme.organisation_id
    assert rows(invited) == {
        "referral_invitation:email": ("sent", None, org),
        "referral_reminder:email": ("pending", None, org),
    }
    reminder = Delivery.objects.get(key=f"referral_reminder:{invited.pk}:email")
    assert abs(reminder.due_at - (now + dt.timedelta(days=5))) < dt.timedelta(seconds=5)
    assert set(rows(reminded).values()) == {("sent", None, reminded.programme.organisation_id)}
    assert rows(never_sent) == {
        "referral_invitation:sms": ("pending", None, never_sent.programme.organisation_id),
        "referral_reminder:sms": ("pending", None, never_sent.programme.organisation_id),
    }
    assert rows(opened) == {}
