import json

import pytest
from django.core.exceptions import RequestDataTooBig
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, Throttled

from server.errors import (
    Conflict,
    NotFound,
    PreconditionRequired,
    ValidationFailed,
    VersionConflict,
    api_exception_handler,
    server_error,
)
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValidationFailed("bad", fields={"name": ["Too long."]}), 400, "invalid"),
        (NotFound("gone"), 404, "not_found"),
        (Conflict("taken", code="name_taken"), 409, "name_taken"),
        (VersionConflict("stale"), 412, "version_conflict"),
        (PreconditionRequired("If-Match needed"), 428, "precondition_required"),
    ],
)
def test_domain_errors_map_to_their_status_and_the_one_shape(error, status, code):
    response = api_exception_handler(error, {})

    assert response.status_code == status
    assert response.data == {"detail": error.detail, "code": code, "fields": error.fields}


def test_nested_validation_errors_become_dotted_field_paths():
    class Inner(serializers.Serializer):
        size = serializers.IntegerField()

    class Outer(serializers.Serializer):
        name = serializers.CharField()
        params = Inner()

    payload = Outer(data={"params": {"size": "big"}})
    payload.is_valid()

    response = api_exception_handler(serializers.ValidationError(payload.errors), {})

    assert response.status_code == 400
    assert response.data["code"] == "invalid"
    assert response.data["fields"] == {
        "name": ["This field is required."],
        "params.size": ["A valid integer is required."],
    }


def test_framework_errors_keep_their_status_and_get_a_code():
    unauthenticated = api_exception_handler(NotAuthenticated(), {})
    throttled = api_exception_handler(Throttled(wait=30), {})

    assert (unauthenticated.status_code, unauthenticated.data["code"]) == (401, "not_authenticated")
    assert (throttled.status_code, throttled.data["code"]) == (429, "throttled")
    assert throttled.data["fields"] == {}


def test_unknown_exceptions_are_left_to_django():
    assert api_exception_handler(RuntimeError("boom"), {}) is None


def test_a_body_django_refused_as_too_big_is_a_413():
    response = api_exception_handler(RequestDataTooBig("too big"), {})

    assert response.status_code == 413
    assert response.data == {
        "detail": "The request body is too large.",
        "code": "request_too_large",
        "fields": {},
    }


@pytest.mark.django_db
def test_an_unmatched_api_url_is_a_404_in_the_error_shape(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found.", "code": "not_found", "fields": {}}


@pytest.mark.django_db
def test_an_unmatched_page_url_is_still_an_html_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_too_many_form_fields_on_the_api_is_a_400_in_the_error_shape(api_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    link = ProjectNetworkFactory(project__slug="curves", network__name="toy")
    api_client.force_authenticate(MembershipFactory(project=link.project, role="reviewer").user)
    body = "&".join(f"field{number}=x" for number in range(10))

    response = api_client.post(
        "/api/v1/projects/curves/imports/", body, content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request sends too many fields.",
        "code": "too_many_fields",
        "fields": {},
    }


@pytest.mark.django_db
def test_a_server_error_under_the_api_is_a_500_in_the_error_shape(rf):
    response = server_error(rf.get("/api/v1/projects/"))

    assert response.status_code == 500
    assert json.loads(response.content) == {
        "detail": "A server error occurred.",
        "code": "server_error",
        "fields": {},
    }
