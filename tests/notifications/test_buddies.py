"""Buddy pairings: matching's notices delivered through notifications (one notice per event),
and check-in nudges planned here."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from matching.models import CheckIn, ContactLog, MatchSettings, Notice
from matching.services import pairings as pairing_services
from matching.services.notices import notice_send
from notifications import services
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


# --- check-in nudges ----------------------------------------------------------------------


def _active_pairing(programme, started):
    pairing = make_pairing(programme, "active")
    pairing.activated_at = started
    pairing.save(update_fields=["activated_at"])
    return pairing


def test_it_nudges_the_supporter_once_after_the_programmes_days_without_contact(programme):
    MatchSettings.objects.create(programme=programme, no_contact_days=10)
    # Started more than 14 days ago, with the check-in answered: only the contact nudge.
    pairing = _active_pairing(programme, NOW - dt.timedelta(days=30))
    recipient, supporter = _people(pairing)
    for person in (recipient, supporter):
        CheckIn.objects.create(pairing=pairing, user=person, answer="good")
    last = NOW - dt.timedelta(days=10, minutes=3)
    pairing.last_contact_at = last
    pairing.save(update_fields=["last_contact_at"])
    dispatch_and_send(NOW - dt.timedelta(minutes=30))
    assert mail.outbox == []
    dispatch_and_send(NOW)
    dispatch_and_send(NOW + dt.timedelta(minutes=1))
    assert [m.to for m in mail.outbox] == [[supporter.email]]
    assert mail.outbox[0].subject == "Time to get in touch with your buddy"
    assert "10 days" in mail.outbox[0].body
    assert Notification.objects.filter(user=supporter, kind="checkin_nudge").count() == 1
    assert not Notification.objects.filter(user=recipient).exists()


def test_it_does_not_nudge_when_contact_was_logged_before_the_nudge_went_out(programme):
    pairing = _active_pairing(programme, NOW - dt.timedelta(days=30))
    for person in _people(pairing):
        CheckIn.objects.create(pairing=pairing, user=person, answer="good")
    pairing.last_contact_at = NOW - dt.timedelta(days=14, minutes=3)
    pairing.save(update_fields=["last_contact_at"])
    result = services.dispatch(now=NOW)
    assert Delivery.objects.filter(kind="checkin_nudge").count() == 2  # e-mail, in-app
    ContactLog.objects.create(pairing=pairing, contact_on=NOW.date(), minutes=20, method="phone")
    pairing.last_contact_at = NOW - dt.timedelta(hours=1)
    pairing.save(update_fields=["last_contact_at"])
    for batch in result.batches:
        services.send_batch(ids=batch, now=NOW)
    assert mail.outbox == []
    assert set(Delivery.objects.values_list("last_error", flat=True)) == {"contact logged since"}


def test_it_reminds_both_people_of_an_unanswered_check_in_once_each(programme):
    pairing = _active_pairing(programme, NOW - dt.timedelta(days=14, minutes=3))
    recipient, supporter = _people(pairing)
    pairing.last_contact_at = NOW - dt.timedelta(days=1)
    pairing.save(update_fields=["last_contact_at"])
    CheckIn.objects.create(pairing=pairing, user=supporter, answer="good")
    for minutes in (0, 1, 15):
        dispatch_and_send(NOW + dt.timedelta(minutes=minutes))
    assert [m.to for m in mail.outbox] == [[recipient.email]]
    assert mail.outbox[0].subject == "How is it going with your buddy?"
    keys = set(Delivery.objects.values_list("key", flat=True))
    assert keys == {
        f"checkin_nudge:answer:{pairing.pk}:{recipient.pk}:email",
        f"checkin_nudge:answer:{pairing.pk}:{recipient.pk}:in_app",
    }


def test_it_skips_a_check_in_nudge_answered_in_the_meantime_or_muted(programme):
    pairing = _active_pairing(programme, NOW - dt.timedelta(days=14, minutes=3))
    recipient, supporter = _people(pairing)
    pairing.last_contact_at = NOW - dt.timedelta(days=1)
    pairing.save(update_fields=["last_contact_at"])
    NotificationPreference.objects.create(user=supporter, muted_kinds=["checkin_nudge"])
    result = services.dispatch(now=NOW)
    assert set(Delivery.objects.values_list("user", flat=True)) == {recipient.pk}
    CheckIn.objects.create(pairing=pairing, user=recipient, answer="okay")
    for batch in result.batches:
        services.send_batch(ids=batch, now=NOW)
    assert mail.outbox == []
    assert set(Delivery.objects.values_list("status", flat=True)) == {"skipped"}


def test_coordinators_get_concern_alerts_even_if_they_muted_buddy_news(
    programme, coordinator, django_capture_on_commit_callbacks
):
    pairing = make_pairing(programme, "active")
    recipient, _supporter = _people(pairing)
    NotificationPreference.objects.create(
        user=coordinator, muted_kinds=["buddy_news", "staff_alert"], in_app_enabled=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        pairing_services.concern_report(user=recipient, pairing=pairing, text="Worried")
    alerts = [m for m in mail.outbox if m.to == [coordinator.email]]
    assert len(alerts) == 1
    assert "List-Unsubscribe" not in alerts[0].extra_headers
    assert Notification.objects.filter(user=coordinator, kind="staff_alert").exists()
    assert Notice.objects.get(user=coordinator).audience == "staff"


def test_safety_alerts_cannot_be_unsubscribed():
    token = services.unsubscribe_token(user_id=1, kind="staff_alert")
    with pytest.raises(services.BadUnsubscribeLink):
        services.unsubscribe(token=token)
