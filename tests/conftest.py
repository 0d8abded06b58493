from __future__ import annotations

import pytest
from django.db import connection

from tests import factories


@pytest.fixture(autouse=True)
def _fast_passwords_and_files(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_collection_modifyitems(config, items):
    """Skip PostgreSQL-only tests on SQLite, and browser tests when there is no Chromium."""
    import os

    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis_broker = os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")
    has_chromium = os.path.exists(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)"))
        if "worker" in item.keywords and not (on_postgres and has_redis_broker):
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL and a Redis broker for a real worker")
            )
        if "e2e" in item.keywords and not has_chromium:
            item.add_marker(pytest.mark.skip(reason="needs Debian's chromium at /usr/bin/chromium"))


@pytest.fixture
def organisation(db):
    return factories.OrganisationFactory()


@pytest.fixture
def coordinator(organisation):
    return factories.CoordinatorFactory(organisation=organisation).user


@pytest.fixture
def other_coordinator(db):
    return factories.CoordinatorFactory().user


@pytest.fixture
def programme(organisation):
    return factories.ProgrammeFactory(organisation=organisation)


@pytest.fixture
def member(programme):
    return factories.EnrolmentFactory(programme=programme).user


@pytest.fixture
def stranger(db):
    return factories.UserFactory()


@pytest.fixture
def clinician(organisation):
    return factories.ClinicianFactory(practice__organisation=organisation).user


@pytest.fixture
def using_postgres():
    return connection.vendor == "postgresql"
