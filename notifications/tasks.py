"""Celery tasks: thin wrappers around notifications.services, ids only as arguments."""

from __future__ import annotations

from celery import shared_task

from peersupport.enqueue import after_commit

from . import services


@shared_task(acks_late=True, ignore_result=True)
def notifications_dispatch() -> None:
    """Every minute: plan what has become due and hand it to workers in batches."""
    result = services.dispatch()
    enqueue_batches(result.batches)


def enqueue_batches(batches: list[list[int]]) -> None:
    # Rows of a batch the broker does not take stay due; dispatch hands them out again once
    # their enqueued_at is older than services.REQUEUE_AFTER.
    for batch in batches:
        after_commit(delivery_send_batch, batch)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def delivery_send_batch(delivery_ids: list[int]) -> None:
    """Send one batch of due deliveries, once.

    A provider error puts the row back with an exponential back-off (1, 2, 4... minutes,
    `Delivery.due_at`), and the next dispatch after that hands it out again; after
    NOTIFICATIONS_MAX_ATTEMPTS tries it is marked failed for coordinators to see. Keeping the
    back-off in the ledger, not in broker countdowns, means it survives a broker restart.
    """
    services.send_batch(ids=delivery_ids)


@shared_task(acks_late=True, ignore_result=True)
def coordinator_digests_plan() -> None:
    """Once a day: one summary e-mail per coordinator (sent by the next dispatch)."""
    services.plan_digests()
