"""The Redis cache with a fallback: Redis being unreachable degrades the cache, not the web."""

import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from annotations.api.throttles import CredentialsRateThrottle
from annotations.models import Role
from server import cache as fallback_cache
from server.cache import FallbackRedisCache, cache_reachable
from tests.factories.annotations import (
    PASSWORD,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.redis_server import RedisServer, unused_port
from tests.server.test_settings import manage


def redis_cache(location, **params):
    return FallbackRedisCache(location, {"RETRY_SECONDS": 60, **params})


@pytest.fixture(autouse=True)
def _no_outage_remembered(monkeypatch):
    monkeypatch.setattr(fallback_cache, "_outages", {})


@pytest.fixture
def live_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server.url()
    server.stop()


@pytest.fixture
def unreachable_location():
    return f"redis://127.0.0.1:{unused_port()}/0"


@pytest.fixture
def cache_down(settings, unreachable_location):
    settings.CACHES = {
        "default": {"BACKEND": "server.cache.FallbackRedisCache", "LOCATION": unreachable_location}
    }
    return unreachable_location


def test_a_read_while_redis_is_unreachable_misses_instead_of_raising(unreachable_location):
    backend = redis_cache(unreachable_location)

    assert backend.get("page", "missed") == "missed"


def test_values_written_during_an_outage_are_served_from_process_memory(unreachable_location):
    backend = redis_cache(unreachable_location)

    backend.set("page", b"grid bytes")
    backend.add("count", 1)
    backend.incr("count")

    assert backend.get_many(["page", "count"]) == {"page": b"grid bytes", "count": 2}


def test_an_outage_is_logged_once_however_many_requests_meet_it(unreachable_location, caplog):
    backend = redis_cache(unreachable_location)

    with caplog.at_level(logging.WARNING, logger="server.cache"):
        for number in range(20):
            backend.set(f"key{number}", number)
            backend.get(f"key{number}")

    assert len(caplog.records) == 1
    assert caplog.records[0].getMessage().startswith("cache: Redis unreachable")


def test_redis_is_used_again_once_it_answers_and_the_recovery_is_logged(
    live_redis, monkeypatch, caplog
):
    backend = redis_cache(live_redis, RETRY_SECONDS=0)
    backend.set("page", "from redis")

    def refuse(*args, **kwargs):
        raise RedisConnectionError("Connection refused")

    with monkeypatch.context() as outage:
        outage.setattr(type(backend._cache), "get", refuse)
        during = backend.get("page")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="server.cache"):
        after = backend.get("page")

    assert (during, after) == (None, "from redis")
    assert [record.getMessage() for record in caplog.records] == [
        "cache: Redis reachable again; the in-memory fallback is dropped"
    ]


def test_reachable_says_whether_redis_answers(live_redis, unreachable_location):
    assert redis_cache(live_redis).reachable() is True
    assert redis_cache(unreachable_location).reachable() is False


def test_the_cache_is_reported_unreachable_while_redis_is_down(cache_down):
    assert cache_reachable() is False


def test_a_cache_in_memory_is_always_reachable():
    assert cache_reachable() is True


@pytest.mark.django_db
def test_sign_in_answers_while_the_cache_is_down(cache_down):
    UserFactory(username="olah")

    response = APIClient().post("/api/v1/auth/token/", {"username": "olah", "password": PASSWORD})

    assert response.status_code == 200


@pytest.mark.django_db
def test_the_sign_in_throttle_still_counts_while_the_cache_is_down(
    settings, cache_down, monkeypatch
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credentials": "2/minute"},
    }
    monkeypatch.setattr(CredentialsRateThrottle, "timer", lambda self: 1_000_000.0)
    UserFactory(username="olah")
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    client.post("/api/v1/auth/token/", {"username": "olah", "password": "wrong"})
    client.post("/api/v1/auth/token/", {"username": "olah", "password": "wrong"})

    response = client.post("/api/v1/auth/token/", {"username": "olah", "password": PASSWORD})

    assert response.status_code == 429


def test_the_settings_put_the_fallback_in_front_of_redis(settings):
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        ATLAS_CACHE_URL="redis://127.0.0.1:6379/13",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "server.cache.FallbackRedisCache"


@pytest.mark.django_db
def test_health_is_degraded_while_the_cache_is_down(cache_down, api_client):
    response = api_client.get("/api/v1/health/")

    assert response.status_code == 503
    assert response.json()["status"] == "degraded"


@pytest.mark.django_db(transaction=True)
def test_the_grid_answers_while_the_cache_is_down(cache_down):
    project = ProjectFactory(slug="early-vision")
    network = NetworkFactory(name="inception")
    ProjectNetworkFactory(project=project, network=network)
    LayerFactory(network=network, name="mixed3b", channels=8)
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.VIEWER)
    client = APIClient()
    client.force_authenticate(user)

    first = client.get("/api/v1/projects/early-vision/grid/inception/mixed3b/")
    again = client.get("/api/v1/projects/early-vision/grid/inception/mixed3b/")

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
