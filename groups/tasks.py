"""Background jobs for groups: thin wrappers around services, safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import membership, services


@shared_task(bind=True, acks_late=True, max_retries=5)
def sessions_generate_all(self) -> int:
    """Keep each open group's sessions generated for the coming weeks."""
    return services.sessions_generate_all()


@shared_task(bind=True, acks_late=True, max_retries=5)
def waiting_list_offers_expire(self) -> int:
    """End waiting-list offers nobody answered in time and offer the places on."""
    return membership.offers_expire()
