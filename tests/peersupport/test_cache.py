from __future__ import annotations

import pytest
from django.core.cache import caches

from peersupport.cache import RedisCache


@pytest.mark.skipif(
    not isinstance(caches["default"], RedisCache), reason="needs the Redis cache (REDIS_URL)"
)
def test_the_redis_cache_reuses_one_client_and_still_works():
    cache = caches["default"]
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    cache.set("peersupport:test", {"a": 1}, 10)
    assert cache.get("peersupport:test") == {"a": 1}
    assert cache.get_many(["peersupport:test", "peersupport:none"]) == {
        "peersupport:test": {"a": 1}
    }
