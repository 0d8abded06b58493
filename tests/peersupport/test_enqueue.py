"""A broker that cannot be reached never turns saved work into an error page or loses it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from matching import tasks as matching_tasks
from matching.models import MatchRun, Notice
from matching.services.notices import notices_requeue
from peersupport.enqueue import after_commit
from referrals import tasks as referrals_tasks
from referrals.services import clinician_invitations_requeue
from tests.referrals.factories import ClinicianInvitationFactory

pytestmark = pytest.mark.django_db


def broker_away(*args, **kwargs):
    raise OperationalError("Error 111 connecting to the broker. Connection refused.")


class Recorder:
    name = "tests.recorder"

    def __init__(self):
        self.calls = []

    def delay(self, *args):
        self.calls.append(args)


def test_a_task_the_broker_cannot_take_is_logged_and_reported(
    django_capture_on_commit_callbacks, caplog, monkeypatch
):
    task = Recorder()
    monkeypatch.setattr(task, "delay", broker_away)
    failures = []
    with (
        caplog.at_level(logging.ERROR, logger="peersupport.enqueue"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        after_commit(task, 42, on_failure=lambda: failures.append(True))
    assert failures == [True]
    [record] = caplog.records
    assert record.getMessage() == "task.enqueue_failed"
    assert record.task == "tests.recorder" and record.ids == [42]


def test_a_run_the_broker_cannot_take_fails_with_a_reason_the_coordinator_sees(
    client, coordinator, programme, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(matching_tasks.match_run_execute, "delay", broker_away)
    client.force_login(coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("matching:run_start", args=[programme.pk]))
    run = MatchRun.objects.get()
    assert response.status_code == 302
    assert run.status == MatchRun.Status.FAILED
    assert "could not be handed to the background worker" in run.error
    page = client.get(reverse("matching:manage_run", args=[run.pk]))
    assert "Please start the run again in a few minutes." in page.content.decode()


def test_notices_still_waiting_are_queued_again(
    member, monkeypatch, django_capture_on_commit_callbacks
):
    recorder = Recorder()
    monkeypatch.setattr(matching_tasks.notice_send, "delay", recorder.delay)
    now = timezone.now()

    def notice(key, age, status=Notice.Status.PENDING):
        made = Notice.objects.create(key=key, user=member, subject="s", body="b", status=status)
        Notice.objects.filter(pk=made.pk).update(created_at=now - age)
        return made

    waiting = notice("waiting", timedelta(minutes=30))
    notice("just made", timedelta(minutes=1))
    notice("sent", timedelta(minutes=30), Notice.Status.SENT)
    notice("too old", timedelta(days=3))

    with django_capture_on_commit_callbacks(execute=True):
        assert notices_requeue(now=now) == 1
    assert recorder.calls == [(waiting.pk,)]


def test_clinician_invitations_not_sent_are_queued_again(
    monkeypatch, django_capture_on_commit_callbacks
):
    recorder = Recorder()
    monkeypatch.setattr(referrals_tasks.clinician_invitation_send, "delay", recorder.delay)
    now = timezone.now()
    unsent = ClinicianInvitationFactory()
    ClinicianInvitationFactory(sent_at=now)
    ClinicianInvitationFactory(revoked_at=now)
    fresh = ClinicianInvitationFactory()
    for invitation, age in ((unsent, timedelta(hours=1)), (fresh, timedelta(minutes=1))):
        type(invitation).objects.filter(pk=invitation.pk).update(created_at=now - age)
    for other in type(unsent).objects.exclude(pk__in=[unsent.pk, fresh.pk]):
        type(other).objects.filter(pk=other.pk).update(created_at=now - timedelta(hours=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert clinician_invitations_requeue(now=now) == 1
    assert recorder.calls == [(unsent.pk,)]
