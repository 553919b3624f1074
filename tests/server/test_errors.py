import pytest
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated, Throttled

from server.errors import (
    Conflict,
    NotFound,
    PreconditionRequired,
    ValidationFailed,
    VersionConflict,
    api_exception_handler,
)


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
