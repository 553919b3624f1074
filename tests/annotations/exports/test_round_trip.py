"""Acceptance 1: export → import into a new project on the same network → export gives the same
document, ids and timestamps excepted; the same for the CSV export."""

import pytest

from annotations.services.imports import taxonomy_import
from tests.annotations.exports.conftest import (
    comparable,
    comparable_csv,
    export_document,
    export_text,
    join_team,
)

pytestmark = pytest.mark.django_db


def test_json_round_trip_gives_the_same_document(project, new_project, network, owner, taxonomy):
    exported = export_text(project, network, "json")
    join_team(source=project, target=new_project)

    taxonomy_import(
        project=new_project, network=network, actor=owner, format="json", content=exported
    )

    original = export_document(project, network)
    assert comparable(export_document(new_project, network)) == comparable(original)
    assert len(original["units"]) == 11
    assert len(original["hypotheses"]) == 2


def test_csv_round_trip_gives_the_same_file(project, new_project, network, owner, taxonomy):
    exported = export_text(project, network, "csv")

    taxonomy_import(
        project=new_project, network=network, actor=owner, format="csv", content=exported
    )

    again = export_text(new_project, network, "csv")
    assert len(exported.splitlines()) == 1 + 28
    assert comparable_csv(again) == [
        line.replace(",under_review,", ",unlabelled,") for line in comparable_csv(exported)
    ]
