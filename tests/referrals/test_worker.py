"""A real Celery worker sends a named referral's invitation through the ledger, once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from notifications.models import Delivery
from notifications.tasks import delivery_send_batch
from referrals import services
from tests.worker import Worker, flush_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    flush_broker()
    process = Worker(tmp_path, args=["-Q", "celery"])
    yield tmp_path / "mail"
    process.stop()


def _wait_for_mail(mail_dir: Path, recipient: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(mail_dir.glob("*")) if mail_dir.exists() else []
        text = "".join(f.read_text() for f in files)
        if f"To: {recipient}" in text:
            return text
        time.sleep(0.2)
    raise AssertionError(f"no e-mail to {recipient} within {timeout}s")


def _refer(clinician, programme, name, email):
    return services.referral_create(
        clinician_user=clinician,
        programme=programme,
        patient_name=name,
        email=email,
        contact_agreed=True,
        progress_consent=True,
    )


def test_it_sends_the_invitation_through_a_real_worker_exactly_once(worker, clinician, programme):
    referral = _refer(clinician, programme, "Rosa Green", "rosa@example.org")
    _wait_for_mail(worker, "rosa@example.org")
    invitation = Delivery.objects.get(key=f"referral_invitation:{referral.pk}:email")
    assert invitation.status == "sent" and invitation.user is None
    # Queue it again, then a second referral: the solo worker runs them in order, so once the
    # second e-mail is there the duplicate task has run too, and must have sent nothing.
    delivery_send_batch.delay([invitation.pk])
    _refer(clinician, programme, "Omar Shah", "omar@example.org")
    text = _wait_for_mail(worker, "omar@example.org")
    assert text.count("To: rosa@example.org") == 1
