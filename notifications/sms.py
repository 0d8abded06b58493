"""Text messages through a small backend interface, chosen by settings.NOTIFICATIONS_SMS_BACKEND.

- `FileSmsBackend` (development): writes each message to a file in var/sms/.
- `HttpSmsBackend`: a JSON-over-HTTPS provider API with a bearer token. It sends an
  `Idempotency-Key` header (a hash of the delivery key), so a provider that honours it
  never delivers a message twice, even when we retry after a crash.
- `LocmemSmsBackend` (tests): keeps messages in `outbox`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider did not take the message."""


class SmsTemporaryError(SmsError):
    """Worth trying again later (network trouble, rate limit, provider error)."""


class SmsPermanentError(SmsError):
    """Will never work (bad number, bad request)."""


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str
    idempotency_key: str


def idempotency_key(delivery_key: str) -> str:
    """A stable, opaque id for one delivery: no personal data leaves in it."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{delivery_key}".encode()).hexdigest()[:40]


class BaseSmsBackend:
    def send(self, message: SmsMessage) -> str:
        """Send one message and return the provider's id for it, or raise SmsError."""
        raise NotImplementedError


class FileSmsBackend(BaseSmsBackend):
    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path or getattr(settings, "SMS_FILE_PATH", settings.VAR_DIR / "sms"))

    def send(self, message: SmsMessage) -> str:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / f"{message.idempotency_key}.txt"
        target.write_text(f"To: {message.to}\n\n{message.body}\n", encoding="utf-8")
        logger.info("sms.written", extra={"sms_id": message.idempotency_key})
        return message.idempotency_key


class LocmemSmsBackend(BaseSmsBackend):
    outbox: list[SmsMessage] = []

    def send(self, message: SmsMessage) -> str:
        type(self).outbox.append(message)
        return message.idempotency_key


class HttpSmsBackend(BaseSmsBackend):
    """POST {"to", "from", "body"} as JSON to SMS_API_URL with `Authorization: Bearer`."""

    def __init__(self) -> None:
        self.url = settings.SMS_API_URL
        self.token = settings.SMS_API_TOKEN
        self.sender = settings.SMS_FROM
        self.timeout = getattr(settings, "SMS_API_TIMEOUT", 10)
        if not self.url:
            raise SmsPermanentError("SMS_API_URL is not set")

    def send(self, message: SmsMessage) -> str:
        payload = json.dumps({"to": message.to, "from": self.sender, "body": message.body})
        request = urllib.request.Request(  # noqa: S310 - the URL comes from settings
            self.url,
            data=payload.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": message.idempotency_key,
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as error:
            if error.code == 429 or error.code >= 500:
                raise SmsTemporaryError(f"provider HTTP {error.code}") from error
            raise SmsPermanentError(f"provider HTTP {error.code}") from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SmsTemporaryError(f"provider unreachable: {type(error).__name__}") from error
        try:
            return str(json.loads(body or b"{}").get("id", ""))
        except ValueError:
            return ""


def get_backend() -> BaseSmsBackend:
    path = getattr(settings, "NOTIFICATIONS_SMS_BACKEND", "notifications.sms.FileSmsBackend")
    return import_string(path)()
