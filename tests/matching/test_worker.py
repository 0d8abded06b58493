"""A matching run done by a real Celery worker (PostgreSQL and a Redis broker)."""

from __future__ import annotations

import time

import pytest

from matching.models import MatchRun
from matching.services import runs as services
from tests.worker import Worker, flush_broker

from .factories import BuddyRequestFactory, SupporterProfileFactory

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def _eager_celery():
    """Override the package-wide eager mode: this test sends tasks to a real broker."""
    from peersupport.celery import app

    app.conf.task_always_eager = False
    yield


@pytest.fixture
def worker(tmp_path):
    flush_broker()
    process = Worker(tmp_path)
    yield process
    process.stop()


def test_it_runs_a_matching_run_through_a_real_worker(worker, coordinator, programme):
    SupporterProfileFactory.create_batch(2, enrolment__programme=programme)
    BuddyRequestFactory.create_batch(3, enrolment__programme=programme)
    run = services.match_run_start(coordinator=coordinator, programme=programme)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in ("done", "failed"):
            break
        worker.assert_running()
        time.sleep(0.2)
    assert run.status == "done", run.error or run.status
    assert run.recipients_count == 3 and run.supporters_count == 2
    assert run.proposals_count == 2 and run.unmatched_count == 1
    assert run.duration_ms is not None and run.finished_at is not None
    assert MatchRun.objects.get(pk=run.pk).proposals.count() == 2
