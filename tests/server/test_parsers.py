"""The API's body parsers refuse what the service cannot walk or store, in the one error
shape: JSON nested past any sensible depth, and NUL characters in any text."""

import pytest

from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(api_client):
    api_client.force_authenticate(UserFactory())
    return api_client


def test_json_nested_deeper_than_the_interpreter_can_parse_is_a_400(signed_in):
    body = "[" * 100_000 + "]" * 100_000

    response = signed_in.post("/api/v1/projects/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert response.json()["fields"] == {}


def test_json_nested_deeper_than_the_limit_is_a_400_naming_where(signed_in):
    body = '{"name": "Curves", "slug": "curves", "extra": ' + "[" * 70 + "]" * 70 + "}"

    response = signed_in.post("/api/v1/projects/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "too_deep"
    assert list(response.json()["fields"]) == ["extra" + ".0" * 63]


def test_a_nul_character_in_a_json_string_is_a_400_naming_the_field(signed_in):
    body = '{"name": "Curves", "slug": "curves", "description": "bad\\u0000text"}'

    response = signed_in.post("/api/v1/projects/", body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["fields"] == {"description": ["Null characters are not allowed."]}


def test_a_key_holding_a_nul_character_is_dropped_like_any_unknown_key(signed_in):
    body = '{"name": "Curves", "slug": "curves", "a\\u0000b": 1}'

    response = signed_in.post("/api/v1/projects/", body, content_type="application/json")

    assert response.status_code == 201


@pytest.fixture
def importer(api_client):
    """A reviewer of a project: the import endpoint takes forms and multipart bodies."""
    link = ProjectNetworkFactory(project__slug="curves", network__name="toy")
    api_client.force_authenticate(MembershipFactory(project=link.project, role="reviewer").user)
    return api_client


def test_a_nul_character_in_a_form_field_is_a_400_naming_the_field(importer):
    response = importer.post(
        "/api/v1/projects/curves/imports/",
        "network=toy&format=csv&content=layer%00",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "null_character"
    assert list(response.json()["fields"]) == ["content"]


def test_a_nul_character_in_a_multipart_text_field_is_refused_by_its_field(importer):
    response = importer.post(
        "/api/v1/projects/curves/imports/",
        {"network": "toy", "format": "csv", "content": "layer\x00"},
        format="multipart",
    )

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["content"]


def test_a_nul_character_in_a_query_string_is_a_400_naming_the_parameter(signed_in):
    response = signed_in.get("/api/v1/projects/?page_size=1%00")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "page_size": ["Text may not contain NUL (\\u0000) characters."]
    }


def test_a_nul_character_in_an_api_path_is_a_404(signed_in):
    response = signed_in.get("/api/v1/projects/a%00b/")

    assert response.status_code == 404
