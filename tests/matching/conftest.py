from __future__ import annotations

import pytest
from django.utils import timezone

from matching.models import Pairing
from tests import factories

from .factories import BuddyRequestFactory, PairingFactory, SupporterProfileFactory


@pytest.fixture(autouse=True)
def _eager_celery():
    """Run tasks in the test process; the worker test starts a real worker instead."""
    from peersupport.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def supporter_profile(programme):
    return SupporterProfileFactory(enrolment__programme=programme)


@pytest.fixture
def supporter(supporter_profile):
    return supporter_profile.enrolment.user


@pytest.fixture
def buddy_request(programme, member):
    return BuddyRequestFactory(enrolment=member.enrolments.get(programme=programme))


def make_pairing(programme, status="active", **kwargs) -> Pairing:
    now = timezone.now()
    extra = {}
    if status in ("introduced", "active", "paused", "ended"):
        extra["introduced_at"] = now
    if status in ("active", "paused", "ended"):
        extra.update(recipient_accepted_at=now, supporter_accepted_at=now, activated_at=now)
    if status == "ended":
        extra.update(ended_at=now, ending="completed")
    return PairingFactory(request__enrolment__programme=programme, status=status, **extra, **kwargs)


@pytest.fixture
def pairing(programme):
    return make_pairing(programme, "active")


@pytest.fixture
def recipient_user(pairing):
    return pairing.recipient.user


@pytest.fixture
def supporter_user(pairing):
    return pairing.supporter.enrolment.user


@pytest.fixture
def other_org_programme(db):
    return factories.ProgrammeFactory()
