from __future__ import annotations

import datetime as dt
import email as email_lib

import pytest
import time_machine
from django.core import mail

from groups.models import GroupSession, SessionChange, WaitingListOffer
from notifications import services
from notifications.models import (
    Delivery,
    DispatchMark,
    Notification,
    NotificationPreference,
    OrganisationNotificationSettings,
)
from tests.factories import CoordinatorFactory, UserFactory

from .factories import (
    GroupSessionFactory,
    MembershipFactory,
    SessionChangeFactory,
    WaitingListOfferFactory,
)
from .helpers import dispatch_and_send

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)


def _session(starts_at, members=1, **kwargs):
    session = GroupSessionFactory(starts_at=starts_at, **kwargs)
    people = [MembershipFactory(group=session.group).user for _ in range(members)]
    return session, people


def _advance(start: dt.datetime, until: dt.datetime, step=dt.timedelta(minutes=1)):
    moment = start
    while moment <= until:
        dispatch_and_send(moment)
        moment += step


def test_it_sends_the_24_hour_and_1_hour_reminders_once_each_by_email_and_in_app():
    session, (person,) = _session(NOW + dt.timedelta(hours=25))
    with time_machine.travel(NOW, tick=False):
        dispatch_and_send(NOW)  # first run: nothing due yet
    assert len(mail.outbox) == 0
    _advance(NOW + dt.timedelta(minutes=59), NOW + dt.timedelta(minutes=62))
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(user=person).count() == 1
    _advance(NOW + dt.timedelta(hours=23, minutes=59), NOW + dt.timedelta(hours=24, minutes=2))
    assert len(mail.outbox) == 2
    assert Notification.objects.filter(user=person).count() == 2
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert Delivery.objects.count() == 4  # two reminders x (e-mail, in-app)


def test_it_creates_nothing_twice_when_beat_fires_twice():
    _session(NOW + dt.timedelta(minutes=50), members=3)
    first = services.dispatch(now=NOW)
    rows = Delivery.objects.count()
    second = services.dispatch(now=NOW)
    assert Delivery.objects.count() == rows
    assert Delivery.objects.filter(status="pending").count() == 6
    assert second.batches == []  # already handed to a worker
    for batch in first.batches + first.batches:
        services.send_batch(ids=batch, now=NOW)
    assert len(mail.outbox) == 3
    assert Notification.objects.count() == 3


def test_it_hands_out_new_rows_in_the_order_they_fell_due_one_session_together(settings):
    settings.NOTIFICATIONS_BATCH_SIZE = 2
    later, _people = _session(NOW + dt.timedelta(minutes=55))
    sooner, _people = _session(NOW + dt.timedelta(minutes=50))
    # The last run was before these fell due (and after the day-before reminders).
    DispatchMark.objects.create(name="planner", planned_until=NOW - dt.timedelta(minutes=20))
    result = services.dispatch(now=NOW)
    rows = Delivery.objects.in_bulk([pk for batch in result.batches for pk in batch])
    assert [[rows[pk].object_id for pk in batch] for batch in result.batches] == [
        [sooner.pk, sooner.pk],
        [later.pk, later.pk],
    ]


def test_it_hands_out_a_row_again_only_when_no_worker_took_it_in_time():
    _session(NOW + dt.timedelta(minutes=50), members=2)
    (batch,) = services.dispatch(now=NOW).batches
    assert services.dispatch(now=NOW + dt.timedelta(minutes=5)).batches == []
    later = NOW + services.REQUEUE_AFTER + dt.timedelta(minutes=1)
    assert services.dispatch(now=later).batches == [batch]
    services.send_batch(ids=batch, now=later)
    assert len(mail.outbox) == 2


def test_it_never_lets_two_sends_of_the_same_batch_both_claim_a_row():
    _session(NOW + dt.timedelta(minutes=50), members=2)
    batch = services.dispatch(now=NOW).batches[0]
    first = services.send_batch(ids=batch, now=NOW)
    second = services.send_batch(ids=batch, now=NOW)
    assert len(first.sent) == 4
    assert second.sent == [] and second.skipped == []
    assert len(mail.outbox) == 2


