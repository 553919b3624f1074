"""Django's Redis cache, degraded rather than broken while Redis cannot be reached.

Nothing the cache holds is the only copy of anything (grid pages, throttle counts), so an
outage must not fail requests. While Redis is unreachable this backend serves from a cache in
the process's own memory instead: grid pages are cached per process, and throttles keep
counting per process. Throttles therefore neither fail open (unlimited sign-in attempts while
Redis is down) nor fail closed (nobody can sign in): each web process enforces the rate on its
own, so a client gets at most the rate times the number of web processes until Redis is back.

After a failure Redis is not asked again for ``RETRY_SECONDS`` (so an unreachable host costs one
connect timeout per process and interval, not one per request), and the outage is logged once
when it starts and once when it ends, per process.
"""

import logging
import threading
import time

from django.core.cache import caches
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)

# Per process: location -> monotonic time before which Redis is not tried again.
_outages = {}
_outages_lock = threading.Lock()


class FallbackRedisCache(RedisCache):
    """``RedisCache`` that falls back to this process's memory while Redis is unreachable."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self._retry_seconds = float(params.get("RETRY_SECONDS", 5.0))
        self._fallback = LocMemCache(
            f"redis-fallback:{self._location}",
            {
                key: params[key]
                for key in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION")
                if key in params
            },
        )

    def reachable(self):
        """Whether Redis answers a ping now (for the health check; never raises)."""
        try:
            self._cache.get_client(write=True).ping()
        except UNREACHABLE:
            return False
        return True

    def _call(self, method, *args):
        with _outages_lock:
            retry_at = _outages.get(self._location)
        if retry_at is not None and time.monotonic() < retry_at:
            return getattr(self._fallback, method)(*args)
        try:
            result = getattr(super(), method)(*args)
        except UNREACHABLE as error:
            self._outage_began(error, already_down=retry_at is not None)
            return getattr(self._fallback, method)(*args)
        if retry_at is not None:
            self._outage_ended()
        return result

    def _outage_began(self, error, *, already_down):
        with _outages_lock:
            _outages[self._location] = time.monotonic() + self._retry_seconds
        if not already_down:
            logger.warning(
                "cache: Redis unreachable (%s); serving from this process's memory, "
                "retrying every %g s",
                error,
                self._retry_seconds,
            )

    def _outage_ended(self):
        with _outages_lock:
            was_down = _outages.pop(self._location, None) is not None
        if was_down:
            logger.warning("cache: Redis reachable again; the in-memory fallback is dropped")
            self._fallback.clear()

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", keys, version)

    def clear(self):
        return self._call("clear")


def cache_reachable(alias="default"):
    """Whether the cache's server answers; a cache kept in memory always does."""
    backend = caches[alias]
    return backend.reachable() if isinstance(backend, FallbackRedisCache) else True
