from __future__ import annotations

import pytest

from notifications.sms import LocmemSmsBackend


@pytest.fixture(autouse=True)
def _sms_outbox(settings, tmp_path):
    settings.NOTIFICATIONS_SMS_BACKEND = "notifications.sms.LocmemSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    LocmemSmsBackend.outbox = []
    yield LocmemSmsBackend.outbox


@pytest.fixture
def sms_outbox(_sms_outbox):
    return _sms_outbox
