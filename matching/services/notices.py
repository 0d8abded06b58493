"""Notices: recorded once under a unique key, then delivered by the worker.

A notice never holds message text or health details: it says something happened and links to
the page. The notifications app delivers it on the person's chosen channels (e-mail with an
unsubscribe link, text message, the bell on the website), so there is one way to tell people.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from peersupport.enqueue import after_commit, requeue
from programmes.models import Programme

from ..models import Notice

logger = logging.getLogger(__name__)


def notice_queue(
    *, key: str, user: User, subject: str, body: str, audience: str = Notice.Audience.MEMBER
) -> Notice | None:
    """Record a notice under `key` (a second call with the same key does nothing) and send it.

    Notices to coordinators (`audience` staff) are safety alerts that people cannot mute.
    """
    notice, created = Notice.objects.get_or_create(
        key=key[:120],
        defaults={"user": user, "subject": subject[:200], "body": body, "audience": audience},
    )
    if not created:
        return None
    from ..tasks import notice_send

    after_commit(notice_send, notice.pk)  # if the broker is away, notices_requeue sends it
    return notice


REQUEUE_AFTER = timedelta(minutes=5)
REQUEUE_WITHIN = timedelta(days=2)


def notices_requeue(*, now=None) -> int:
    """Queue again the notices still waiting a while after they were made: the broker could
    not take them, or their retries ran out. Tried for two days; claiming keeps it to once."""
    from ..tasks import notice_send

    now = now or timezone.now()
    waiting = Notice.objects.filter(
        status=Notice.Status.PENDING,
        created_at__lt=now - REQUEUE_AFTER,
        created_at__gte=now - REQUEUE_WITHIN,
    )
    count = requeue(notice_send, waiting)
    if count:
        logger.info("matching.notices_requeued", extra={"count": count})
    return count


def notice_send(*, notice_id: int) -> None:
    """Hand one notice to the notifications app, at most once: the row is claimed first.

    Notifications records each channel under its own key before sending, and retries a
    provider's errors itself, so a notice marked sent here has been delivered or is queued.
    """
    from notifications.services import matching_notice_deliver

    claimed = Notice.objects.filter(pk=notice_id, status=Notice.Status.PENDING).update(
        status=Notice.Status.SENDING
    )
    if not claimed:
        return
    notice = Notice.objects.select_related("user").get(pk=notice_id)
    if not notice.user.is_active:
        Notice.objects.filter(pk=notice_id).update(status=Notice.Status.SKIPPED)
        return
    try:
        matching_notice_deliver(notice=notice)
    except Exception:
        # Give the row back so a retry can send it.
        Notice.objects.filter(pk=notice_id).update(status=Notice.Status.PENDING)
        raise
    Notice.objects.filter(pk=notice_id).update(status=Notice.Status.SENT, sent_at=timezone.now())
    logger.info("matching.notice_sent", extra={"notice_id": notice_id})


def coordinators_of(programme: Programme):
    return User.objects.filter(
        staff_memberships__organisation_id=programme.organisation_id, is_active=True
    ).distinct()


def link(path: str) -> str:
    return f"{settings.SITE_URL}{path}"
