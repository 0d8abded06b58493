"""Request ids and log hygiene.

Every request gets an id (the caller's `X-Request-ID` when it is a safe token, a new uuid4
otherwise). It is kept in a context variable, sent back in the response header, and added to
every log record as `request_id`, so the lines one request writes in the web process can be
found together. Paths are logged without query strings and with token-like segments replaced,
because links (referral links, e-mail confirmations) carry secrets in them.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from celery._state import get_current_task
from gunicorn import glogging

REQUEST_ID_HEADER = "X-Request-ID"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Letters, digits, dot, dash and underscore only: nothing that could forge a log line.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{7,127}")
# Long path segments are treated as secrets unless they read like a slug of short words.
_SLUG = re.compile(r"[a-z][a-z0-9]{0,19}(?:-[a-z0-9]{1,20})*")
_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_SECRET_MIN_LENGTH = 16

access_logger = logging.getLogger("peersupport.access")


def request_id_from_header(value: str | None) -> str:
    """The caller's request id when it is a safe token, else a new one."""
    if value and _SAFE_REQUEST_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


def redact_path(path: str) -> str:
    """The path without its query string, with token-like segments replaced by ':token'."""
    path = path.split("?", 1)[0]
    return "/".join(":token" if _looks_secret(segment) else segment for segment in path.split("/"))


def _looks_secret(segment: str) -> bool:
    if len(segment) < _SECRET_MIN_LENGTH:
        return False
    return bool(_UUID.fullmatch(segment)) or not _SLUG.fullmatch(segment)


class RequestIDMiddleware:
    """Give every request an id, for its log lines and its response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request_id_from_header(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        reset_token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(reset_token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIDFilter(logging.Filter):
    """Add `request_id` (and `task_id` in a Celery task) to every record; keep requests out.

    Django's request loggers attach the request object (whose repr holds the query string) and
    put the path in the message; the object is dropped and paths are redacted.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # Django logs a failed response after the middleware has finished: the request knows.
        request = record.__dict__.pop("request", None)
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or getattr(request, "request_id", None)
        task = get_current_task()
        if task is not None and task.request.id and not hasattr(record, "task_id"):
            record.task_id = task.request.id
        if record.name.startswith(("django.request", "django.server")) and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                redact_path(arg) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in args
            )
        return True


class GunicornLogger(glogging.Logger):
    """Gunicorn's access log as one structured record per request, through Django's logging.

    No query string, no client address and no user agent: ids and timings only.
    """

    def access(self, resp: Any, req: Any, environ: dict, request_time: timedelta) -> None:
        if not self.cfg.accesslog:
            return
        headers = {str(name).lower(): value for name, value in (resp.headers or [])}
        access_logger.info(
            "http.request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": redact_path(environ.get("PATH_INFO", "")),
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", None),
                "request_id": headers.get(REQUEST_ID_HEADER.lower()),
            },
        )
