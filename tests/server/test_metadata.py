"""OPTIONS answers on every API endpoint, for any signed-in user, without a server error."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db

CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
SAMPLE_KWARGS = {
    "slug": "curves",
    "network": "toy",
    "name": "v1",
    "username": "ada",
    "layer": "conv1",
    "address": "conv1:0",
    "file_format": "json",
}


def api_paths(patterns=None, prefix=""):
    """Every /api/v1/ route, with its path converters filled with sample values."""
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_paths(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/"):
            yield "/" + CONVERTER.sub(lambda match: SAMPLE_KWARGS.get(match[1], "1"), route)


def test_every_api_route_is_found():
    paths = list(api_paths())

    assert "/api/v1/projects/curves/hypotheses/" in paths
    assert all("<" not in path for path in paths)


@pytest.mark.outside_schema("OPTIONS is DRF's metadata; the schema describes no OPTIONS operation")
@pytest.mark.parametrize("path", sorted(set(api_paths())))
def test_options_answers_for_a_signed_in_user(api_client, path):
    api_client.force_authenticate(UserFactory())

    response = api_client.options(path)

    assert response.status_code == 200
    assert set(response.json()) == {"name", "description", "renders", "parses"}
