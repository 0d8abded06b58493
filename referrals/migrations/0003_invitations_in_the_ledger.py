"""Named referrals' invitations and reminders move to the notifications ledger.

Open referrals keep what they had: an invitation or reminder already e-mailed is recorded as
sent, and what had not gone yet is planned (a referral with only a mobile number now gets its
invitation by text message), so nothing is sent twice and nothing is lost.
"""

import datetime as dt

from django.db import migrations
from django.utils import timezone

REMINDER_AFTER = dt.timedelta(days=7)


def _row(Delivery, referral, kind, channel, *, sent_at=None, due_at=None):
    return Delivery(
        key=f"{kind}:{referral.pk}:{channel}",
        user=None,
        organisation_id=referral.programme.organisation_id,
        kind=kind,
        channel=channel,
        status="sent" if sent_at else "pending",
        object_id=referral.pk,
        due_at=sent_at or due_at,
        sent_at=sent_at,
        expires_at=referral.expires_at,
    )


def carry_over(apps, schema_editor):
    Referral = apps.get_model("referrals", "Referral")
    Delivery = apps.get_model("notifications", "Delivery")
    now = timezone.now()
    rows = []
    open_referrals = Referral.objects.filter(
        kind="named", status="sent", expires_at__gt=now
    ).select_related("programme")
    for referral in open_referrals.iterator():
        invited = referral.invitation_sent_at
        if referral.email:
            rows.append(_row(Delivery, referral, "referral_invitation", "email", sent_at=invited, due_at=now))
            rows.append(
                _row(
                    Delivery,
                    referral,
                    "referral_reminder",
                    "email",
                    sent_at=referral.reminder_sent_at,
                    due_at=(invited or now) + REMINDER_AFTER,
                )
            )
        if referral.phone_normalised:
            rows.append(_row(Delivery, referral, "referral_invitation", "sms", due_at=now))
            rows.append(_row(Delivery, referral, "referral_reminder", "sms", due_at=now + REMINDER_AFTER))
    Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("referrals", "0002_referral_links_and_referrals"),
        ("notifications", "0005_referral_deliveries"),
    ]

    operations = [
        migrations.RunPython(carry_over, migrations.RunPython.noop),
        migrations.RemoveField(model_name="referral", name="invitation_sent_at"),
        migrations.RemoveField(model_name="referral", name="reminder_sent_at"),
    ]
