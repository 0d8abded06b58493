from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from groups import discussion
from groups.errors import GuidelinesNotAccepted, PostingTooFast, ThreadLocked
from tests.groups.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _ready(user, group):
    discussion.guidelines_accept(user=user, group=group)
    return user


def test_it_asks_for_the_guidelines_before_a_first_post(group, group_member):
    with pytest.raises(GuidelinesNotAccepted):
        discussion.thread_create(user=group_member, group=group, title="Hi", body="Hello")
    _ready(group_member, group)
    thread = discussion.thread_create(user=group_member, group=group, title="Hi", body="Hello")
    assert thread.posts.get().body == "Hello"


def test_it_keeps_non_members_out(group, member, stranger):
    for person in (member, stranger):
        with pytest.raises(PermissionDenied):
            discussion.guidelines_accept(user=person, group=group)


def test_it_limits_how_fast_someone_posts(group, group_member, settings):
    settings.GROUPS_POSTS_PER_MINUTE = 3
    _ready(group_member, group)
    thread = discussion.thread_create(user=group_member, group=group, title="Hi", body="1")
    discussion.post_reply(user=group_member, thread=thread, body="2")
    discussion.post_reply(user=group_member, thread=thread, body="3")
    with pytest.raises(PostingTooFast):
        discussion.post_reply(user=group_member, thread=thread, body="4")
    assert thread.posts.count() == 3


def test_it_lets_members_report_and_facilitators_hide_and_restore(group, group_member, facilitator):
    _ready(group_member, group)
    thread = discussion.thread_create(user=group_member, group=group, title="Hi", body="Buy now")
    post = thread.posts.get()
    other = MembershipFactory(group=group).user
    report = discussion.post_report(user=other, post=post, reason="An advert")
    with pytest.raises(PermissionDenied):
        discussion.post_hide(by=other, post=post)
    discussion.post_hide(by=facilitator, post=post)
    post.refresh_from_db()
    report.refresh_from_db()
    assert post.is_hidden and post.hidden_by == facilitator
    assert report.resolved_by == facilitator
    discussion.post_restore(by=facilitator, post=post)
    post.refresh_from_db()
    assert not post.is_hidden


def test_it_closes_a_locked_thread_to_members_but_not_facilitators(
    group, group_member, facilitator
):
    _ready(group_member, group)
    _ready(facilitator, group)
    thread = discussion.thread_create(user=group_member, group=group, title="Hi", body="x")
    discussion.thread_set_locked(by=facilitator, thread=thread, locked=True)
    with pytest.raises(ThreadLocked):
        discussion.post_reply(user=group_member, thread=thread, body="y")
    discussion.post_reply(user=facilitator, thread=thread, body="Closing this now.")
    with pytest.raises(PermissionDenied):
        discussion.thread_set_locked(by=group_member, thread=thread, locked=False)
