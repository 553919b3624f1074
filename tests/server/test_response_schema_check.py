"""The check that wraps every API test: a response that breaks the OpenAPI schema fails the test
that received it (tests/openapi.py, tests/conftest.py)."""

import pytest
from django.http import HttpResponse
from rest_framework.response import Response

from annotations.api.views.auth import MeView
from tests import conftest
from tests.factories.annotations import UserFactory
from tests.openapi import response_log, response_violations

pytestmark = pytest.mark.django_db


@pytest.fixture
def me_answers(monkeypatch, api_client):
    """Make GET /api/v1/auth/me/ answer ``response`` for a signed-in user."""
    api_client.force_authenticate(UserFactory())

    def answer(response):
        monkeypatch.setattr(MeView, "get", lambda view, request: response)
        return api_client.get("/api/v1/auth/me/")

    return answer


def seen_and_forgotten():
    """The violations recorded so far; forgotten, so that this test itself passes."""
    violations = response_log.violations()
    response_log.start()
    return violations


def test_a_body_that_breaks_its_schema_is_reported_with_the_json_path(me_answers):
    user = {"id": "one", "username": "ada", "email": "", "is_superuser": False}
    me_answers(Response({"user": user, "memberships": []}))

    assert seen_and_forgotten() == [
        "GET /api/v1/auth/me/ answered 200, breaking its schema at $.user.id: "
        '"one" is not of type "integer" (schema /components/schemas/UserOutput/properties/id)'
    ]


def test_a_status_the_operation_does_not_document_is_reported(me_answers):
    me_answers(Response({"detail": "I'm a teapot", "code": "teapot", "fields": {}}, status=418))

    assert seen_and_forgotten() == [
        "GET /api/v1/auth/me/ answered 418, which it does not document (200, 401, 403)"
    ]


def test_a_content_type_the_schema_does_not_list_is_reported(me_answers):
    me_answers(HttpResponse("user\nada\n", content_type="text/csv"))

    assert seen_and_forgotten() == [
        "GET /api/v1/auth/me/ answered 200 as text/csv; the schema lists application/json"
    ]


def test_a_response_that_keeps_to_its_schema_records_nothing(api_client):
    api_client.force_authenticate(UserFactory())

    response = api_client.get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response_log.violations() == []


def test_an_api_url_no_operation_has_may_answer_404_only():
    assert response_violations("GET", "/api/v1/nowhere/", 404, "application/json", b"{}") == []
    assert response_violations("GET", "/api/v1/nowhere/", 200, "application/json", b"{}") == [
        "GET /api/v1/nowhere/ answered 200: no operation of the schema matches"
    ]


def test_a_streamed_body_is_checked_for_its_status_and_content_type():
    assert response_violations("GET", "/api/v1/auth/me/", 200, "image/png", None) == [
        "GET /api/v1/auth/me/ answered 200 as image/png; the schema lists application/json"
    ]


def drive_call_hook(item, violations):
    """Run the test-call hook of tests/conftest.py around a test that recorded ``violations``."""
    hook = conftest.pytest_runtest_call(item)
    next(hook)
    response_log.start()
    response_log.add(violations)
    try:
        hook.send(None)
    except StopIteration:
        return
    finally:
        response_log.start()


def test_a_test_that_received_a_response_breaking_the_schema_fails(request):
    violation = "GET /api/v1/auth/me/ answered 418, which it does not document (200, 401)"

    with pytest.raises(pytest.fail.Exception, match="1 API response"):
        drive_call_hook(request.node, [violation])


@pytest.mark.outside_schema("proves that the marker lets a test through")
def test_a_test_marked_outside_the_schema_is_not_failed_by_it(request):
    drive_call_hook(request.node, ["GET /api/v1/auth/me/ answered 418"])
