"""Django's Redis cache: one Redis client per connection pool, and an outage is not an error.

Django builds a new `redis.Redis` object for every cache operation, and each one sets up
its table of response callbacks: about a millisecond of CPU, paid for the session and again
for every cached page. The client is thread-safe and its pool starts afresh after a fork
(gunicorn's preloaded workers), so one per pool is enough.

While Redis cannot be reached, the cache behaves as an empty cache that keeps nothing:
reads miss, writes are dropped, `add` answers True and `incr` finds no key. People can still
sign in (sessions are kept in the database too) and every page still works; what Redis
alone holds is not enforced until it is back: sign-in and referral-link rate limits, and
the check that an authenticator-app code is used only once. `/readyz` reports the outage,
and a warning is logged at most every LOG_EVERY_SECONDS per process.
"""

from __future__ import annotations

import functools
import logging
import time

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.driver_info import DriverInfo

logger = logging.getLogger(__name__)

UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
LOG_EVERY_SECONDS = 30
# Without these a Redis host that has gone silent holds a request until gunicorn kills it.
DEFAULT_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}

_last_warning = 0.0


def _warn(operation: str, exc: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= LOG_EVERY_SECONDS:
        _last_warning = now
        logger.warning("cache.unavailable", extra={"operation": operation, "error": str(exc)})


def _when_unreachable(answer):
    """Give `answer(*args, **kwargs)` instead of failing while Redis cannot be reached."""

    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except UNREACHABLE as exc:
                _warn(method.__name__, exc)
                return answer(*args, **kwargs)

        return wrapper

    return decorate


def _no_key(*args, **kwargs):
    raise ValueError("Key not found (the cache cannot be reached).")


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        # redis-py otherwise looks its version up in the installed packages' metadata for
        # every new connection (~0.1 s, paid again by each new web worker).
        self._pool_options.setdefault("driver_info", DriverInfo(lib_version=redis.__version__))
        for name, seconds in DEFAULT_TIMEOUTS.items():
            self._pool_options.setdefault(name, seconds)

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client

    get = _when_unreachable(lambda key, default: default)(RedisCacheClient.get)
    get_many = _when_unreachable(lambda keys: {})(RedisCacheClient.get_many)
    has_key = _when_unreachable(lambda key: False)(RedisCacheClient.has_key)
    add = _when_unreachable(lambda key, value, timeout: True)(RedisCacheClient.add)
    set = _when_unreachable(lambda key, value, timeout: None)(RedisCacheClient.set)
    set_many = _when_unreachable(lambda data, timeout: None)(RedisCacheClient.set_many)
    touch = _when_unreachable(lambda key, timeout: False)(RedisCacheClient.touch)
    delete = _when_unreachable(lambda key: False)(RedisCacheClient.delete)
    delete_many = _when_unreachable(lambda keys: None)(RedisCacheClient.delete_many)
    incr = _when_unreachable(_no_key)(RedisCacheClient.incr)
    clear = _when_unreachable(lambda: False)(RedisCacheClient.clear)


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
