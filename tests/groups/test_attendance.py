from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from groups import attendance
from groups.errors import SessionNotChangeable
from tests.groups.factories import GroupSessionFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def test_it_records_attendance_and_counts_it(group, facilitator):
    past = GroupSessionFactory(group=group, starts_at=timezone.now() - dt.timedelta(days=1))
    people = [MembershipFactory(group=group).user for _ in range(3)]
    for person, status in zip(people, ["present", "present", "absent"], strict=True):
        attendance.attendance_mark(by=facilitator, session=past, user=person, status=status)
    attendance.attendance_mark(by=facilitator, session=past, user=people[2], status="apologies")
    figures = attendance.group_figures(group_ids=[group.pk])[group.pk]
    assert (figures["present"], figures["absent"], figures["apologies"]) == (2, 0, 1)
    assert figures["rate"] == 67
    rows = {row["user_id"]: row for row in attendance.member_figures(group=group)}
    assert rows[people[0].pk]["rate"] == 100
    assert rows[people[2].pk]["apologies"] == 1


def test_it_lets_only_facilitators_mark_attendance(group, group_member):
    session = GroupSessionFactory(group=group)
    with pytest.raises(PermissionDenied):
        attendance.attendance_mark(
            by=group_member, session=session, user=group_member, status="present"
        )


def test_it_takes_apologies_before_the_session_only(group, group_member, stranger):
    session = GroupSessionFactory(group=group)
    assert attendance.apologies_send(user=group_member, session=session).status == "apologies"
    with pytest.raises(PermissionDenied):
        attendance.apologies_send(user=stranger, session=session)
    past = GroupSessionFactory(group=group, starts_at=timezone.now() - dt.timedelta(hours=1))
    with pytest.raises(SessionNotChangeable):
        attendance.apologies_send(user=group_member, session=past)
