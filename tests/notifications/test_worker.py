"""Exactly-once against a real Celery worker and Redis (run with PostgreSQL + a Redis broker).

The worker runs in a subprocess against pytest's test database; tests poll with a deadline.
"""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from notifications import services, sms
from notifications.models import Delivery, Notification, NotificationPreference
from notifications.tasks import delivery_send_batch, notifications_dispatch

from .factories import GroupSessionFactory, MembershipFactory
from .fake_sms import FakeSmsProvider

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def wait_until(check, timeout: float = 60.0, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {check.__doc__ or check}")


def _database_url() -> str:
    s = connection.settings_dict
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{host}/{s['NAME']}"


class Worker:
    def __init__(self, tmp_path: Path, name: str, extra_env: dict[str, str] | None = None):
        self.name = name
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(tmp_path / "mail"),
            "DB_CONN_MAX_AGE": "0",
            "VAR_DIR": str(tmp_path / "var"),
            **(extra_env or {}),
        }
        self.log = open(tmp_path / f"{name}.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "peersupport", "worker",
                "--pool=threads", "--concurrency=3", "--loglevel=INFO",
                "--without-heartbeat", "--without-gossip", "--without-mingle",
                "-n", f"{name}@%h",
            ],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        log_path = tmp_path / f"{name}.log"

        def ready():
            """the worker to start"""
            return "ready." in log_path.read_text()

        wait_until(ready, timeout=60)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


@pytest.fixture
def workers(tmp_path):
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    started: list[Worker] = []

    def start(name: str = "w1", **env) -> Worker:
        worker = Worker(tmp_path, name, env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _sent_mail(tmp_path: Path) -> Counter:
    ids: Counter = Counter()
    folder = tmp_path / "mail"
    if not folder.exists():
        return ids
    for path in folder.iterdir():
        # The file backend writes several messages per file, separated by a line of dashes.
        for chunk in path.read_bytes().split(b"-" * 79):
            if chunk.strip():
                ids[email.message_from_bytes(chunk.strip())["Message-ID"]] += 1
    return ids


def _programme_with_members(n_sessions: int, per_session: int):
    starts_at = timezone.now() + dt.timedelta(minutes=50)
    for _ in range(n_sessions):
        session = GroupSessionFactory(starts_at=starts_at)
        MembershipFactory.create_batch(per_session, group=session.group)


def _all_done():
    """every delivery to be finished"""
    return not Delivery.objects.filter(status__in=["pending", "sending"]).exists()


def test_it_sends_each_reminder_once_when_beat_fires_twice_and_workers_race(tmp_path, workers):
    _programme_with_members(n_sessions=6, per_session=5)
    workers("w1")
    workers("w2")
    # Beat fires twice, and each batch is also handed out three times to racing workers.
    notifications_dispatch.delay()
    notifications_dispatch.delay()
    wait_until(lambda: Delivery.objects.exists())
    batches = services.due_batches(now=timezone.now() + dt.timedelta(minutes=11))
    for batch in batches * 3:
        delivery_send_batch.delay(batch)
    wait_until(_all_done)
    email_rows = Delivery.objects.filter(channel="email", status="sent")
    assert email_rows.count() == 30
    counts = _sent_mail(tmp_path)
    assert len(counts) == 30 and set(counts.values()) == {1}
    assert {services.message_id(key) for key in email_rows.values_list("key", flat=True)} == set(
        counts
    )
    assert Notification.objects.count() == 30


def test_a_worker_killed_halfway_through_a_batch_loses_nothing_and_repeats_at_most_one(
    tmp_path, workers
):
    _programme_with_members(n_sessions=1, per_session=8)
    for membership_user in Delivery._meta.apps.get_model("accounts", "User").objects.all():
        membership_user.phone = f"+4477009{membership_user.pk:05d}"
        membership_user.save(update_fields=["phone"])
        NotificationPreference.objects.create(
            user=membership_user, sms_enabled=True, email_enabled=False, in_app_enabled=False
        )
    with FakeSmsProvider() as provider:
        provider.hold_after = 3  # the fourth text hangs: the worker dies while sending it
        provider.hold.clear()
        env = {
            "SMS_BACKEND": "notifications.sms.HttpSmsBackend",
            "SMS_API_URL": provider.url,
            "SMS_API_TOKEN": provider.token,
        }
        first = workers("w1", **env)
        result = services.dispatch()
        assert len(result.batches) == 1
        delivery_send_batch.delay(result.batches[0])

        def fourth_text_in_flight():
            """the fourth text to reach the provider"""
            return len(provider.requests) >= 4

        wait_until(fourth_text_in_flight)
        first.kill()
        provider.hold.set()  # the provider takes the message, but nobody hears the answer

        assert Delivery.objects.filter(status="sent").count() == 3
        assert Delivery.objects.filter(status="sending").count() == 5

        workers("w2", **env)
        # The crashed worker's rows come back once their lease has run out.
        later = services.dispatch(now=timezone.now() + services.LEASE + dt.timedelta(seconds=1))
        assert later.requeued == 5
        for batch in later.batches:
            delivery_send_batch.delay(batch)
        wait_until(_all_done)

    rows = Delivery.objects.filter(channel="sms", data__offset=60)
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    per_key = Counter(request["key"] for request in provider.requests)
    expected = {sms.idempotency_key(key) for key in rows.values_list("key", flat=True)}
    assert set(per_key) == expected
    # Only the one message in flight at the crash was offered twice, under the same key,
    # so the provider delivered every text exactly once.
    assert sorted(per_key.values()) == [1] * 7 + [2]
    assert set(provider.delivered) == expected