def test_it_attaches_the_session_calendar_file_and_unsubscribe_headers():
    session, (person,) = _session(NOW + dt.timedelta(hours=23, minutes=59))
    dispatch_and_send(NOW)
    (message,) = mail.outbox
    assert message.to == [person.email]
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/unsubscribe/" in message.extra_headers["List-Unsubscribe"]
    names = [a[0] for a in message.attachments]
    assert names == ["session.ics"]
    content = message.attachments[0][1]
    assert "BEGIN:VEVENT" in (content if isinstance(content, str) else content.decode())
    html = message.alternatives[0][0]
    assert session.group.name in html and "Stop these e-mails" in html
    parsed = email_lib.message_from_bytes(message.message().as_bytes())
    assert parsed["Message-ID"].endswith("@peersupport.notifications>")
    # The 1-hour reminder carries the calendar file too, with its time zone.
    dispatch_and_send(session.starts_at - dt.timedelta(minutes=59))
    assert len(mail.outbox) == 2
    ((name, later, _mimetype),) = mail.outbox[1].attachments
    assert name == "session.ics"
    assert "BEGIN:VTIMEZONE" in later and later == message.attachments[0][1]


def test_it_shows_the_time_in_the_persons_own_zone_across_a_clock_change():
    # 30 March 2026 01:30 UTC: London has just moved to BST (02:30 local).
    starts_at = dt.datetime(2026, 3, 30, 1, 30, tzinfo=dt.UTC)
    session, (person,) = _session(starts_at)
    person.time_zone = "Europe/London"
    person.save()
    other = MembershipFactory(group=session.group, user=UserFactory(time_zone="America/New_York"))
    dispatch_and_send(starts_at - dt.timedelta(minutes=59))
    bodies = {m.to[0]: m.subject for m in mail.outbox}
    assert "02:30 BST" in bodies[person.email]
    assert "21:30 EDT" in bodies[other.user.email]


def test_it_defers_text_messages_to_the_end_of_quiet_hours(sms_outbox):
    session, (person,) = _session(NOW + dt.timedelta(hours=24))
    person.phone = "+447700900123"
    person.save()
    NotificationPreference.objects.create(
        user=person,
        sms_enabled=True,
        quiet_start=dt.time(22, 0),
        quiet_end=dt.time(8, 0),
        session_reminder_offsets=[180],
    )
    # Due 06:00 UTC = 06:00 London (GMT): inside quiet hours until 08:00.
    due = session.starts_at - dt.timedelta(hours=3)
    _advance(due - dt.timedelta(minutes=1), due + dt.timedelta(minutes=2))
    assert sms_outbox == []
    assert len(mail.outbox) == 1  # e-mail is not held back
    row = Delivery.objects.get(channel="sms")
    assert row.status == "pending"
    assert row.due_at == dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC)
    dispatch_and_send(row.due_at)
    assert len(sms_outbox) == 1
    assert sms_outbox[0].to == "+447700900123"


def test_it_skips_a_text_when_quiet_hours_outlast_the_session(sms_outbox):
    session, (person,) = _session(NOW.replace(hour=7, minute=30) + dt.timedelta(days=1))
    person.phone = "+447700900123"
    person.save()
    NotificationPreference.objects.create(
        user=person, sms_enabled=True, quiet_start=dt.time(22, 0), quiet_end=dt.time(8, 0)
    )
    dispatch_and_send(session.starts_at - dt.timedelta(minutes=59))
    assert sms_outbox == []
    assert Delivery.objects.get(channel="sms", data__offset=60).last_error == "quiet hours"


