import pytest
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.api.throttles import CredentialsRateThrottle
from annotations.models import Project
from tests.factories.annotations import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
INVALID_CREDENTIALS = {
    "detail": "Unable to sign in with the given username and password.",
    "code": "invalid_credentials",
    "fields": {},
}


def test_right_credentials_give_the_users_token(api_client):
    user = UserFactory(username="olah")

    response = api_client.post(URL, {"username": "olah", "password": PASSWORD})

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=user).key}


def test_asking_again_gives_the_same_token(api_client):
    UserFactory(username="olah")
    first = api_client.post(URL, {"username": "olah", "password": PASSWORD}).json()

    again = api_client.post(URL, {"username": "olah", "password": PASSWORD}).json()

    assert again == first
    assert Token.objects.count() == 1


def test_wrong_password_is_a_400_in_the_error_shape_and_creates_no_token(api_client):
    UserFactory(username="olah")

    response = api_client.post(URL, {"username": "olah", "password": "wrong"})

    assert response.status_code == 400
    assert response.json() == INVALID_CREDENTIALS
    assert not Token.objects.exists()


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api_client):
    response = api_client.post(URL, {"username": "nobody", "password": PASSWORD})

    assert response.status_code == 400
    assert response.json() == INVALID_CREDENTIALS


def test_missing_fields_are_reported_per_field(api_client):
    response = api_client.post(URL, {"username": "olah"})

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request has invalid fields.",
        "code": "invalid",
        "fields": {"password": ["This field is required."]},
    }


def test_attempts_beyond_the_rate_are_throttled_per_client_address(settings, monkeypatch):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credentials": "2/minute"},
    }
    monkeypatch.setattr(CredentialsRateThrottle, "timer", lambda self: 1_000_000.0)
    UserFactory(username="olah")
    client = APIClient(REMOTE_ADDR="203.0.113.7")
    client.post(URL, {"username": "olah", "password": "wrong"})
    client.post(URL, {"username": "olah", "password": "wrong"})

    response = client.post(URL, {"username": "olah", "password": PASSWORD})

    assert response.status_code == 429
    assert response.json() == {
        "detail": "Request was throttled. Expected available in 60 seconds.",
        "code": "throttled",
        "fields": {},
    }
    assert response["Retry-After"] == "60"
    assert not Token.objects.exists()


def test_the_throttle_counts_each_client_address_apart(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credentials": "1/minute"},
    }
    UserFactory(username="olah")
    APIClient(REMOTE_ADDR="203.0.113.7").post(URL, {"username": "olah", "password": "wrong"})

    response = APIClient(REMOTE_ADDR="198.51.100.2").post(
        URL, {"username": "olah", "password": PASSWORD}
    )

    assert response.status_code == 200


def test_delete_revokes_the_callers_token(api_client):
    token = Token.objects.create(user=UserFactory())
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api_client.delete(URL)

    assert response.status_code == 204
    assert not Token.objects.exists()
    assert api_client.get("/api/v1/auth/me/").json() == {
        "detail": "Invalid token.",
        "code": "authentication_failed",
        "fields": {},
    }


def test_delete_without_credentials_is_refused(api_client):
    Token.objects.create(user=UserFactory())

    response = api_client.delete(URL)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "fields": {},
    }
    assert Token.objects.count() == 1


def test_a_token_authenticates_writes_without_csrf():
    token = Token.objects.create(user=UserFactory())
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = client.post("/api/v1/projects/", {"slug": "curves", "name": "Curves"})

    assert response.status_code == 201
    assert list(Project.objects.values_list("slug", flat=True)) == ["curves"]


def test_a_session_authenticates_reads():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="olah"))

    response = client.get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response.json()["user"]["username"] == "olah"


def test_a_session_write_without_a_csrf_token_is_refused():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory())

    response = client.post("/api/v1/projects/", {"slug": "curves", "name": "Curves"})

    assert response.status_code == 403
    assert response.json() == {
        "detail": "CSRF Failed: CSRF cookie not set.",
        "code": "permission_denied",
        "fields": {},
    }
    assert not Project.objects.exists()


def test_a_session_write_with_a_csrf_token_is_accepted():
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory())
    csrf_secret = get_random_string(32)
    client.cookies["csrftoken"] = csrf_secret

    response = client.post(
        "/api/v1/projects/",
        {"slug": "curves", "name": "Curves"},
        HTTP_X_CSRFTOKEN=csrf_secret,
    )

    assert response.status_code == 201
    assert list(Project.objects.values_list("slug", flat=True)) == ["curves"]
