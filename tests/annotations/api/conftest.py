import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Throttles count in the cache; each test starts with no attempts on record."""
    cache.clear()
    yield
    cache.clear()
