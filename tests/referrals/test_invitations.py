"""A named referral's invitation and its one reminder go through the notifications ledger to a
person with no account: by e-mail, by text message or both, each exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from notifications import services as notification_services
from notifications.models import Delivery
from notifications.sms import LocmemSmsBackend
from referrals import services
from referrals.models import Referral
from tests import factories
from tests.notifications.fake_sms import FakeSmsProvider
from tests.notifications.helpers import dispatch_and_send

pytestmark = pytest.mark.django_db

# 10:00 in London (GMT in early March).
NOW = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
WEEK = dt.timedelta(days=7)


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.TIME_ZONE = "Europe/London"
    LocmemSmsBackend.outbox = []
    return LocmemSmsBackend.outbox


@pytest.fixture
def refer(clinician, programme, eager_celery, django_capture_on_commit_callbacks):
    """Refer someone at a moment; the invitation task runs (eagerly) once that commits."""

    def make(*, at=NOW, email="rosa@example.org", phone="", **kwargs) -> Referral:
        with (
            time_machine.travel(at, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return services.referral_create(
                clinician_user=clinician,
                programme=programme,
                patient_name=kwargs.pop("patient_name", "Rosa Green"),
                email=email,
                phone=phone,
                reason=kwargs.pop("reason", ""),
                contact_agreed=True,
                progress_consent=True,
                **kwargs,
            )

    return make


def _rows(referral, kind=None) -> dict[str, Delivery]:
    rows = Delivery.objects.for_referrals([referral.pk])
    if kind:
        rows = rows.filter(kind=kind)
    return {f"{row.kind}:{row.channel}": row for row in rows}


def _run(moment: dt.datetime) -> None:
    with time_machine.travel(moment, tick=False):
        dispatch_and_send(moment)


# --- planning ------------------------------------------------------------------------------


def test_it_plans_the_invitation_and_reminder_in_the_ledger_with_ids_only(
    clinician, programme, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks() as callbacks:
        referral = services.referral_create(
            clinician_user=clinician,
            programme=programme,
            patient_name="Rosa Green",
            email="rosa@example.org",
            phone="07700 900123",
            reason="recently diagnosed",
            contact_agreed=True,
            progress_consent=True,
        )
    assert len(callbacks) == 1  # the invitations, handed to a worker after commit
    rows = _rows(referral)
    assert sorted(rows) == [
        "referral_invitation:email",
        "referral_invitation:sms",
        "referral_reminder:email",
        "referral_reminder:sms",
    ]
    for name, row in rows.items():
        assert row.key == f"{row.kind}:{referral.pk}:{row.channel}"
        assert row.user is None and row.organisation == programme.organisation
        assert row.object_id == referral.pk and row.status == "pending" and row.data == {}
        assert row.expires_at == referral.expires_at
        assert row.due_at == (NOW if name.startswith("referral_invitation") else NOW + WEEK)
        stored = " ".join(str(value) for value in Delivery.objects.filter(pk=row.pk).values()[0])
        for personal in ("rosa", "7700", "Rosa Green", "diagnosed"):
            assert personal not in stored


def test_the_referral_and_its_messages_are_saved_together_or_not_at_all(
    clinician, programme, monkeypatch
):
    def broken_insert(rows):
        raise RuntimeError("database went away")

    monkeypatch.setattr(notification_services, "ledger_insert", broken_insert)
    with pytest.raises(RuntimeError):
        services.referral_create(
            clinician_user=clinician,
            programme=programme,
            patient_name="Rosa Green",
            email="rosa@example.org",
            contact_agreed=True,
            progress_consent=True,
        )
    assert not Referral.objects.exists()
    assert not Delivery.objects.exists()


# --- channels --------------------------------------------------------------------------------


def test_an_email_only_referral_gets_its_invitation_by_email(refer, sms_outbox):
    referral = refer(email="rosa@example.org", reason="recently diagnosed")
    assert [m.to for m in mail.outbox] == [["rosa@example.org"]]
    message = mail.outbox[0]
    assert message.subject.startswith("An invitation to")
    assert referral.url in message.body and "recently diagnosed" not in message.body
    assert message.alternatives and "text/html" in message.alternatives[0][1]
    assert message.extra_headers["Message-ID"] == notification_services.message_id(
        f"referral_invitation:{referral.pk}:email"
    )
    assert sms_outbox == []
    assert _rows(referral)["referral_invitation:email"].status == "sent"


def test_a_mobile_only_referral_gets_a_short_text(refer, sms_outbox, organisation, clinician):
    organisation.name = "Northfield Health"
    organisation.save()
    clinician.display_name = "Dr Asha Patel"
    clinician.save()
    referral = refer(email="", phone="07700 900123")
    assert mail.outbox == []
    assert len(sms_outbox) == 1
    text = sms_outbox[0]
    assert text.to == "+447700900123"
    assert referral.url in text.body and len(text.body) <= 160
    # With a greeting it would be 161 characters: the next wording fits in one text.
    assert text.body == (
        f"Dr Asha Patel asked Northfield Health to invite you to peer support: {referral.url}"
    )
    assert referral.programme.name not in text.body  # texts show on locked phones
    assert referral.programme.organisation.name in text.body
    assert sorted(_rows(referral)) == ["referral_invitation:sms", "referral_reminder:sms"]
    assert _rows(referral)["referral_invitation:sms"].status == "sent"


def test_a_referral_with_both_gets_an_email_and_a_text(refer, sms_outbox):
    referral = refer(email="rosa@example.org", phone="+44 7700 900123")
    assert [m.to for m in mail.outbox] == [["rosa@example.org"]]
    assert [t.to for t in sms_outbox] == ["+447700900123"]
    assert {row.status for row in _rows(referral, "referral_invitation").values()} == {"sent"}


def test_a_text_falls_back_to_shorter_words_when_names_are_long(
    refer, sms_outbox, organisation, clinician
):
    organisation.name = "Northfield and District Community Health Partnership"
    organisation.save()
    clinician.display_name = "Professor Alexandra Montgomery-Fitzwilliam"
    clinician.save()
    referral = refer(email="", phone="07700 900123", patient_name="Bartholomew Featherstonehaugh")
    body = sms_outbox[0].body
    assert len(body) <= 160 and body.endswith(referral.url)
    assert organisation.name in body  # the shortest still says who it is from


# --- exactly once ----------------------------------------------------------------------------


def test_the_invitation_goes_once_when_dispatch_and_sending_run_twice(
    clinician, programme, django_capture_on_commit_callbacks, sms_outbox
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks():
        # The task queued after commit is lost; beat's dispatcher must do it instead.
        referral = services.referral_create(
            clinician_user=clinician,
            programme=programme,
            patient_name="Rosa Green",
            email="rosa@example.org",
            phone="07700 900123",
            contact_agreed=True,
            progress_consent=True,
        )
    ids = [row.pk for row in _rows(referral, "referral_invitation").values()]
    # Handed to a worker already: the dispatcher leaves them alone for a while...
    assert notification_services.dispatch(now=NOW + dt.timedelta(minutes=1)).batches == []
    # ...and after that hands them out again; two workers get the same batch.
    later = NOW + dt.timedelta(minutes=11)
    with time_machine.travel(later, tick=False):
        batches = notification_services.dispatch(now=later).batches
        assert sorted(batches[0]) == sorted(ids)
        first = notification_services.send_batch(ids=batches[0], now=later)
        second = notification_services.send_batch(ids=batches[0], now=later)
        dispatch_and_send(later)
    assert sorted(first.sent) == sorted(ids) and second.sent == []
    assert len(mail.outbox) == 1 and len(sms_outbox) == 1


# --- the reminder ----------------------------------------------------------------------------


def test_the_reminder_goes_once_a_week_later_when_the_invitation_was_not_opened(refer, sms_outbox):
    referral = refer(email="rosa@example.org", phone="07700 900123")
    _run(NOW + WEEK - dt.timedelta(minutes=1))
    assert len(mail.outbox) == 1 and len(sms_outbox) == 1
    _run(NOW + WEEK)
    _run(NOW + WEEK + dt.timedelta(minutes=1))
    _run(NOW + WEEK + dt.timedelta(hours=2))
    assert len(mail.outbox) == 2 and len(sms_outbox) == 2
    reminder = mail.outbox[1]
    assert "reminder" in reminder.subject.lower()
    assert referral.url in reminder.body  # the same working link
    assert referral.url in sms_outbox[1].body and len(sms_outbox[1].body) <= 160
    assert {row.status for row in _rows(referral).values()} == {"sent"}


@pytest.mark.parametrize(
    ("close", "reason"),
    [
        (lambda referral: services.referral_mark_opened(referral=referral), "invitation opened"),
        (lambda referral: services.referral_decline(referral=referral), "person said no thanks"),
        (
            lambda referral: services.referral_withdraw(
                clinician_user=referral.clinician.user, referral=referral
            ),
            "referral withdrawn",
        ),
        (lambda referral: services.referrals_expire(), "invitation expired"),
    ],
)
def test_the_reminder_is_skipped_with_a_reason_once_the_invitation_is_no_longer_waiting(
    refer, sms_outbox, close, reason
):
    referral = refer(email="rosa@example.org", phone="07700 900123")
    with time_machine.travel(NOW + dt.timedelta(days=3), tick=False):
        if reason == "invitation expired":
            Referral.objects.filter(pk=referral.pk).update(expires_at=NOW + dt.timedelta(days=3))
        close(referral)
    _run(NOW + WEEK + dt.timedelta(minutes=1))
    assert len(mail.outbox) == 1 and len(sms_outbox) == 1
    reminders = _rows(referral, "referral_reminder").values()
    assert {(row.status, row.last_error) for row in reminders} == {("skipped", reason)}


def test_the_reminder_waits_a_week_after_a_late_invitation(refer, settings):
    settings.EMAIL_BACKEND = "tests.notifications.test_delivery.BrokenBackend"
    referral = refer(email="rosa@example.org")
    invitation = _rows(referral)["referral_invitation:email"]
    assert invitation.status == "pending" and invitation.attempts == 1  # to be tried again
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    two_days = NOW + dt.timedelta(days=2)
    _run(two_days)  # the mail server is back: the invitation goes now
    assert len(mail.outbox) == 1
    _run(NOW + WEEK + dt.timedelta(minutes=1))
    assert len(mail.outbox) == 1
    reminder = _rows(referral)["referral_reminder:email"]
    assert reminder.status == "pending" and reminder.due_at == two_days + WEEK
    _run(two_days + WEEK)
    assert len(mail.outbox) == 2


# --- no texts at night -------------------------------------------------------------------------


def test_a_text_due_at_night_waits_until_eight_in_the_morning(refer, sms_outbox):
    late = dt.datetime(2026, 7, 14, 21, 30, tzinfo=dt.UTC)  # 22:30 in London (summer time)
    morning = dt.datetime(2026, 7, 15, 7, 0, tzinfo=dt.UTC)  # 08:00 in London
    referral = refer(at=late, email="rosa@example.org", phone="07700 900123")
    assert len(mail.outbox) == 1  # e-mail is fine at night
    assert sms_outbox == []
    text = _rows(referral)["referral_invitation:sms"]
    assert text.status == "pending" and text.due_at == morning
    _run(morning - dt.timedelta(minutes=1))
    assert sms_outbox == []
    _run(morning)
    assert len(sms_outbox) == 1
    # The text's reminder comes a week after the text went, by day.
    assert _rows(referral)["referral_reminder:sms"].status == "pending"
    _run(morning + WEEK - dt.timedelta(minutes=1))
    assert len(sms_outbox) == 1
    _run(morning + WEEK)
    assert len(sms_outbox) == 2


def test_a_text_waiting_for_the_morning_is_not_sent_if_the_referral_was_withdrawn(
    refer, sms_outbox
):
    late = dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC)
    referral = refer(at=late, email="", phone="07700 900123")
    services.referral_withdraw(clinician_user=referral.clinician.user, referral=referral)
    _run(dt.datetime(2026, 3, 11, 8, 0, tzinfo=dt.UTC))
    assert sms_outbox == []
    row = _rows(referral)["referral_invitation:sms"]
    assert (row.status, row.last_error) == ("skipped", "referral withdrawn")


# --- failures that coordinators see --------------------------------------------------------------


@pytest.fixture
def provider(settings):
    with FakeSmsProvider() as fake:
        settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.HttpSmsBackend"
        settings.SMS_API_URL = fake.url
        settings.SMS_API_TOKEN = fake.token
        settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
        yield fake


def _fail_invitation_text(refer, provider) -> tuple[Referral, Delivery]:
    provider.fail_next = [503, 503, 503]
    referral = refer(email="", phone="07700 900123", patient_name="Rosa Green")
    moment = NOW
    for _ in range(3):
        row = _rows(referral)["referral_invitation:sms"]
        if row.status != "pending":
            break
        moment = row.due_at
        _run(moment)
    return referral, _rows(referral)["referral_invitation:sms"]


def test_a_text_that_keeps_failing_is_retried_with_back_off_then_marked_failed(refer, provider):
    referral, row = _fail_invitation_text(refer, provider)
    assert row.status == "failed" and row.attempts == 3
    assert row.last_error == "SmsTemporaryError: provider HTTP 503"
    assert len(provider.requests) == 3 and provider.delivered == {}
    # Every try carried the same idempotency key, and the reminder will not follow it.
    assert len({request["key"] for request in provider.requests}) == 1
    _run(NOW + WEEK + dt.timedelta(minutes=1))
    reminder = _rows(referral)["referral_reminder:sms"]
    assert (reminder.status, reminder.last_error) == (
        "skipped",
        "invitation was not sent this way",
    )


def test_the_organisations_coordinator_sees_the_failed_invitation_and_tries_again(
    client, coordinator, refer, provider
):
    referral, row = _fail_invitation_text(refer, provider)
    client.force_login(coordinator)
    failed = client.get(reverse("notifications:failed")).content.decode()
    assert "Rosa Green" in failed and "Text message" in failed
    assert reverse("referrals:referral_detail", args=[referral.pk]) in failed
    inbox = client.get(reverse("referrals:inbox", args=[referral.programme_id])).content.decode()
    assert "Invitation could not be sent by text message" in inbox
    detail_url = reverse("referrals:referral_detail", args=[referral.pk])
    detail = client.get(detail_url).content.decode()
    assert "Invitation could not be sent by text message" in detail
    assert reverse("notifications:failed_retry", args=[row.pk]) in detail

    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        response = client.post(
            reverse("notifications:failed_retry", args=[row.pk]), {"next": detail_url}
        )
    assert response.status_code == 302 and response.url == detail_url
    _run(NOW + dt.timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == "sent"
    assert len(provider.delivered) == 1
    inbox = client.get(reverse("referrals:inbox", args=[referral.programme_id])).content.decode()
    assert "could not be sent" not in inbox


def test_a_retried_invitation_gets_its_reminder_a_week_after_it_goes(coordinator, refer, provider):
    referral, row = _fail_invitation_text(refer, provider)
    _run(NOW + WEEK + dt.timedelta(minutes=1))
    assert _rows(referral)["referral_reminder:sms"].status == "skipped"
    retried_at = NOW + WEEK + dt.timedelta(hours=1)
    with time_machine.travel(retried_at, tick=False):
        notification_services.delivery_retry(actor=coordinator, delivery=row)
    _run(retried_at + dt.timedelta(minutes=1))
    assert _rows(referral)["referral_invitation:sms"].status == "sent"
    assert len(provider.delivered) == 1
    _run(retried_at + WEEK - dt.timedelta(hours=1))
    assert len(provider.delivered) == 1
    _run(retried_at + WEEK + dt.timedelta(minutes=2))
    assert _rows(referral)["referral_reminder:sms"].status == "sent"
    assert len(provider.delivered) == 2


def test_another_organisations_coordinator_sees_nothing_and_cannot_retry(
    client, other_coordinator, refer, provider
):
    referral, row = _fail_invitation_text(refer, provider)
    client.force_login(other_coordinator)
    failed = client.get(reverse("notifications:failed")).content.decode()
    assert "Rosa Green" not in failed and "Text message" not in failed
    assert client.get(reverse("referrals:referral_detail", args=[referral.pk])).status_code == 404
    response = client.post(reverse("notifications:failed_retry", args=[row.pk]))
    assert response.status_code == 404
    assert Delivery.objects.get(pk=row.pk).status == "failed"


def test_retrying_never_redirects_to_another_site(client, coordinator, refer, provider):
    _referral, row = _fail_invitation_text(refer, provider)
    client.force_login(coordinator)
    response = client.post(
        reverse("notifications:failed_retry", args=[row.pk]),
        {"next": "https://evil.example.com/"},
    )
    assert response.url == reverse("notifications:failed")


def test_the_referral_page_shows_what_became_of_each_message(client, coordinator, refer):
    referral = refer(email="rosa@example.org", phone="07700 900123")
    client.force_login(coordinator)
    with time_machine.travel(NOW + dt.timedelta(minutes=5), tick=False):
        detail = client.get(reverse("referrals:referral_detail", args=[referral.pk]))
    content = detail.content.decode()
    assert "Messages to the person" in content
    assert content.count("Sent 10 Mar 2026, 10:00") == 2
    assert content.count("Will go 17 Mar 2026, 10:00") == 2


@pytest.mark.parametrize("size", [2, 20])
def test_the_failed_list_and_inbox_run_a_fixed_number_of_queries_with_failed_invitations(
    client, coordinator, programme, django_assert_max_num_queries, size
):
    clinician = factories.ClinicianFactory(practice__organisation=programme.organisation).user
    for n in range(size):
        referral = services.referral_create(
            clinician_user=clinician,
            programme=programme,
            patient_name=f"Pat Person {n}",
            email=f"pat{n}@example.org",
            phone=f"07700 900{n:03d}",
            contact_agreed=True,
            progress_consent=True,
        )
        Delivery.objects.for_referrals([referral.pk]).update(
            status="failed", last_error="SmsPermanentError: provider HTTP 400"
        )
    client.force_login(coordinator)
    with django_assert_max_num_queries(8):
        failed = client.get(reverse("notifications:failed"))
    assert failed.content.decode().count("Pat Person") >= min(size, 25)
    with django_assert_max_num_queries(11):
        inbox = client.get(reverse("referrals:inbox", args=[programme.pk]))
    assert inbox.content.decode().count("Invitation could not be sent by text message") == size


@pytest.mark.parametrize("who", ["clinician", "member", "stranger"])
def test_people_who_are_not_coordinators_cannot_retry_an_invitation(
    client, request, who, refer, provider
):
    _referral, row = _fail_invitation_text(refer, provider)
    client.force_login(request.getfixturevalue(who))
    response = client.post(reverse("notifications:failed_retry", args=[row.pk]))
    assert response.status_code == 403
    assert Delivery.objects.get(pk=row.pk).status == "failed"


def test_people_with_accounts_are_not_offered_referral_invitations_as_a_choice(client, member):
    client.force_login(member)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'value="referral_invitation"' not in page and 'value="referral_reminder"' not in page
    assert 'value="session_reminder"' in page


def test_the_referring_clinician_is_told_the_invitation_did_not_reach_the_person(
    client, clinician, refer, provider
):
    _fail_invitation_text(refer, provider)
    client.force_login(clinician)
    home = client.get(reverse("referrals:clinician_home")).content.decode()
    assert "Invitation could not be sent by text message" in home
    assert "Please check their contact details with them." in home
