"""Celery tasks: thin wrappers around services, ids as arguments, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from . import services


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def referral_invitation_send(self, referral_id: int) -> bool:
    """E-mail one named referral's invitation, once."""
    try:
        return services.referral_invitation_send(referral_id=referral_id)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def referral_reminder_send(self, referral_id: int) -> bool:
    """E-mail one gentle reminder for an unopened invitation, once."""
    try:
        return services.referral_reminder_send(referral_id=referral_id)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def clinician_invitation_send(self, invitation_id: int) -> bool:
    """E-mail one clinician invitation, once."""
    try:
        return services.clinician_invitation_send(invitation_id=invitation_id)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True)
def referrals_housekeeping() -> dict:
    """Beat: expire unused invitations after 30 days and queue reminders due after 7 days."""
    expired = services.referrals_expire()
    due = services.referral_ids_due_reminder()
    for referral_id in due:
        transaction.on_commit(lambda rid=referral_id: referral_reminder_send.delay(rid))
    return {"expired": expired, "reminders": len(due)}
