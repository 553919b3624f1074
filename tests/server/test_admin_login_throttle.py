"""Failed sign-ins at /admin/login/ are throttled per client address and per username."""

import pytest
from django.test import Client

from annotations.api.throttles import FailedSignInThrottle
from tests.factories.annotations import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/login/"


@pytest.fixture(autouse=True)
def two_attempts_a_minute(settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credentials": "2/minute"},
    }
    monkeypatch.setattr(FailedSignInThrottle, "timer", lambda self: 1_000_000.0)


def fail(client, username="root"):
    return client.post(URL, {"username": username, "password": "wrong"})


def test_failed_admin_sign_ins_beyond_the_rate_get_429_even_with_the_right_password():
    UserFactory(username="root", is_staff=True)
    client = Client(REMOTE_ADDR="203.0.113.7")
    fail(client)
    fail(client)

    response = client.post(URL, {"username": "root", "password": PASSWORD})

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "_auth_user_id" not in client.session


def test_failed_admin_sign_ins_count_per_username_across_addresses():
    UserFactory(username="root", is_staff=True)
    fail(Client(REMOTE_ADDR="203.0.113.7"))
    fail(Client(REMOTE_ADDR="198.51.100.2"))

    response = fail(Client(REMOTE_ADDR="192.0.2.1"))

    assert response.status_code == 429


def test_failed_admin_sign_ins_count_per_address_across_usernames():
    client = Client(REMOTE_ADDR="203.0.113.7")
    fail(client, username="alice")
    fail(client, username="bob")

    response = fail(client, username="carol")

    assert response.status_code == 429


def test_a_forged_forwarded_address_does_not_reset_the_admin_count():
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.post(URL, {"username": "a", "password": "wrong"}, HTTP_X_FORWARDED_FOR="10.0.0.1")
    client.post(URL, {"username": "b", "password": "wrong"}, HTTP_X_FORWARDED_FOR="10.0.0.2")

    response = client.post(
        URL, {"username": "c", "password": "wrong"}, HTTP_X_FORWARDED_FOR="10.0.0.3"
    )

    assert response.status_code == 429


def test_successful_admin_sign_ins_spend_no_attempts():
    UserFactory(username="root", is_staff=True)
    for _ in range(3):
        Client(REMOTE_ADDR="203.0.113.7").post(URL, {"username": "root", "password": PASSWORD})

    response = fail(Client(REMOTE_ADDR="203.0.113.7"))

    assert response.status_code == 200
