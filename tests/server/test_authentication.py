"""Token authentication: the user's other expired tokens are cleared with the once-a-minute
``last_used`` write, not read on every request."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.models import ApiToken
from annotations.services.tokens import token_create
from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"


def _expired_token(user):
    token = token_create(actor=user, name="old").token
    ApiToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    return token


def test_the_first_use_of_a_token_deletes_the_users_other_expired_tokens(api_client):
    user = UserFactory()
    live = token_create(actor=user, name="live")
    _expired_token(user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {live.secret}")

    response = api_client.get(ME)

    assert response.status_code == 200
    assert list(ApiToken.objects.values_list("name", flat=True)) == ["live"]


def test_a_use_within_the_minute_leaves_other_tokens_unread(api_client):
    user = UserFactory()
    live = token_create(actor=user, name="live")
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {live.secret}")
    api_client.get(ME)
    _expired_token(user)

    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(ME)

    assert response.status_code == 200
    assert [q["sql"] for q in captured.captured_queries if "annotations_apitoken" in q["sql"]] == [
        captured.captured_queries[0]["sql"]
    ]
    assert sorted(ApiToken.objects.values_list("name", flat=True)) == ["live", "old"]
