"""Celery tasks: thin wrappers around notifications.services, ids only as arguments."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from . import services


@shared_task(acks_late=True, ignore_result=True)
def notifications_dispatch() -> None:
    """Every minute: plan what has become due and hand it to workers in batches."""
    result = services.dispatch()
    enqueue_batches(result.batches)


def enqueue_batches(batches: list[list[int]], countdown: float | None = None) -> None:
    for batch in batches:
        transaction.on_commit(
            lambda batch=batch: delivery_send_batch.apply_async((batch,), countdown=countdown)
        )


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def delivery_send_batch(self, delivery_ids: list[int]) -> None:
    """Send one batch of due deliveries, once; failed sends come back after a back-off."""
    result = services.send_batch(ids=delivery_ids)
    if result.retry:
        enqueue_batches([result.retry], countdown=result.retry_in.total_seconds())


@shared_task(acks_late=True, ignore_result=True)
def coordinator_digests_plan() -> None:
    """Once a day: one summary e-mail per coordinator (sent by the next dispatch)."""
    services.plan_digests()
