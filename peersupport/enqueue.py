"""Queue a Celery task once the transaction commits, without failing the request if it can't.

By the time an on-commit callback runs, the data is saved; a broker that cannot be reached
must not turn that into an error page. The failure is logged (task name and ids only: tasks
take ids, never personal details) and `on_failure` records it where a coordinator sees it,
or a periodic sweep queues the work again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import transaction

logger = logging.getLogger(__name__)


def after_commit(task, *args: int, on_failure: Callable[[], object] | None = None) -> None:
    """Run `task.delay(*args)` after the current transaction commits (at once outside one)."""

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:  # noqa: BLE001 - kombu and redis raise several kinds when unreachable
            logger.exception("task.enqueue_failed", extra={"task": task.name, "ids": list(args)})
            if on_failure is not None:
                on_failure()

    transaction.on_commit(send)


REQUEUE_AT_MOST = 1000


def requeue(task, waiting) -> int:
    """Queue `task(id)` again for the rows of `waiting` (a queryset, oldest first, at most
    REQUEUE_AT_MOST per sweep); the task claims its row, so a copy still queued does no harm."""
    ids = list(waiting.order_by("pk").values_list("pk", flat=True)[:REQUEUE_AT_MOST])
    for pk in ids:
        after_commit(task, pk)
    return len(ids)
