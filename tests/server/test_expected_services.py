"""CI runs the suite a second time on PostgreSQL and Redis and says so in the environment;
these checks make that run fail if it silently fell back to the embedded default."""

import os

import pytest
from django.db import connection

from server.health import broker_kind, broker_ok

EXPECTED_DATABASE = os.environ.get("ATLAS_EXPECT_DATABASE")
EXPECTED_BROKER = os.environ.get("ATLAS_EXPECT_BROKER")


@pytest.mark.skipif(not EXPECTED_DATABASE, reason="no database expected (ATLAS_EXPECT_DATABASE)")
@pytest.mark.django_db
def test_the_suite_runs_on_the_expected_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")

    assert connection.vendor == EXPECTED_DATABASE


@pytest.mark.skipif(not EXPECTED_BROKER, reason="no broker expected (ATLAS_EXPECT_BROKER)")
def test_the_suite_talks_to_the_expected_broker():
    assert broker_kind() == EXPECTED_BROKER
    assert broker_ok() is True
