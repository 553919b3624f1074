"""If-Match is compared strongly (RFC 9110 13.1.1): only the strong ETags this API sends match."""

import pytest
from rest_framework.test import APIRequestFactory

from server.concurrency import expected_version
from server.errors import PreconditionRequired, ValidationFailed, VersionConflict


def request_with(if_match):
    return APIRequestFactory().patch("/", HTTP_IF_MATCH=if_match)


def test_a_strong_etag_gives_its_version():
    assert expected_version(request_with('"7"')) == 7


def test_a_weak_etag_never_matches_and_is_a_412():
    with pytest.raises(VersionConflict) as raised:
        expected_version(request_with('W/"1"'))

    assert (raised.value.status, raised.value.code, raised.value.fields) == (
        412,
        "version_conflict",
        {"If-Match": ['A weak ETag never matches; send the ETag as it came, like "1".']},
    )


def test_a_missing_if_match_is_a_428():
    with pytest.raises(PreconditionRequired):
        expected_version(APIRequestFactory().patch("/"))


def test_a_malformed_if_match_is_a_400():
    with pytest.raises(ValidationFailed):
        expected_version(request_with("7"))
