"""Every free-text field the API takes has a maximum length, enforced and in the schema."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from server import text_limits
from tests.factories.annotations import MembershipFactory

# Strings that name an existing object (looked up, never stored as written), and the import
# file's text, bounded by ATLAS_MAX_IMPORT_BYTES instead.
NOT_FREE_TEXT = {
    "CircuitCreateInputRequest.network",
    "HypothesisCreateInputRequest.network",
    "RoundOpenInputRequest.network",
    "MembershipAddInputRequest.username",
    "ImportInputRequest.content",
    "ImportUploadInputRequest.content",
}
BOUNDED = {"maxLength", "enum", "format"}


def unbounded_strings(node, where):
    if node.get("type") == "string" and not BOUNDED & node.keys():
        yield where
    for name, child in node.get("properties", {}).items():
        yield from unbounded_strings(child, f"{where}.{name}")
    if isinstance(node.get("items"), dict):
        yield from unbounded_strings(node["items"], f"{where}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from unbounded_strings(node["additionalProperties"], f"{where}{{}}")


def test_every_string_a_request_sends_has_a_max_length_in_the_schema():
    schemas = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    found = {
        where
        for name, schema in schemas.items()
        if name.endswith("Request")
        for where in unbounded_strings(schema, name)
    }

    assert found == NOT_FREE_TEXT


@pytest.mark.django_db
def test_a_group_description_over_the_limit_is_a_400(api_client):
    owner = MembershipFactory(project__slug="curves", role="owner").user
    api_client.force_authenticate(owner)
    body = {"name": "Curves", "description": "x" * (text_limits.DESCRIPTION + 1)}

    response = api_client.post("/api/v1/projects/curves/groups/", body, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["description"]
