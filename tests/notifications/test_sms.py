from __future__ import annotations

import datetime as dt

import pytest

from notifications import sms
from notifications.models import Delivery, NotificationPreference

from .factories import GroupSessionFactory, MembershipFactory
from .fake_sms import FakeSmsProvider
from .helpers import dispatch_and_send

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def provider(settings):
    with FakeSmsProvider() as fake:
        settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.HttpSmsBackend"
        settings.SMS_API_URL = fake.url
        settings.SMS_API_TOKEN = fake.token
        settings.SMS_FROM = "PeerSupport"
        yield fake


def _texter(starts_at):
    session = GroupSessionFactory(starts_at=starts_at)
    person = MembershipFactory(group=session.group, user__phone="+447700900456").user
    NotificationPreference.objects.create(
        user=person, sms_enabled=True, email_enabled=False, in_app_enabled=False
    )
    return session, person


def test_it_sends_a_text_through_the_http_provider_with_a_token_and_idempotency_key(provider):
    session, person = _texter(NOW + dt.timedelta(minutes=45))
    dispatch_and_send(NOW)
    (request,) = provider.requests
    assert request["auth"] == "Bearer test-token"
    assert request["body"]["to"] == "+447700900456"
    assert request["body"]["from"] == "PeerSupport"
    assert session.group.name in request["body"]["body"]
    row = Delivery.objects.get(channel="sms", status="sent")
    assert request["key"] == sms.idempotency_key(row.key)
    assert person.email not in request["key"]


def test_it_retries_after_a_provider_error_and_then_succeeds(provider):
    _texter(NOW + dt.timedelta(minutes=45))
    provider.fail_next = [503]
    dispatch_and_send(NOW)
    row = Delivery.objects.get(channel="sms", data__offset=60)
    assert row.status == "pending"
    assert row.last_error == "SmsTemporaryError"
    assert row.due_at == NOW + dt.timedelta(minutes=1)
    dispatch_and_send(NOW + dt.timedelta(seconds=30))  # not yet
    assert len(provider.requests) == 1
    dispatch_and_send(NOW + dt.timedelta(minutes=1))
    row.refresh_from_db()
    assert row.status == "sent" and row.attempts == 2
    assert len(provider.delivered) == 1


def test_it_gives_up_at_once_when_the_provider_refuses_the_message(provider):
    _texter(NOW + dt.timedelta(minutes=45))
    provider.fail_next = [400]
    dispatch_and_send(NOW)
    row = Delivery.objects.get(channel="sms", data__offset=60)
    assert row.status == "failed"
    assert row.last_error == "SmsPermanentError: provider HTTP 400"


def test_it_retries_when_the_provider_cannot_be_reached(settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.HttpSmsBackend"
    settings.SMS_API_URL = "http://127.0.0.1:9/messages"
    settings.SMS_API_TIMEOUT = 2
    _texter(NOW + dt.timedelta(minutes=45))
    dispatch_and_send(NOW)
    row = Delivery.objects.get(channel="sms", data__offset=60)
    assert row.status == "pending" and row.last_error == "SmsTemporaryError"


def test_the_file_backend_writes_one_file_per_message(tmp_path):
    backend = sms.FileSmsBackend(str(tmp_path))
    backend.send(sms.SmsMessage(to="+447700900000", body="Hello", idempotency_key="abc"))
    assert (tmp_path / "abc.txt").read_text().endswith("Hello\n")