def test_it_respects_channels_kinds_and_personal_offsets():
    session, (quiet, picky, own_times) = _session(NOW + dt.timedelta(minutes=100), members=3)
    NotificationPreference.objects.create(user=quiet, email_enabled=False, in_app_enabled=False)
    NotificationPreference.objects.create(user=picky, muted_kinds=["session_reminder"])
    NotificationPreference.objects.create(
        user=own_times, session_reminder_offsets=[120], in_app_enabled=False
    )
    _advance(
        NOW - dt.timedelta(minutes=21), NOW + dt.timedelta(minutes=42), dt.timedelta(minutes=3)
    )
    assert [m.to[0] for m in mail.outbox] == [own_times.email]
    assert Notification.objects.count() == 0


def test_it_uses_the_organisations_reminder_times():
    session, (person,) = _session(NOW + dt.timedelta(minutes=29))
    OrganisationNotificationSettings.objects.create(
        organisation=session.group.programme.organisation, session_reminder_offsets=[30]
    )
    dispatch_and_send(NOW)
    assert len(mail.outbox) == 1
    assert Delivery.objects.filter(data__offset=30, status="sent").count() == 2


def test_after_an_outage_it_sends_only_the_nearest_reminder_and_records_stale_ones():
    started, (late_person,) = _session(NOW - dt.timedelta(minutes=10))
    upcoming, (person,) = _session(NOW + dt.timedelta(minutes=30))
    services.plan_due(now=NOW - dt.timedelta(days=2))  # the last run before the outage
    dispatch_and_send(NOW)
    assert [m.to[0] for m in mail.outbox] == [person.email]
    sent = Delivery.objects.get(user=person, channel="email", status="sent")
    assert sent.data["offset"] == 60
    superseded = Delivery.objects.get(user=person, channel="email", data__offset=1440)
    assert superseded.status == "skipped" and "superseded" in superseded.last_error
    stale = Delivery.objects.filter(user=late_person)
    assert stale.count() == 4
    assert set(stale.values_list("status", flat=True)) == {"skipped"}


def test_it_skips_pending_reminders_when_the_session_has_started_by_send_time():
    _session(NOW + dt.timedelta(minutes=50))
    batches = services.dispatch(now=NOW).batches
    result = services.send_batch(ids=batches[0], now=NOW + dt.timedelta(minutes=55))
    assert len(result.skipped) == 2 and result.sent == []
    assert mail.outbox == []


def test_it_does_not_remind_about_cancelled_or_moved_sessions_or_people_who_left():
    cancelled, _people = _session(NOW + dt.timedelta(minutes=50))
    moved, _people = _session(NOW + dt.timedelta(minutes=50))
    left_group, (leaver,) = _session(NOW + dt.timedelta(minutes=50))
    batches = services.dispatch(now=NOW).batches
    GroupSession.objects.filter(pk=cancelled.pk).update(status="cancelled")
    GroupSession.objects.filter(pk=moved.pk).update(
        starts_at=moved.starts_at + dt.timedelta(days=1),
        ends_at=moved.ends_at + dt.timedelta(days=1),
    )
    left_group.group.memberships.filter(user=leaver).update(status="left")
    for batch in batches:
        services.send_batch(ids=batch, now=NOW)
    assert mail.outbox == []
    reasons = set(
        Delivery.objects.exclude(last_error__startswith="superseded").values_list(
            "last_error", flat=True
        )
    )
    assert reasons == {"session cancelled", "session moved", "no longer a member"}


def test_it_tells_members_when_a_session_is_moved_or_cancelled():
    session, (person,) = _session(NOW + dt.timedelta(days=3))
    SessionChangeFactory(
        session=session,
        kind=SessionChange.Kind.MOVED,
        created_at=NOW - dt.timedelta(seconds=30),
        previous_starts_at=NOW + dt.timedelta(days=2),
    )
    SessionChangeFactory(
        session=session, kind=SessionChange.Kind.CANCELLED, created_at=NOW - dt.timedelta(seconds=5)
    )
    dispatch_and_send(NOW)
    dispatch_and_send(NOW + dt.timedelta(minutes=1))
    subjects = sorted(m.subject for m in mail.outbox)
    assert len(subjects) == 2
    assert subjects[0].startswith("Cancelled:") and subjects[1].startswith("New time:")


