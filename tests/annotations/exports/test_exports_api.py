"""The export, import and release endpoints: streamed downloads, imports by text or file with
a dry run, the refusal report, releases and their diff."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from annotations.models import Assignment, Group
from annotations.services.releases import release_create
from tests.annotations.exports.conftest import comparable, comparable_csv, export_text, unit
from tests.factories.annotations import CommentFactory, ProjectNetworkFactory
from tests.openapi import component, operation, query_parameter

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(owner):
    client = APIClient()
    client.force_authenticate(owner)
    return client


def download(response):
    return b"".join(response.streaming_content).decode()


def test_the_csv_download_streams_an_attachment(client, project, network, taxonomy):
    response = client.get("/api/v1/projects/early-vision/exports/csv/", HTTP_ACCEPT="text/csv")

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="early-vision-inception-live.csv"'
    )
    assert comparable_csv(download(response)) == comparable_csv(
        export_text(project, network, "csv")
    )


def test_the_json_download_is_the_export_document_with_comments(
    client, project, network, owner, taxonomy
):
    CommentFactory(
        project=project,
        target_type="unit",
        target_id=unit(network, "mixed3b", 0).pk,
        author=owner,
        body="A curve.",
    )

    response = client.get("/api/v1/projects/early-vision/exports/json/?comments=true")

    document = json.loads(download(response))
    expected = json.loads(export_text(project, network, "json", include_comments=True))
    assert comparable(document) == comparable(expected)
    assert [
        (comment["target_type"], comment["target"], comment["author"], comment["body"])
        for comment in document["comments"]
    ] == [("unit", "mixed3b:0", "ada", "A curve.")]


def test_the_html_download_links_units_to_this_server(client, project, taxonomy):
    response = client.get("/api/v1/projects/early-vision/exports/html/", HTTP_ACCEPT="text/html")

    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert 'href="http://testserver/p/early-vision/units/inception/mixed3b:0/"' in download(
        response
    )


def test_an_unknown_format_is_404(client, project):
    response = client.get("/api/v1/projects/early-vision/exports/xlsx/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_with_two_networks_the_export_needs_the_network_named(client, project):
    ProjectNetworkFactory(project=project, network__name="mobilenet")

    refused = client.get("/api/v1/projects/early-vision/exports/csv/")
    named = client.get("/api/v1/projects/early-vision/exports/csv/?network=mobilenet")

    assert (refused.status_code, list(refused.json()["fields"])) == (422, ["network"])
    assert download(named) == "network,layer,unit,group_path,status,changed_by,changed_at\n"


def test_an_empty_export_network_means_none_named(client, project, network, taxonomy):
    response = client.get("/api/v1/projects/early-vision/exports/csv/?network=")

    assert response.status_code == 200
    assert comparable_csv(download(response)) == comparable_csv(
        export_text(project, network, "csv")
    )


@pytest.mark.parametrize("name", ["inception\n", " inception", "incep tion", "inc\u00e9ption"])
def test_an_export_network_that_is_no_slug_is_a_400(client, project, network, name):
    response = client.get("/api/v1/projects/early-vision/exports/csv/", {"network": name})

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["network"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/{slug}/exports/{file_format}/",
        "/api/v1/projects/{slug}/releases/{name}/exports/{file_format}/",
    ],
)
def test_the_schema_lets_the_export_network_be_empty(path):
    network = query_parameter("get", path, "network")

    assert network["schema"]["pattern"] == "^(?:[-a-zA-Z0-9_]*)?$"


def test_an_import_dry_run_reports_and_changes_nothing(client, project):
    response = client.post(
        "/api/v1/projects/early-vision/imports/",
        {
            "network": "inception",
            "format": "csv",
            "content": "layer,unit,group\nmixed3b,4,Lines\n",
            "dry_run": True,
        },
        format="json",
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["dry_run"], body["changed"], body["groups_created"]) == (True, True, ["Lines"])
    assert body["unit_changes"] == [{"unit": "mixed3b:4", "from": None, "to": "Lines"}]
    assert not Group.objects.exists()


def test_an_import_of_an_uploaded_file_applies_it(client, project, network):
    upload = SimpleUploadedFile("groups.csv", b"layer,unit,group\nmixed3b,4,Lines\n")

    response = client.post(
        "/api/v1/projects/early-vision/imports/",
        {"network": "inception", "format": "csv", "file": upload},
        format="multipart",
    )

    assert response.status_code == 200
    assert response.json()["event"] is not None
    assert Assignment.objects.get().group.name == "Lines"


def test_a_bad_import_names_each_bad_row(client, project):
    response = client.post(
        "/api/v1/projects/early-vision/imports/",
        {
            "network": "inception",
            "format": "csv",
            "content": "layer,unit,group\nmixed3b,99,Lines\nmixed3b,1,Lines\nmixed3b,1,Lines\n",
        },
        format="json",
    )

    assert response.status_code == 422
    assert response.json() == {
        "detail": "The file has 2 problems; nothing was imported.",
        "code": "import_invalid",
        "fields": {
            "rows.2": ["No unit mixed3b:99 in inception."],
            "rows.4": ["mixed3b:1 is listed twice (first at rows.3)."],
        },
    }
    assert not Group.objects.exists()


def test_a_json_import_needs_content(client, project):
    response = client.post(
        "/api/v1/projects/early-vision/imports/",
        {"network": "inception", "format": "csv"},
        format="json",
    )

    assert (response.status_code, response.json()["fields"]) == (
        400,
        {"content": ["The file's text (in a multipart form, the file as `file`)."]},
    )


def test_a_multipart_import_takes_content_instead_of_a_file(client, project, network):
    response = client.post(
        "/api/v1/projects/early-vision/imports/",
        {"network": "inception", "format": "csv", "content": "layer,unit,group\nmixed3b,4,Lines\n"},
        format="multipart",
    )

    assert response.status_code == 200
    assert Assignment.objects.get().group.name == "Lines"


def test_a_multipart_import_with_both_content_and_a_file_is_a_422(client, project, network):
    upload = SimpleUploadedFile("groups.csv", b"layer,unit,group\nmixed3b,4,Lines\n")

    response = client.post(
        "/api/v1/projects/early-vision/imports/",
        {"network": "inception", "format": "csv", "file": upload, "content": "layer,unit,group\n"},
        format="multipart",
    )

    assert (response.status_code, response.json()["fields"]) == (
        422,
        {"file": ["Give either file or content."]},
    )
    assert not Assignment.objects.exists()


def test_a_multipart_import_with_neither_content_nor_a_file_is_a_422(client, project, network):
    response = client.post(
        "/api/v1/projects/early-vision/imports/",
        {"network": "inception", "format": "csv"},
        format="multipart",
    )

    assert response.status_code == 422


def _required(schema):
    return component(schema["$ref"].rsplit("/", 1)[1])["required"]


def test_the_import_schema_requires_a_body():
    body = operation("post", "/api/v1/projects/{slug}/imports/")["requestBody"]

    assert body["required"] is True


def test_the_import_schema_requires_content_in_json_and_states_the_form_fields():
    body = operation("post", "/api/v1/projects/{slug}/imports/")["requestBody"]["content"]
    upload = component(body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1])

    assert _required(body["application/json"]["schema"]) == ["content", "format", "network"]
    assert _required(body["application/x-www-form-urlencoded"]["schema"]) == [
        "content",
        "format",
        "network",
    ]
    assert upload["required"] == ["format", "network"]  # and one of file, content: a 422
    assert sorted(upload["properties"]) == ["content", "dry_run", "file", "format", "network"]


def test_releases_are_created_listed_and_diffed(client, project, network, taxonomy):
    created = client.post(
        "/api/v1/projects/early-vision/releases/", {"name": "v1", "notes": "First."}, format="json"
    )
    Assignment.objects.filter(unit__layer__name="conv2d1", unit__index=3).update(
        group=taxonomy["other"]
    )
    client.post("/api/v1/projects/early-vision/releases/", {"name": "v2"}, format="json")

    listed = client.get("/api/v1/projects/early-vision/releases/").json()
    diff = client.get("/api/v1/projects/early-vision/releases/v2/diff/").json()
    assert created.status_code == 201
    assert {key: created.json()[key] for key in ("name", "notes", "created_by", "unit_count")} == {
        "name": "v1",
        "notes": "First.",
        "created_by": "ada",
        "unit_count": 11,
    }
    assert [release["name"] for release in listed["results"]] == ["v2", "v1"]
    assert (diff["from"], diff["to"]) == ("v1", "v2")
    assert [(unit["unit"], unit["from"]["path"], unit["to"]["path"]) for unit in diff["units"]] == [
        ("conv2d1:3", "Curves", "Other units")
    ]


def test_the_first_release_has_nothing_to_diff_against(client, project, owner):
    release_create(project=project, actor=owner, name="v1")

    response = client.get("/api/v1/projects/early-vision/releases/v1/diff/")

    assert (response.status_code, list(response.json()["fields"])) == (422, ["against"])


def test_a_release_diff_against_a_named_release(client, project, owner):
    release_create(project=project, actor=owner, name="v1")
    release_create(project=project, actor=owner, name="v2")
    release_create(project=project, actor=owner, name="v3")

    response = client.get("/api/v1/projects/early-vision/releases/v3/diff/?against=v1")

    assert (response.json()["from"], response.json()["to"]) == ("v1", "v3")


def test_a_missing_release_is_404(client, project):
    response = client.get("/api/v1/projects/early-vision/releases/v9/exports/json/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")
