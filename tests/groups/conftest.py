from __future__ import annotations

import pytest

from tests import factories
from tests.groups.factories import GroupFactory, MembershipFactory


@pytest.fixture
def group(programme):
    return GroupFactory(programme=programme)


@pytest.fixture
def group_member(group):
    return MembershipFactory(group=group).user


@pytest.fixture
def facilitator(group):
    user = factories.SupporterEnrolmentFactory(programme=group.programme).user
    group.facilitators.add(user)
    return user
