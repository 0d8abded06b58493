from __future__ import annotations

from django.urls import reverse
from django.utils.translation import ngettext

from .models import Delivery

COLUMNS: list = []


def counts(programme_ids: list[int]) -> dict[int, dict[str, int]]:
    return {}


def alerts(user) -> list[dict]:
    failed = Delivery.objects.managed_by(user).failed().count()
    if not failed:
        return []
    text = ngettext(
        "%(n)d reminder or notice could not be delivered.",
        "%(n)d reminders or notices could not be delivered.",
        failed,
    ) % {"n": failed}
    return [{"text": text, "url": reverse("notifications:failed")}]
