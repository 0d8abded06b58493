"""Group discussion: threads, replies, reports and peer moderation.

Members write plain text only: templates escape it and add line breaks, nothing else, so no
HTML from members reaches a page and links are never turned into previews.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User

from .access import can_moderate, require_moderator
from .errors import GroupError, GuidelinesNotAccepted, PostingTooFast, ThreadLocked
from .models import Group, GuidelinesAcceptance, Post, PostReport, Thread

logger = logging.getLogger(__name__)

GUIDELINES_VERSION = 1


def posts_per_minute() -> int:
    return getattr(settings, "GROUPS_POSTS_PER_MINUTE", 5)


def guidelines_accepted(*, user: User, group: Group) -> bool:
    return GuidelinesAcceptance.objects.filter(
        user=user, group=group, version=GUIDELINES_VERSION
    ).exists()


def guidelines_accept(*, user: User, group: Group) -> None:
    """Record that the person agreed to the community guidelines of this group."""
    if not Group.objects.discussable_by(user).filter(pk=group.pk).exists():
        raise PermissionDenied
    GuidelinesAcceptance.objects.update_or_create(
        user=user,
        group=group,
        defaults={"version": GUIDELINES_VERSION, "accepted_at": timezone.now()},
    )


def _check_can_post(user: User, group: Group) -> None:
    if not Group.objects.discussable_by(user).filter(pk=group.pk).exists():
        raise PermissionDenied
    if not guidelines_accepted(user=user, group=group):
        raise GuidelinesNotAccepted(_("Please read and agree to the group guidelines first."))
    # A fixed one-minute window per person, counted in the shared cache.
    key = f"groups:posts:{user.pk}:{int(timezone.now().timestamp() // 60)}"
    cache.add(key, 0, timeout=90)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, timeout=90)
        count = 1
    if count > posts_per_minute():
        raise PostingTooFast(_("You are posting very quickly. Please wait a minute and try again."))


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise GroupError(_("Please write a message."))
    return text


@transaction.atomic
def thread_create(*, user: User, group: Group, title: str, body: str) -> Thread:
    """Start a conversation in a group."""
    _check_can_post(user, group)
    title = (title or "").strip()
    if not title:
        raise GroupError(_("Please give your post a title."))
    now = timezone.now()
    thread = Thread.objects.create(
        group=group, author=user, title=title[:150], created_at=now, last_post_at=now
    )
    Post.objects.create(thread=thread, author=user, body=_clean(body), created_at=now)
    logger.info("group.thread_created", extra={"thread_id": thread.pk})
    return thread


@transaction.atomic
def post_reply(*, user: User, thread: Thread, body: str) -> Post:
    """Reply in a thread. Only facilitators can write in a locked thread."""
    if thread.is_locked and not can_moderate(user, thread.group):
        raise ThreadLocked(_("This conversation is closed to new replies."))
    _check_can_post(user, thread.group)
    now = timezone.now()
    post = Post.objects.create(thread=thread, author=user, body=_clean(body), created_at=now)
    Thread.objects.filter(pk=thread.pk).update(last_post_at=now)
    return post


def post_report(*, user: User, post: Post, reason: str) -> PostReport:
    """A member tells the facilitators about a post that breaks the guidelines."""
    if not Group.objects.discussable_by(user).filter(pk=post.thread.group_id).exists():
        raise PermissionDenied
    reason = (reason or "").strip()
    if not reason:
        raise GroupError(_("Please say what is wrong with this post."))
    try:
        with transaction.atomic():
            report = PostReport.objects.create(post=post, reporter=user, reason=reason[:1000])
    except IntegrityError as exc:
        raise GroupError(_("You have already reported this post. Thank you.")) from exc
    logger.info("group.post_reported", extra={"post_id": post.pk, "report_id": report.pk})
    return report


@transaction.atomic
def post_hide(*, by: User, post: Post) -> Post:
    """Hide a post from members; any reports about it are settled."""
    require_moderator(by, post.thread.group)
    now = timezone.now()
    post.is_hidden, post.hidden_by, post.hidden_at = True, by, now
    post.save(update_fields=["is_hidden", "hidden_by", "hidden_at"])
    post.reports.open().update(resolved_at=now, resolved_by=by)
    logger.info("group.post_hidden", extra={"post_id": post.pk})
    return post


@transaction.atomic
def post_restore(*, by: User, post: Post) -> Post:
    """Show a hidden post again; reports about it are settled too."""
    require_moderator(by, post.thread.group)
    post.is_hidden, post.hidden_by, post.hidden_at = False, None, None
    post.save(update_fields=["is_hidden", "hidden_by", "hidden_at"])
    post.reports.open().update(resolved_at=timezone.now(), resolved_by=by)
    return post


def reports_dismiss(*, by: User, post: Post) -> int:
    """The post is fine: close its reports and leave it showing."""
    require_moderator(by, post.thread.group)
    return post.reports.open().update(resolved_at=timezone.now(), resolved_by=by)


def thread_set_locked(*, by: User, thread: Thread, locked: bool) -> Thread:
    """Close a conversation to new replies, or open it again."""
    require_moderator(by, thread.group)
    thread.is_locked = locked
    thread.save(update_fields=["is_locked"])
    return thread
