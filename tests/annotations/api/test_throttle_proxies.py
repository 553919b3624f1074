"""The sign-in throttle counts the real client, not whatever X-Forwarded-For claims."""

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"


@pytest.fixture
def one_attempt_a_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credentials": "1/minute"},
    }


def test_without_trusted_proxies_a_new_forwarded_address_does_not_reset_the_count(
    one_attempt_a_minute,
):
    UserFactory(username="olah")
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    client.post(URL, {"username": "olah", "password": "wrong"}, HTTP_X_FORWARDED_FOR="10.0.0.1")

    response = client.post(
        URL, {"username": "olah", "password": "wrong"}, HTTP_X_FORWARDED_FOR="10.0.0.2"
    )

    assert response.status_code == 429


def test_with_one_trusted_proxy_the_right_most_forwarded_address_is_the_client(
    one_attempt_a_minute, settings
):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    UserFactory(username="olah")
    proxy = APIClient(REMOTE_ADDR="10.0.0.254")
    proxy.post(
        URL,
        {"username": "olah", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7",
    )

    same_client = proxy.post(
        URL,
        {"username": "olah", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7",
    )
    other_client = proxy.post(
        URL,
        {"username": "olah", "password": "wrong"},
        HTTP_X_FORWARDED_FOR="203.0.113.8",
    )

    assert (same_client.status_code, other_client.status_code) == (429, 401)


def test_no_proxy_is_trusted_by_default():
    assert django_settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
