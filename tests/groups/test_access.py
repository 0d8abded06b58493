from __future__ import annotations

import pytest

from accounts.models import User
from groups import access
from groups.models import Group

pytestmark = pytest.mark.django_db


def _loaded(group: Group) -> Group:
    return (
        Group.objects.select_related("programme").prefetch_related("facilitators").get(pk=group.pk)
    )


def _fresh(user: User) -> User:
    # A new object, as each request reads the person again (roles are remembered on it).
    return User.objects.get(pk=user.pk)


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("coordinator", True),
        ("facilitator", True),
        ("group_member", False),
        ("member", False),
        ("other_coordinator", False),
        ("stranger", False),
    ],
)
def test_it_answers_can_moderate_without_a_query_the_same_as_with_one(
    request, group, who, expected, django_assert_num_queries
):
    user = _fresh(request.getfixturevalue(who))
    assert access.can_moderate(user, group) is expected
    loaded = _loaded(group)
    access.roles_for(user)
    with django_assert_num_queries(0):
        assert access.can_moderate_loaded(user, loaded) is expected


def test_it_lets_a_newly_added_facilitator_moderate_at_once(group, member):
    assert access.can_moderate_loaded(_fresh(member), _loaded(group)) is False
    group.facilitators.add(member)
    assert access.can_moderate_loaded(_fresh(member), _loaded(group)) is True
