"""The shared cache: Redis when REDIS_URL is set (settings.CACHES), so that every web worker process sees the
same cached figures (the dashboard's and the realized totals', keyed by the ledger stamp) and the API's
throttles count a client's requests across processes, not per process.

A cache is never the source of truth: when Redis does not answer, a read is a miss and a write is skipped
(logged once a minute), so pages and the API keep working from the database while Redis is down.
"""

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def _tolerate(self, what: str, exc: Exception, default):
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning > 60:
            ResilientRedisCache._last_warning = now
            log.warning("cache %s failed (%s): answering from the database", what, exc.__class__.__name__)
        return default

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except RedisError as exc:
            return self._tolerate("get", exc, default)

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except RedisError as exc:
            return self._tolerate("get_many", exc, {})

    def set(self, key, value, timeout=None, version=None):  # noqa: A003
        try:
            super().set(key, value, timeout, version)
        except RedisError as exc:
            self._tolerate("set", exc, None)

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except RedisError as exc:
            return self._tolerate("add", exc, False)

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except RedisError as exc:
            return self._tolerate("delete", exc, False)
