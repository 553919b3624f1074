import pytest
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from tests import openapi

OUTSIDE_SCHEMA = "outside_schema"


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        f"{OUTSIDE_SCHEMA}(reason): the test deliberately gets API responses the OpenAPI schema "
        "does not describe; they are not checked against it (tests/openapi.py)",
    )


@pytest.fixture(autouse=True, scope="session")
def _responses_checked_against_schema():
    """Every API response of the session goes through the schema check (tests/openapi.py),
    whichever client asks, the live server's included. The schema is generated first, before
    any test replaces a view."""
    openapi.warm()
    with override_settings(MIDDLEWARE=openapi.checked_middleware()):
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    openapi.response_log.start()
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    violations = openapi.response_log.violations()
    if violations and item.get_closest_marker(OUTSIDE_SCHEMA) is None:
        lines = "\n  ".join(violations)
        pytest.fail(
            f"{len(violations)} API response(s) broke the OpenAPI schema:\n  {lines}",
            pytrace=False,
        )
    return result


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Every test writes artifacts and uploads into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the cache; no test inherits another's attempts."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()
