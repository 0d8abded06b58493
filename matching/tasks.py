"""Celery tasks for matching: thin wrappers, ids as arguments, safe to run twice."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_init


@worker_init.connect
def load_matching_solver(**kwargs) -> None:
    """Compile (or load) the engine's re-solver before the pool forks, not in the first run."""
    from .engine import augment

    augment.load()


@shared_task(bind=True, acks_late=True, max_retries=0)
def match_run_execute(self, run_id: int) -> None:
    """Run one queued matching run."""
    from .services.runs import match_run_execute as execute

    execute(run_id=run_id)


@shared_task(bind=True, acks_late=True, max_retries=5, default_retry_delay=60)
def notice_send(self, notice_id: int) -> None:
    """Send one e-mail notice, once."""
    from .services.notices import notice_send as send

    try:
        send(notice_id=notice_id)
    except Exception as exc:  # a mail server hiccup: try again later
        raise self.retry(exc=exc) from exc


@shared_task(acks_late=True, ignore_result=True)
def notices_requeue() -> None:
    """Beat, every ten minutes: queue again notices the broker could not take."""
    from .services.notices import notices_requeue as requeue

    requeue()
