"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django builds a new `redis.Redis` object for every cache operation, and each one sets up
its table of response callbacks: about a millisecond of CPU, paid for the session and again
for every cached page. The client is thread-safe and its pool starts afresh after a fork
(gunicorn's preloaded workers), so one per pool is enough.
"""

from __future__ import annotations

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.driver_info import DriverInfo


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        # redis-py otherwise looks its version up in the installed packages' metadata for
        # every new connection (~0.1 s, paid again by each new web worker).
        self._pool_options.setdefault("driver_info", DriverInfo(lib_version=redis.__version__))

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


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
