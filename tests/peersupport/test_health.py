from __future__ import annotations

import socket
import threading

import pytest

from peersupport import health
from tests import factories


def closed_loopback_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_it_says_the_process_is_up_without_touching_the_database(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Cache-Control"].startswith("max-age=0")


def test_it_refuses_to_change_anything_on_the_health_endpoints(client):
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


@pytest.mark.django_db
def test_it_is_ready_when_database_cache_and_broker_answer(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok"},
    }


@pytest.mark.django_db
def test_it_is_not_ready_when_the_broker_does_not_answer(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_loopback_port()}/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "cache": "ok", "broker": "error"},
    }


@pytest.mark.django_db
def test_it_is_not_ready_when_the_cache_does_not_answer(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_loopback_port()}/0",
        }
    }

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "ok", "cache": "error", "broker": "ok"}


def test_it_does_not_wait_longer_than_the_timeout_for_a_hung_component(monkeypatch):
    release = threading.Event()
    monkeypatch.setattr(
        health,
        "CHECKS",
        {"database": lambda: None, "cache": lambda: release.wait(10), "broker": lambda: None},
    )
    try:
        results = health.run_checks(timeout=0.2)
    finally:
        release.set()

    assert results == {"database": "ok", "cache": "timeout", "broker": "ok"}


def test_it_does_not_say_why_a_component_failed(client, settings, monkeypatch):
    def failing_check():
        raise ConnectionError("redis://:s3cret@10.0.0.9:6379/0 refused")

    monkeypatch.setattr(health, "CHECKS", {"broker": failing_check})

    response = client.get("/readyz")

    assert response.status_code == 503
    assert b"s3cret" not in response.content


@pytest.mark.django_db
def test_it_answers_probes_over_plain_http_when_https_is_required(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/").status_code == 301


@pytest.mark.django_db
def test_it_answers_probes_for_staff_who_have_not_set_up_two_step_sign_in(client):
    staff = factories.CoordinatorFactory(mfa=False).user
    client.force_login(staff)

    assert client.get("/").status_code == 302
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
