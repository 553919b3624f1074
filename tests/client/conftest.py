import sys
from pathlib import Path

import pytest

# The client is a package of its own (``pip install ./client``); the tests use it in place.
CLIENT_ROOT = Path(__file__).resolve().parents[2] / "client"
if str(CLIENT_ROOT) not in sys.path:
    sys.path.insert(0, str(CLIENT_ROOT))


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Every test signs users in; the production hasher would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
