"""Celery tasks: thin wrappers around services, ids as arguments, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def clinician_invitation_send(self, invitation_id: int) -> bool:
    """E-mail one clinician invitation, once."""
    try:
        return services.clinician_invitation_send(invitation_id=invitation_id)
    except OSError as exc:
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True)
def referrals_housekeeping() -> dict:
    """Beat: expire unused invitations after 30 days (reminders go through notifications),
    and queue again clinician invitations the broker could not take."""
    return {
        "expired": services.referrals_expire(),
        "invitations_requeued": services.clinician_invitations_requeue(),
    }
