from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.crypto import get_random_string
from rest_framework.test import APIClient

from annotations.api.throttles import CredentialsRateThrottle
from annotations.models import ApiToken, Project
from annotations.services.tokens import token_create
from tests.factories.annotations import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


def secret_of(user, name="tests"):
    return token_create(actor=user, name=name).secret


URL = "/api/v1/auth/token/"
TOKENS = "/api/v1/auth/tokens/"
ME = "/api/v1/auth/me/"
INVALID_TOKEN = {"detail": "Invalid token.", "code": "authentication_failed", "fields": {}}
INVALID_CREDENTIALS = {
    "detail": "Unable to sign in with the given username and password.",
    "code": "invalid_credentials",
    "fields": {},
}


def test_right_credentials_give_a_new_token_that_authenticates(api_client):
    UserFactory(username="olah")

    response = api_client.post(URL, {"username": "olah", "password": PASSWORD})

    body = response.json()
    token = ApiToken.objects.get()
    assert response.status_code == 200
    assert body == {
        "id": token.pk,
        "name": "Signed in with a password",
        "prefix": body["token"][:8],
        "created": _iso(token.created),
        "expires": _iso(token.expiry),
        "last_used": None,
        "token": body["token"],
    }
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert api_client.get(ME).json()["user"]["username"] == "olah"


def test_signing_in_again_gives_another_token(api_client):
    UserFactory(username="olah")
    first = api_client.post(URL, {"username": "olah", "password": PASSWORD}).json()

    again = api_client.post(URL, {"username": "olah", "password": PASSWORD}).json()

    assert again["token"] != first["token"]
    assert ApiToken.objects.count() == 2


def test_sign_in_takes_a_name_and_a_shorter_life(api_client):
    UserFactory(username="olah")

    response = api_client.post(
        URL,
        {"username": "olah", "password": PASSWORD, "name": "laptop", "expires_in_days": 1},
    )

    assert response.status_code == 200
    assert ApiToken.objects.values_list("name", flat=True).get() == "laptop"
    assert ApiToken.objects.get().expiry <= timezone.now() + timedelta(days=1)


def test_wrong_password_is_a_401_in_the_error_shape_and_creates_no_token(api_client):
    UserFactory(username="olah")

    response = api_client.post(URL, {"username": "olah", "password": "wrong"})

    assert response.status_code == 401
    assert response.json() == INVALID_CREDENTIALS
    assert not ApiToken.objects.exists()


def test_unknown_user_gets_the_same_answer_as_a_wrong_password(api_client):
    response = api_client.post(URL, {"username": "nobody", "password": PASSWORD})

    assert response.status_code == 401
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
    assert not ApiToken.objects.exists()


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


def test_delete_revokes_the_token_the_request_carries(api_client):
    user = UserFactory()
    kept = token_create(actor=user, name="kept").token
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {secret_of(user)}")

    response = api_client.delete(URL)

    assert response.status_code == 204
    assert list(ApiToken.objects.all()) == [kept]
    assert api_client.get(ME).json() == INVALID_TOKEN


def test_delete_without_credentials_is_refused(api_client):
    token_create(actor=UserFactory(), name="notebook")

    response = api_client.delete(URL)

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "code": "not_authenticated",
        "fields": {},
    }
    assert ApiToken.objects.count() == 1


def test_a_token_authenticates_writes_without_csrf():
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret_of(UserFactory())}")

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


def test_an_expired_token_is_refused_and_deleted(api_client):
    user = UserFactory()
    secret = secret_of(user)
    ApiToken.objects.update(expiry=timezone.now() - timedelta(seconds=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

    response = api_client.get(ME)

    assert (response.status_code, response.json()) == (401, INVALID_TOKEN)
    assert not ApiToken.objects.exists()


def test_a_token_of_an_inactive_user_is_refused(api_client):
    user = UserFactory()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {secret_of(user)}")
    user.is_active = False
    user.save()

    response = api_client.get(ME)

    assert response.status_code == 401


def test_using_a_token_records_when(api_client):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {secret_of(UserFactory())}")
    before = timezone.now()

    api_client.get(ME)

    assert before <= ApiToken.objects.get().last_used <= timezone.now()


def test_list_shows_my_live_tokens_without_their_secrets(api_client):
    user = UserFactory()
    notebook = token_create(actor=user, name="notebook")
    expired = token_create(actor=user, name="expired").token
    ApiToken.objects.filter(pk=expired.pk).update(expiry=timezone.now())
    token_create(actor=UserFactory(), name="theirs")
    api_client.force_authenticate(user)

    response = api_client.get(TOKENS)

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": notebook.token.pk,
                "name": "notebook",
                "prefix": notebook.secret[:8],
                "created": _iso(notebook.token.created),
                "expires": _iso(notebook.token.expiry),
                "last_used": None,
            }
        ],
    }


def test_create_returns_the_secret_once_and_it_authenticates(api_client):
    api_client.force_authenticate(UserFactory(username="olah"))

    response = api_client.post(TOKENS, {"name": "ci", "expires_in_days": 7})

    body = response.json()
    assert (response.status_code, body["name"], len(body["token"])) == (201, "ci", 64)
    assert "token" not in api_client.get(TOKENS).json()["results"][0]
    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert token_client.get(ME).json()["user"]["username"] == "olah"


def test_create_refuses_a_life_longer_than_the_configured_days(api_client, settings):
    settings.ATLAS_TOKEN_TTL_DAYS = 30
    api_client.force_authenticate(UserFactory())

    response = api_client.post(TOKENS, {"name": "forever", "expires_in_days": 31})

    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"expires_in_days": ["A whole number of days from 1 to 30."]},
    )
    assert not ApiToken.objects.exists()


def test_create_needs_a_name(api_client):
    api_client.force_authenticate(UserFactory())

    response = api_client.post(TOKENS, {})

    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"name": ["This field is required."]},
    )


def test_revoke_by_id_refuses_the_token_from_then_on(api_client):
    user = UserFactory()
    issued = token_create(actor=user, name="notebook")
    api_client.force_authenticate(user)

    response = api_client.delete(f"{TOKENS}{issued.token.pk}/")

    token_client = APIClient()
    token_client.credentials(HTTP_AUTHORIZATION=f"Token {issued.secret}")
    assert response.status_code == 204
    assert token_client.get(ME).json() == INVALID_TOKEN


def test_revoking_another_users_token_is_a_404_and_keeps_it(api_client):
    theirs = token_create(actor=UserFactory(), name="theirs").token
    api_client.force_authenticate(UserFactory())

    response = api_client.delete(f"{TOKENS}{theirs.pk}/")

    assert (response.status_code, response.json()) == (
        404,
        {"detail": "API token not found.", "code": "not_found", "fields": {}},
    )
    assert list(ApiToken.objects.all()) == [theirs]


def test_token_list_needs_a_signed_in_user(api_client):
    response = api_client.get(TOKENS)

    assert response.status_code == 401
