"""Request bodies are bounded: over the limit is a 413 in the one error shape, refused from
Content-Length before the body is read, or while reading one that came without it."""

import io
import json

import pytest
from django.test import RequestFactory

from server.errors import RequestTooLarge
from server.middleware import RequestSizeLimitMiddleware
from tests.factories.annotations import (
    PASSWORD,
    MembershipFactory,
    ProjectNetworkFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_an_anonymous_json_body_over_the_limit_is_a_413_before_it_is_read(api_client, settings):
    settings.ATLAS_MAX_JSON_BYTES = 1000
    body = json.dumps({"username": "ada", "password": "x" * 2000})

    response = api_client.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than this endpoint takes (1000 bytes).",
        "code": "request_too_large",
        "fields": {"body": ["At most 1000 bytes."]},
    }


def test_a_json_body_at_the_limit_is_read(api_client, settings):
    body = json.dumps({"username": "ada", "password": "wrong"})
    settings.ATLAS_MAX_JSON_BYTES = len(body)

    response = api_client.post("/api/v1/auth/token/", body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")


def test_a_form_body_over_the_limit_is_a_413(api_client, settings):
    settings.ATLAS_MAX_JSON_BYTES = 1000

    response = api_client.post(
        "/api/v1/auth/token/",
        "username=ada&password=" + "x" * 2000,
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 413


def test_a_page_form_over_the_limit_is_a_413(client, settings):
    settings.ATLAS_MAX_JSON_BYTES = 1000

    response = client.post("/login/", {"username": "ada", "password": "x" * 2000})

    assert response.status_code == 413


def test_an_import_takes_a_body_over_the_json_limit_up_to_its_own(api_client, settings):
    settings.ATLAS_MAX_JSON_BYTES = 1000
    settings.ATLAS_MAX_IMPORT_BYTES = 100_000
    link = ProjectNetworkFactory(project__slug="curves", network__name="toy")
    reviewer = MembershipFactory(project=link.project, role="reviewer").user
    api_client.force_authenticate(reviewer)
    rows = "layer,unit,group\n" + "".join(f"conv1,{index},Curves\n" for index in range(200))
    body = {"network": "toy", "format": "csv", "content": rows, "dry_run": True}

    response = api_client.post("/api/v1/projects/curves/imports/", body, format="json")

    assert response.status_code != 413
    assert len(json.dumps(body)) > 1000


def test_an_import_over_its_own_limit_is_a_413(api_client, settings):
    settings.ATLAS_MAX_IMPORT_BYTES = 1000
    api_client.force_authenticate(UserFactory())
    body = {"network": "toy", "format": "csv", "content": "x" * 2000}

    response = api_client.post("/api/v1/projects/curves/imports/", body, format="json")

    assert response.status_code == 413


def test_a_body_without_content_length_is_cut_off_while_reading(settings):
    settings.ATLAS_MAX_JSON_BYTES = 1000
    request = RequestFactory().post("/api/v1/projects/", b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request._stream = io.BytesIO(b"[" + b" " * 5000 + b"]")
    middleware = RequestSizeLimitMiddleware(lambda request: None)
    middleware.process_view(request, lambda request: None, (), {})

    with pytest.raises(RequestTooLarge):
        request.read()


def test_a_body_without_content_length_under_the_limit_reads_whole(settings):
    settings.ATLAS_MAX_JSON_BYTES = 1000
    request = RequestFactory().post("/api/v1/projects/", b"", content_type="application/json")
    request.META.pop("CONTENT_LENGTH", None)
    request._stream = io.BytesIO(b"[" + b" " * 500 + b"]")
    middleware = RequestSizeLimitMiddleware(lambda request: None)
    middleware.process_view(request, lambda request: None, (), {})

    assert request.read() == b"[" + b" " * 500 + b"]"


def test_a_page_form_under_the_limit_is_read(client):
    UserFactory(username="ada")

    response = client.post(
        "/login/",
        f"username=ada&password={PASSWORD.replace(' ', '+')}",
        content_type="application/x-www-form-urlencoded",
    )

    assert (response.status_code, response.url) == (302, "/")
