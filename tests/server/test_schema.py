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
