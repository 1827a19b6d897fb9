"""The cache is Redis shared by the web processes, and never the source of truth: without Redis it misses."""

import socket

import pytest
from django.conf import settings

from harvester.cache import ResilientRedisCache


def test_the_cache_is_redis_in_a_database_of_its_own_when_redis_is_configured():
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL: each process keeps its own memory cache")
    cache = settings.CACHES["default"]
    assert cache["BACKEND"] == "harvester.cache.ResilientRedisCache"
    assert cache["LOCATION"].rsplit("/", 1)[0] == settings.REDIS_URL.rstrip("/").rsplit("/", 1)[0]
    assert cache["LOCATION"] != settings.REDIS_URL  # clearing the cache never flushes the broker's queues


def test_without_redis_reads_miss_and_writes_are_skipped():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the socket is closed
    cache = ResilientRedisCache(f"redis://127.0.0.1:{port}/1", {"OPTIONS": {"socket_connect_timeout": 0.5}})
    assert cache.get("stamp", "miss") == "miss"
    assert cache.get_many(["a", "b"]) == {}
    cache.set("stamp", 1)
    assert cache.add("stamp", 1) is False and cache.delete("stamp") is False


def test_with_redis_values_round_trip():
    if not settings.REDIS_URL:
        pytest.skip("no REDIS_URL")
    from django.core.cache import cache

    cache.set("harvester-cache-test", {"cents": "1.23"}, 30)
    assert cache.get("harvester-cache-test") == {"cents": "1.23"}
    cache.delete("harvester-cache-test")
