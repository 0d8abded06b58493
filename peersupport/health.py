"""Health endpoints for load balancers and orchestrators.

`/healthz` says the process is up and touches nothing else. `/readyz` says whether this
process can serve: the database, the cache and the Celery broker must each answer within a
short timeout. Each check runs in its own thread so that a server that hangs cannot hold the
probe longer than the timeout; errors are reported by kind only (a message could hold a URL
with a password in it).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from kombu import Connection

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 3.0


def check_database() -> None:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            if cursor.fetchone() != (1,):
                raise RuntimeError("unexpected answer")
    finally:
        # The check runs in a short-lived thread: do not leave its connection open.
        connection.close()


def check_cache() -> None:
    cache = caches["default"]
    key = f"readyz:{secrets.token_hex(8)}"
    value = secrets.token_hex(8)
    cache.set(key, value, timeout=10)
    try:
        if cache.get(key) != value:
            raise RuntimeError("value not stored")
    finally:
        cache.delete(key)


def check_broker() -> None:
    # Built from settings (not the Celery app's cached configuration) and closed straight away.
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=dict(getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})),
        connect_timeout=CHECK_TIMEOUT_SECONDS,
    ) as connection:
        # One attempt, no retry: kombu would otherwise sleep between attempts.
        connection.ensure_connection(max_retries=0, interval_start=0, timeout=CHECK_TIMEOUT_SECONDS)


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks(timeout: float = CHECK_TIMEOUT_SECONDS) -> dict[str, str]:
    """Run every check at once; each is "ok", "error" or "timeout"."""
    results: dict[str, str] = dict.fromkeys(CHECKS, "timeout")

    def run(name: str, check: Callable[[], None]) -> None:
        try:
            check()
        except Exception as exc:
            results[name] = "error"
            logger.warning(
                "readyz.check_failed", extra={"component": name, "error": type(exc).__name__}
            )
        else:
            results[name] = "ok"

    threads = [
        threading.Thread(target=run, args=(name, check), name=f"readyz-{name}", daemon=True)
        for name, check in CHECKS.items()
    ]
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    for name, status in results.items():
        if status == "timeout":
            logger.warning("readyz.check_failed", extra={"component": name, "error": "timeout"})
    return dict(results)


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    """The process is up and answering."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when the database, cache and broker all answer; 503 with what failed otherwise."""
    checks = run_checks()
    ready = all(status == "ok" for status in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
