"""A real Celery worker sends a named referral's invitation, once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from referrals import services
from referrals.models import Referral

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker(tmp_path):
    settings_dict = connection.settings_dict
    database_url = (
        f"postgres://{settings_dict['USER']}:{settings_dict['PASSWORD']}@{settings_dict['HOST']}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "VAR_DIR": str(tmp_path / "var"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "peersupport",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "-Q",
            "celery",
            "--without-gossip",
            "--without-mingle",
        ],
        env=env,
        cwd=str(Path(__file__).resolve().parents[2]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield mail_dir
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


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
    from referrals.tasks import referral_invitation_send

    referral = _refer(clinician, programme, "Rosa Green", "rosa@example.org")
    _wait_for_mail(worker, "rosa@example.org")
    assert Referral.objects.get(pk=referral.pk).invitation_sent_at is not None
    # Queue it again, then a second referral: the solo worker runs them in order, so once the
    # second e-mail is there the duplicate task has run too, and must have sent nothing.
    referral_invitation_send.delay(referral.pk)
    _refer(clinician, programme, "Omar Shah", "omar@example.org")
    text = _wait_for_mail(worker, "omar@example.org")
    assert text.count("To: rosa@example.org") == 1
