"""Exactly-once against a real Celery worker and Redis (run with PostgreSQL + a Redis broker).

The worker runs in a subprocess against pytest's test database; tests poll with a deadline.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pytest
from django.utils import timezone

from notifications import services, sms
from notifications.models import Delivery, Notification, NotificationPreference
from notifications.tasks import delivery_send_batch, notifications_dispatch
from tests.worker import Worker, flush_broker, sent_mail, wait_until

from .factories import GroupSessionFactory, MembershipFactory
from .fake_sms import FakeSmsProvider

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def workers(tmp_path):
    flush_broker()
    started: list[Worker] = []

    def start(name: str = "w1", **env) -> Worker:
        worker = Worker(tmp_path, name, pool="threads", args=["--concurrency=3"], env=env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _sent_mail(tmp_path: Path) -> Counter:
    return Counter(message["Message-ID"] for message in sent_mail(tmp_path / "mail"))


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


def test_a_worker_killed_while_e_mailing_repeats_only_what_was_accepted_since_the_last_mark(
    tmp_path, workers, settings
):
    """E-mails are marked sent every NOTIFICATIONS_SENT_FLUSH_EVERY: a worker that dies can
    repeat only those accepted since the last mark, each with the Message-ID of its first copy."""
    flush = settings.NOTIFICATIONS_SENT_FLUSH_EVERY
    accepted_before_crash = flush + 5
    members = flush * 2 - 10
    _programme_with_members(n_sessions=1, per_session=members)
    for user in Delivery._meta.apps.get_model("accounts", "User").objects.all():
        NotificationPreference.objects.create(user=user, in_app_enabled=False)
    first = workers(
        "w1",
        EMAIL_BACKEND="tests.notifications.hanging_mail.HangingEmailBackend",
        TEST_MAIL_HANG_AFTER=str(accepted_before_crash),
    )
    result = services.dispatch()
    assert len(result.batches) == 1 and len(result.batches[0]) == members
    delivery_send_batch.delay(result.batches[0])

    def accepted_until_the_hang():
        """the mail server to accept the e-mails before it hangs"""
        return sum(_sent_mail(tmp_path).values()) >= accepted_before_crash

    wait_until(accepted_until_the_hang)
    first.kill()  # the server took these e-mails, but the worker never heard back
    assert Delivery.objects.filter(status="sent").count() == flush
    assert Delivery.objects.filter(status="sending").count() == members - flush

    workers("w2")
    later = services.dispatch(now=timezone.now() + services.LEASE + dt.timedelta(seconds=1))
    assert later.requeued == members - flush
    for batch in later.batches:
        delivery_send_batch.delay(batch)
    wait_until(_all_done)

    rows = Delivery.objects.filter(channel="email", data__offset=60)
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    counts = _sent_mail(tmp_path)
    assert set(counts) == {services.message_id(key) for key in rows.values_list("key", flat=True)}
    # Only the e-mails accepted after the last mark went twice, as the same message.
    repeated = accepted_before_crash - flush
    assert sorted(counts.values()) == [1] * (members - repeated) + [2] * repeated
