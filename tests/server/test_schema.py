from django.core.management import call_command


def test_the_openapi_schema_generates_and_validates_without_warnings(tmp_path):
    out = tmp_path / "openapi.yml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    schema = out.read_text()
    assert "/api/v1/jobs/" in schema
    assert "/api/v1/projects/{slug}/networks/" in schema


def test_swagger_ui_is_served(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def _schema(tmp_path):
    import yaml

    out = tmp_path / "openapi.yml"
    call_command("spectacular", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_request_text_forbids_nul_and_response_text_does_not(tmp_path):
    components = _schema(tmp_path)["components"]["schemas"]

    create = components["ProjectCreateInputRequest"]["properties"]
    assert create["name"]["pattern"] == r"^[^\x00]*[^\s\x00][^\x00]*$"  # not blank either
    assert create["description"]["pattern"] == r"^[^\x00]*$"
    assert "pattern" not in components["ProjectOutput"]["properties"]["name"]


def test_every_operation_documents_its_errors_in_the_error_shape(tmp_path):
    schema = _schema(tmp_path)
    create_group = schema["paths"]["/api/v1/projects/{slug}/groups/"]["post"]["responses"]

    assert sorted(create_group) == sorted(
        ["201", "400", "401", "403", "404", "409", "413", "415", "422"]
    )
    assert create_group["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ApiError"
    }
