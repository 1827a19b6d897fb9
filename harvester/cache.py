"""The shared cache: Redis when REDIS_URL is set (settings.CACHES), so that every web worker process sees the
same cached figures (the dashboard's and the realized totals', keyed by the ledger stamp) and the API's
throttles count a client's requests across processes, not per process.

A cache is never the source of truth: when Redis does not answer, a read is a miss and a write is skipped
(logged once a minute), so pages and the API keep working from the database while Redis is down.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def _tolerant(default):
    """Wrap a cache method: when Redis does not answer, log (at most once a minute) and return `default`."""

    def wrap(method):
        def call(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except RedisError as exc:
                now = time.monotonic()
                if now - ResilientRedisCache.last_warning > 60:
                    ResilientRedisCache.last_warning = now
                    log.warning("cache %s failed (%s): answering from the database", method.__name__,
                                exc.__class__.__name__)
                return default(*args, **kwargs) if callable(default) else default

        return call

    return wrap


class _ReusedClient(RedisCacheClient):
    """Django's Redis cache client makes a new redis.Redis (a few hundred dict entries of reply callbacks)
    for every cache call; one per connection pool does (it takes a pooled connection per command, and the
    pool starts afresh in a forked worker)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    last_warning = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _ReusedClient

    get = _tolerant(lambda key, default=None, version=None: default)(RedisCache.get)
    get_many = _tolerant(lambda *args, **kwargs: {})(RedisCache.get_many)
    set = _tolerant(None)(RedisCache.set)  # noqa: A003
    add = _tolerant(False)(RedisCache.add)
    delete = _tolerant(False)(RedisCache.delete)
