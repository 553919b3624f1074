"""Migration 0010 hashes DRF's plain-text tokens into ApiToken: they keep working, and no
secret is left in the database."""

import hashlib

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from annotations.models import ApiToken
from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("annotations", "0009_project_changes")
INTRODUCED = ("annotations", "0010_api_tokens")
PLAIN_TEXT_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


def _migrate(targets):
    MigrationExecutor(connection).migrate(targets)


def _plain_text_token_of(user):
    """The table and row rest_framework.authtoken kept before tokens were hashed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp with time zone NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [PLAIN_TEXT_KEY, timezone.now(), user.pk],
        )


def test_a_plain_text_token_keeps_working_hashed_and_its_table_is_dropped():
    user = UserFactory(username="olah")
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()

    try:
        _migrate([BEFORE])
        _plain_text_token_of(user)
        _migrate([INTRODUCED])
    finally:
        _migrate(leaves)

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {PLAIN_TEXT_KEY}")
    assert client.get("/api/v1/auth/me/").json()["user"]["username"] == "olah"
    assert ApiToken.objects.values_list("user__username", "digest").get() == (
        "olah",
        hashlib.sha512(PLAIN_TEXT_KEY.encode()).hexdigest(),
    )
    assert ApiToken.objects.get().expiry > timezone.now()
    assert "authtoken_token" not in connection.introspection.table_names()
