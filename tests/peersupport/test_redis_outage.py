"""While Redis cannot be reached, people can still sign in and use the site."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import caches
from django.urls import reverse

from peersupport import cache as redis_cache
from tests import factories
from tests.groups.factories import GroupFactory, MembershipFactory
from tests.peersupport.test_health import closed_loopback_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings, monkeypatch):
    settings.CACHES = {
        "default": {
            "BACKEND": "peersupport.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_loopback_port()}/0",
        }
    }
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    settings.PAGE_CACHE = True
    monkeypatch.setattr(redis_cache, "_last_warning", 0.0, raising=False)
    # Django's setting_changed signal gives the new CACHES new connections.
    assert isinstance(caches["default"], redis_cache.RedisCache)


def test_the_cache_answers_as_an_empty_cache_that_keeps_nothing(redis_down):
    cache = caches["default"]
    cache.set("a", 1)
    assert cache.get("a") is None
    assert cache.get("a", "fallback") == "fallback"
    assert cache.get_many(["a", "b"]) == {}
    assert "a" not in cache
    assert cache.add("a", 1) is True
    with pytest.raises(ValueError):
        cache.incr("a")
    assert cache.set_many({"a": 1}) == []
    assert cache.delete("a") is False
    cache.delete_many(["a"])
    assert cache.touch("a") is False


def test_it_logs_the_outage_once_not_for_every_call(redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="peersupport.cache"):
        for _ in range(5):
            caches["default"].get("a")
    assert [r.getMessage() for r in caplog.records] == ["cache.unavailable"]


def test_a_person_signs_in_with_the_form_and_sees_their_groups(client, programme, redis_down):
    member = factories.EnrolmentFactory(programme=programme).user
    group = GroupFactory(programme=programme, name="Tuesday walkers")
    MembershipFactory(group=group, user=member)

    response = client.post(
        reverse("account_login"), {"login": member.email, "password": factories.TEST_PASSWORD}
    )
    assert response.status_code == 302

    page = client.get(reverse("groups:list"))
    assert page.status_code == 200
    assert page.wsgi_request.user == member
    assert "Tuesday walkers" in page.content.decode()


def test_writes_still_work_and_readyz_reports_the_outage(client, programme, redis_down):
    GroupFactory(programme=programme, name="Written while Redis is away")

    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == "error"


def test_a_silent_redis_host_cannot_hold_a_request_for_long(redis_down):
    options = caches["default"]._cache._pool_options
    assert options["socket_connect_timeout"] <= 2
    assert options["socket_timeout"] <= 5
