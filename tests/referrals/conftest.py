from __future__ import annotations

import pytest

from tests import factories


@pytest.fixture
def eager_celery():
    """Run tasks in the test process: these tests are about the outcome, not the worker."""
    from peersupport.celery import app

    old = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def clinician_obj(clinician):
    return clinician.clinician


@pytest.fixture
def other_clinician(organisation):
    """Another approved clinician, at another practice of the same organisation."""
    return factories.ClinicianFactory(practice__organisation=organisation).user
