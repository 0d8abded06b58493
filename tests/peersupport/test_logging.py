from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from gunicorn.config import Config
from pythonjsonlogger.json import JsonFormatter

from peersupport.logging import (
    GunicornLogger,
    RequestIDFilter,
    RequestIDMiddleware,
    redact_path,
    request_id_var,
)

TOKEN = "Xq3v_9TtVxw2sQ-LmK0aZbYp4RdNcEf7HgJi1UoWkAs"


class Capture(logging.Handler):
    """Keeps records after they pass the same filter as the console handler."""

    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIDFilter())

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def capture():
    handler = Capture()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def test_it_gives_each_response_a_new_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]

    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_it_keeps_the_callers_request_id_when_it_is_a_safe_token(client):
    response = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a9c.21_b"})

    assert response["X-Request-ID"] == "lb-7f3a9c.21_b"


@pytest.mark.parametrize(
    "unsafe",
    [
        "short",
        "has space in it",
        'quote"injected"here',
        "line\nbreak-here",
        "x" * 129,
        "é-not-ascii-id",
    ],
)
def test_it_replaces_a_request_id_that_is_not_a_safe_token(unsafe):
    request = RequestFactory().get("/healthz", HTTP_X_REQUEST_ID=unsafe)

    response = RequestIDMiddleware(lambda request: HttpResponse())(request)

    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_it_adds_the_request_id_to_every_record_logged_during_the_request(capture):
    logger = logging.getLogger("tests.peersupport")

    def view(request):
        logger.warning("something.happened", extra={"thing_id": 7})
        return HttpResponse()

    request = RequestFactory().get("/", HTTP_X_REQUEST_ID="abcdef123456")
    RequestIDMiddleware(view)(request)
    logger.warning("after.the.request")

    during, after = [r for r in capture.records if r.name == "tests.peersupport"]
    assert during.request_id == "abcdef123456"
    assert after.request_id is None
    assert request_id_var.get() is None


@pytest.mark.django_db
def test_it_logs_a_failed_request_with_its_id_and_without_tokens_or_query(client, capture):
    response = client.get(f"/no-such-page/{TOKEN}/?email=someone@example.org")

    assert response.status_code == 404
    [record] = [r for r in capture.records if r.name == "django.request"]
    assert record.request_id == response["X-Request-ID"]
    assert record.getMessage() == "Not Found: /no-such-page/:token/"
    assert not hasattr(record, "request")


def test_it_writes_json_lines_with_the_request_id():
    formatter = JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "reminder.sent", None, None)
    record.reminder_id = 5
    token = request_id_var.set("abcdef123456")
    try:
        RequestIDFilter().filter(record)
    finally:
        request_id_var.reset(token)

    line = json.loads(formatter.format(record))

    assert line["message"] == "reminder.sent"
    assert line["request_id"] == "abcdef123456"
    assert line["reminder_id"] == 5


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/programmes/living-well-with-parkinsons/", "/programmes/living-well-with-parkinsons/"),
        (f"/r/{TOKEN}/", "/r/:token/"),
        ("/r/abc/?token=secret&email=a@b.org", "/r/abc/"),
        ("/accounts/confirm-email/MQ:1uAbCd:Xy3zQwErTyUiOp/", "/accounts/confirm-email/:token/"),
        ("/calendar/3f2a9c1e8b7d4e6fa0b1c2d3e4f5a6b7.ics", "/calendar/:token"),
        ("/pairings/550e8400-e29b-41d4-a716-446655440000/", "/pairings/:token/"),
        ("/groups/12/sessions/34/", "/groups/12/sessions/34/"),
    ],
)
def test_it_logs_paths_without_query_strings_or_secrets(path, logged):
    assert redact_path(path) == logged


def test_it_writes_one_access_record_per_request_without_query_or_client(caplog):
    config = Config()
    config.set("accesslog", "-")
    gunicorn_logger = GunicornLogger(config)
    response = SimpleNamespace(
        status_code=200,
        sent=1234,
        headers=[("Content-Type", "text/html"), ("X-Request-ID", "abcdef123456")],
    )
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/r/{TOKEN}/",
        "QUERY_STRING": "email=someone@example.org",
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_USER_AGENT": "Phone",
    }

    with caplog.at_level(logging.INFO, logger="peersupport.access"):
        gunicorn_logger.access(response, None, environ, timedelta(milliseconds=12.34))

    [record] = [r for r in caplog.records if r.name == "peersupport.access"]
    assert (record.method, record.path, record.status) == ("GET", "/r/:token/", 200)
    assert (record.duration_ms, record.bytes, record.request_id) == (12.3, 1234, "abcdef123456")
    text = json.dumps({k: str(v) for k, v in record.__dict__.items()})
    assert "someone" not in text
    assert "203.0.113.9" not in text
    assert TOKEN not in text


def test_it_adds_the_task_id_to_records_logged_by_a_celery_task(capture):
    from peersupport.celery import app

    @app.task(name="tests.peersupport.log_something")
    def log_something():
        logging.getLogger("tests.peersupport").warning("task.ran")

    result = log_something.apply()

    [record] = [r for r in capture.records if r.name == "tests.peersupport"]
    assert record.task_id == result.id