def test_it_sends_a_waiting_list_offer_once_while_it_is_open():
    offer = WaitingListOfferFactory(created_at=NOW - dt.timedelta(minutes=1))
    closed = WaitingListOfferFactory(created_at=NOW - dt.timedelta(minutes=1))
    batches = services.dispatch(now=NOW).batches
    WaitingListOffer.objects.filter(pk=closed.pk).update(status="declined")
    for batch in batches:
        services.send_batch(ids=batch, now=NOW)
    dispatch_and_send(NOW + dt.timedelta(minutes=1))
    assert [m.to[0] for m in mail.outbox] == [offer.membership.user.email]
    assert "A place is free" in mail.outbox[0].subject


def test_it_sends_coordinators_a_daily_summary_when_there_is_something_to_report():
    staff = CoordinatorFactory()
    quiet_staff = CoordinatorFactory()
    Delivery.objects.create(
        key="x",
        user=UserFactory(),
        organisation=staff.organisation,
        kind="session_reminder",
        channel="email",
        status="failed",
        due_at=NOW - dt.timedelta(hours=2),
    )
    services.plan_digests(now=NOW)
    services.plan_digests(now=NOW)
    dispatch_and_send(NOW)
    assert [m.to[0] for m in mail.outbox] == [staff.user.email]
    assert "Messages we could not deliver: 1" in mail.outbox[0].body
    assert Delivery.objects.get(user=quiet_staff.user).last_error == "nothing new to report"


def test_it_retries_with_back_off_then_gives_up_and_marks_failed(settings, monkeypatch):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    _session(NOW + dt.timedelta(days=1, minutes=-1))
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.BrokenBackend"
    moment = NOW
    services.plan_due(now=NOW - dt.timedelta(minutes=5))
    waits = []
    for _ in range(3):
        result = dispatch_and_send(moment)
        row = Delivery.objects.get(channel="email")
        if row.status == "pending":
            waits.append(row.due_at - moment)
            moment = row.due_at
    assert waits == [dt.timedelta(minutes=1), dt.timedelta(minutes=2)]
    row = Delivery.objects.get(channel="email")
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "ConnectionRefusedError"
    assert result is not None
    assert Delivery.objects.get(channel="in_app").status == "sent"


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("smtp down")


def test_it_puts_back_rows_a_dead_worker_claimed_after_the_lease():
    _session(NOW + dt.timedelta(minutes=50))
    batch = services.dispatch(now=NOW).batches[0]
    token, rows = services.claim(batch, now=NOW)  # the worker dies here
    assert len(rows) == 2
    assert services.dispatch(now=NOW + dt.timedelta(minutes=5)).batches == []
    later = NOW + dt.timedelta(minutes=11)
    dispatch_and_send(later)
    assert len(mail.outbox) == 1
    assert Delivery.objects.filter(status="sent").count() == 2
    assert not Delivery.objects.filter(status__in=["pending", "sending"]).exists()


def test_it_gives_up_on_a_row_whose_workers_kept_dying_and_retries_the_others(settings):
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2
    _session(NOW + dt.timedelta(minutes=50))
    (batch,) = services.dispatch(now=NOW).batches
    services.claim(batch, now=NOW)  # the worker dies here
    again = NOW + services.LEASE + dt.timedelta(minutes=1)
    result = services.dispatch(now=again)
    assert result.requeued == 2 and result.batches == [batch]
    services.claim(batch, now=again)  # and the next one too, on the last allowed try
    last = again + services.LEASE + dt.timedelta(minutes=1)
    assert services.dispatch(now=last).requeued == 0
    rows = Delivery.objects.filter(pk__in=batch)
    assert set(rows.values_list("status", "last_error")) == {
        ("failed", "worker stopped while sending")
    }
