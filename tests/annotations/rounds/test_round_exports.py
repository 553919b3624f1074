"""A closed round's agreement goes into the JSON export and into releases made after it; an
export with rounds still imports (the section is read, not imported)."""

import json

import jsonschema
import pytest

from annotations.models import Assignment
from annotations.services.exports import taxonomy_export
from annotations.services.imports import taxonomy_import
from annotations.services.releases import release_create
from annotations.services.round_decisions import round_agreed_apply
from annotations.services.rounds import round_close, round_submit
from tests.annotations.exports.conftest import SCHEMA, join_team
from tests.annotations.rounds.conftest import PROJECT, client_for, label_all
from tests.factories.annotations import ProjectFactory, ProjectNetworkFactory

pytestmark = pytest.mark.django_db


def _export(project, network, release=None):
    export = taxonomy_export(
        project=project, network=network, actor=None, format="json", release=release
    )
    return "".join(export.chunks)


@pytest.fixture
def closed(labelling_round, people, curves, lines):
    label_all(labelling_round, people["ada"], [curves.pk, lines.pk, curves.pk, None])
    label_all(labelling_round, people["bob"], [curves.pk, lines.pk, lines.pk, curves.pk])
    round_submit(labelling_round=labelling_round, actor=people["ada"])
    return round_submit(labelling_round=labelling_round, actor=people["bob"])


def test_json_export_carries_each_closed_rounds_agreement(closed, project, layer, curves, lines):
    document = json.loads(_export(project, layer.network))

    assert document["rounds"] == [
        {
            "title": "mixed3b curves",
            "layer": "mixed3b",
            "units": 4,
            "annotators": ["ada", "bob"],
            "closed_at": closed.closed_at.isoformat(),
            "choices": [
                {"key": str(curves.pk), "name": "Curves"},
                {"key": str(lines.pk), "name": "Lines"},
                {"key": "other", "name": "other"},
            ],
            "agreement": closed.agreement,
        }
    ]
    assert document["rounds"][0]["agreement"]["cohen_kappa"] == pytest.approx(0.2)


def test_json_export_with_rounds_fits_the_export_schema(closed, project, layer):
    jsonschema.Draft202012Validator(SCHEMA).validate(json.loads(_export(project, layer.network)))


def test_open_rounds_stay_out_of_the_export(labelling_round, project, layer):
    assert json.loads(_export(project, layer.network))["rounds"] == []


def test_release_made_after_a_round_records_its_scores(closed, project, layer, people):
    release = release_create(project=project, actor=people["owner"], name="v1")

    document = json.loads(_export(project, layer.network, release=release))

    assert release.rounds["inceptionv1"][0]["agreement"] == closed.agreement
    assert document["rounds"] == json.loads(_export(project, layer.network))["rounds"]


def test_release_made_before_a_round_closes_has_no_rounds(labelling_round, project, people):
    release = release_create(project=project, actor=people["owner"], name="v1")
    round_close(labelling_round=labelling_round, actor=people["owner"])

    release.refresh_from_db()
    assert release.rounds == {"inceptionv1": []}


def test_an_export_with_rounds_imports_without_them(closed, project, layer, people, curves):
    round_agreed_apply(labelling_round=closed, actor=people["rev"])
    exported = _export(project, layer.network)
    new_project = ProjectFactory(slug="copy")
    ProjectNetworkFactory(project=new_project, network=layer.network)
    join_team(source=project, target=new_project)

    taxonomy_import(
        project=new_project,
        network=layer.network,
        actor=people["owner"],
        format="json",
        content=exported,
    )

    assert sorted(
        Assignment.objects.filter(project=new_project).values_list("unit__index", "group__name")
    ) == [(0, "Curves"), (1, "Lines")]
    assert json.loads(_export(new_project, layer.network))["rounds"] == []


def test_the_releases_api_lists_a_releases_rounds_with_their_headline_agreement(
    closed, project, people
):
    release_create(project=project, actor=people["owner"], name="v1")

    response = client_for(people["vic"]).get(f"{PROJECT}/releases/")

    assert response.status_code == 200
    (release,) = response.json()["results"]
    assert release["rounds"] == [
        {
            "network": "inceptionv1",
            "title": "mixed3b curves",
            "layer": "mixed3b",
            "units": 4,
            "annotators": ["ada", "bob"],
            "closed_at": closed.closed_at.isoformat().replace("+00:00", "Z"),
            "percent_agreement": closed.agreement["percent_agreement"],
            "cohen_kappa": closed.agreement["cohen_kappa"],
            "fleiss_kappa": closed.agreement["fleiss_kappa"],
            "krippendorff_alpha": closed.agreement["krippendorff_alpha"],
        }
    ]
    assert closed.agreement["percent_agreement"] == 0.5
