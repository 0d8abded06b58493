"""Buddy pairings: matching's notices delivered through notifications (one notice per event)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from matching.models import Notice
from matching.services import pairings as pairing_services
from matching.services.notices import notice_send
from notifications.models import Delivery, Notification, NotificationPreference
from tests.matching.conftest import make_pairing
from tests.matching.factories import PairingFactory

from .helpers import dispatch_and_send

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _eager_celery():
    from peersupport.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


def _people(pairing):
    return pairing.recipient.user, pairing.supporter.enrolment.user


def test_it_sends_no_notice_of_its_own_when_a_pairing_is_created():
    with time_machine.travel(NOW - dt.timedelta(seconds=20), tick=False):
        PairingFactory()
    dispatch_and_send(NOW)
    assert not Delivery.objects.exists()
    assert mail.outbox == []


def test_it_tells_each_person_once_when_introduced_by_email_and_the_bell(
    programme, coordinator, django_capture_on_commit_callbacks
):
    pairing = make_pairing(programme, "proposed")
    recipient, supporter = _people(pairing)
    with django_capture_on_commit_callbacks(execute=True):
        pairing_services.pairing_introduce(coordinator=coordinator, pairing=pairing)
    assert sorted(m.to[0] for m in mail.outbox) == sorted([recipient.email, supporter.email])
    assert {m.subject for m in mail.outbox} == {"Meet your buddy"}
    message = mail.outbox[0]
    assert "/notifications/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    assert "sign in" in message.body.lower()
    assert set(Notification.objects.values_list("user", flat=True)) == {recipient.pk, supporter.pk}
    notice = Notification.objects.get(user=recipient)
    assert notice.title == "Meet your buddy"
    assert notice.url == reverse("matching:pairing", kwargs={"pk": pairing.pk})
    # The task running again (a retry, a second worker) sends nothing more.
    for row in Notice.objects.all():
        Notice.objects.filter(pk=row.pk).update(status="pending")
        notice_send(notice_id=row.pk)
    assert len(mail.outbox) == 2
    assert Notification.objects.count() == 2
    assert not Delivery.objects.exclude(status="sent").exists()


def test_it_keeps_buddy_news_off_the_channels_a_person_turned_off(
    programme, coordinator, django_capture_on_commit_callbacks
):
    pairing = make_pairing(programme, "proposed")
    recipient, supporter = _people(pairing)
    NotificationPreference.objects.create(user=recipient, muted_kinds=["buddy_news"])
    NotificationPreference.objects.create(user=supporter, email_enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        pairing_services.pairing_introduce(coordinator=coordinator, pairing=pairing)
    assert mail.outbox == []
    assert list(Notification.objects.values_list("user", flat=True)) == [supporter.pk]
    assert set(Notice.objects.values_list("status", flat=True)) == {"sent"}


def test_it_splits_the_link_from_a_notice_body(settings):
    from notifications.sources import notice_text_and_link

    settings.SITE_URL = "https://peers.example"
    text, url = notice_text_and_link("Hello.\n\nSign in.\n\nhttps://peers.example/buddy/7/")
    assert (text, url) == ("Hello.\n\nSign in.", "/buddy/7/")
    assert notice_text_and_link("No link here.") == ("No link here.", "")
