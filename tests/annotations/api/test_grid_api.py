import json

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Comment, Role
from annotations.selectors.grid import _sprite_index
from annotations.services.comments import comment_delete, comment_post
from annotations.services.hypotheses import hypothesis_create, hypothesis_withdraw
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from tests.openapi import query_parameter
from workers.models import Artifact

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_remembered_sprite_indexes():
    """Index files are remembered per process by artifact; rolled-back ids come back here."""
    _sprite_index.cache_clear()


GRID = "/api/v1/projects/early-vision/grid/inception/mixed3b/"


@pytest.fixture
def project():
    return ProjectFactory(slug="early-vision")


@pytest.fixture
def layer(project):
    network = NetworkFactory(name="inception")
    ProjectNetworkFactory(project=project, network=network)
    return LayerFactory(network=network, name="mixed3b", channels=8)


@pytest.fixture
def viewer(api_client, project):
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)
    return api_client


def unit(layer, index):
    return layer.units.get(index=index)


def author_in(project):
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    return user


# Through the services, which keep the grid's counts (``UnitCounts``) as they write.
def comment_on(project, target, body="Looks like a curve."):
    return comment_post(
        project=project,
        target_type=Comment.TargetType.UNIT,
        target_id=target.pk,
        body=body,
        actor=author_in(project),
    )


def open_hypothesis_on(project, layer, *units, title="Curve detectors"):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title=title,
        units=[f"{layer.name}:{target.index}" for target in units],
        actor=author_in(project),
    )


def test_the_grid_lists_every_unit_with_its_group_and_counts(viewer, project, layer):
    curves = GroupFactory(project=project, name="Curves", color="#ff0000")
    AssignmentFactory(project=project, group=curves, unit=unit(layer, 2))
    comment_on(project, unit(layer, 2))
    comment_on(project, unit(layer, 2))
    open_hypothesis_on(project, layer, unit(layer, 2), unit(layer, 5))

    body = viewer.get(GRID).json()

    assert body["count"] == 8
    rows = {row["index"]: row for row in body["results"]}
    assert rows[2]["group"] == {"id": curves.pk, "name": "Curves", "color": "#ff0000"}
    assert (rows[2]["comments"], rows[2]["open_hypotheses"]) == (2, 1)
    assert (rows[5]["group"], rows[5]["comments"], rows[5]["open_hypotheses"]) == (None, 0, 1)
    assert rows[2]["card_url"] == "/api/v1/networks/inception/units/mixed3b:2/card/"


def test_deleted_comments_and_closed_hypotheses_do_not_count(viewer, project, layer):
    comment = comment_on(project, unit(layer, 1))
    comment_delete(comment=comment, expected_version=comment.version, actor=comment.author)
    hypothesis = open_hypothesis_on(project, layer, unit(layer, 1))
    hypothesis_withdraw(
        hypothesis=hypothesis, expected_version=hypothesis.version, actor=hypothesis.author
    )

    row = viewer.get(GRID).json()["results"][1]

    assert (row["comments"], row["open_hypotheses"]) == (0, 0)


@pytest.mark.parametrize(
    ("query", "indices"),
    [
        ({"status": "labelled"}, [2, 3]),
        ({"status": "unlabelled"}, [0, 1, 4, 5, 6, 7]),
        ({"status": "under_review"}, [6]),
        ({"group": "none"}, [0, 1, 4, 5, 6, 7]),
        ({"q": "curv"}, [2, 6]),
        ({"q": "zigzag"}, [7]),
    ],
)
def test_the_grid_filters_by_group_status_and_text(viewer, project, layer, query, indices):
    curves = GroupFactory(project=project, name="Curves")
    other = GroupFactory(project=project, name="Other units")
    AssignmentFactory(project=project, group=curves, unit=unit(layer, 2))
    AssignmentFactory(project=project, group=other, unit=unit(layer, 3))
    open_hypothesis_on(project, layer, unit(layer, 6), title="More curves")
    comment_on(project, unit(layer, 7), body="A zigzag detector?")

    body = viewer.get(GRID, query).json()

    assert [row["index"] for row in body["results"]] == indices


def test_a_filter_that_matches_nothing_is_an_empty_page(viewer, layer):
    body = viewer.get(GRID, {"status": "labelled"}).json()

    assert (body["count"], body["results"], body["next"]) == (0, [], None)


def test_the_grid_filters_by_a_group_id(viewer, project, layer):
    curves = GroupFactory(project=project, name="Curves")
    AssignmentFactory(project=project, group=curves, unit=unit(layer, 4))

    body = viewer.get(GRID, {"group": curves.pk}).json()

    assert [row["index"] for row in body["results"]] == [4]


def test_the_grid_is_a_constant_number_of_queries(viewer, project):
    network = NetworkFactory(name="inception")
    ProjectNetworkFactory(project=project, network=network)
    small = LayerFactory(network=network, name="mixed3a", channels=4)
    large = LayerFactory(network=network, name="mixed3b", channels=300)
    for target_layer in (small, large):
        group = GroupFactory(project=project)
        for target in target_layer.units.all()[:3]:
            AssignmentFactory(project=project, group=group, unit=target)
            comment_on(project, target)
    with CaptureQueriesContext(connection) as few:
        viewer.get("/api/v1/projects/early-vision/grid/inception/mixed3a/")

    with CaptureQueriesContext(connection) as many:
        response = viewer.get(GRID, {"page_size": 300})

    assert len(response.json()["results"]) == 300
    # the project with its network and layer and the viewer's role, the page with its count,
    # the sprite sheets
    assert len(many) == len(few) == 3


def test_the_grid_pages_through_the_layer(viewer, layer):
    first = viewer.get(GRID, {"page_size": 5}).json()
    second = viewer.get(first["next"]).json()

    assert (first["count"], second["count"]) == (8, 8)
    assert [row["index"] for row in second["results"]] == [5, 6, 7]
    assert second["next"] is None
    assert second["previous"].endswith(f"{GRID}?page_size=5")


def test_the_last_page_can_be_asked_for_by_name(viewer, layer):
    body = viewer.get(GRID, {"page_size": 5, "page": "last"}).json()

    assert (body["count"], [row["index"] for row in body["results"]]) == (8, [5, 6, 7])


def test_the_count_is_of_the_units_that_match_the_filters(viewer, project, layer):
    curves = GroupFactory(project=project, name="Curves")
    for index in (1, 4, 6):
        AssignmentFactory(project=project, group=curves, unit=unit(layer, index))

    body = viewer.get(GRID, {"status": "labelled", "page_size": 2, "page": 2}).json()

    assert (body["count"], [row["index"] for row in body["results"]]) == (3, [6])


def test_a_page_past_the_end_is_404(viewer, layer):
    response = viewer.get(GRID, {"page_size": 5, "page": 3})

    assert response.status_code == 404


@pytest.mark.parametrize("page", ["9" * 30, "\u00b2", "0", "-1"])
def test_a_page_that_is_no_page_number_is_404(viewer, layer, page):
    response = viewer.get(GRID, {"page": page})

    assert response.status_code == 404


def test_a_bad_filter_is_400(viewer, layer):
    response = viewer.get(GRID, {"group": "curves"})

    assert response.status_code == 400
    assert "group" in response.json()["fields"]


def test_a_layer_outside_the_project_is_404(viewer, layer):
    LayerFactory(network=NetworkFactory(name="elsewhere"), name="mixed3b")

    response = viewer.get("/api/v1/projects/early-vision/grid/elsewhere/mixed3b/")

    assert response.status_code == 404


def test_a_superuser_who_is_no_member_sees_the_grid(api_client, layer):
    api_client.force_authenticate(UserFactory(is_superuser=True))

    response = api_client.get(GRID)

    assert (response.status_code, response.json()["count"]) == (200, 8)


def test_a_non_member_gets_404(api_client, layer):
    api_client.force_authenticate(UserFactory())

    response = api_client.get(GRID)

    assert response.status_code == 404


def test_the_grid_points_to_the_layers_newest_sprite_sheet_of_each_kind(viewer, layer):
    old = JobFactory(layer=layer, kind="feature_visualization")
    new = JobFactory(layer=layer, kind="feature_visualization")
    for job in (old, new):
        Artifact.objects.create(
            job=job,
            network=layer.network,
            layer=layer,
            kind="layer_sprite",
            file=f"sprite-{job.pk}.png",
            content_type="image/png",
            sha256="0" * 64,
            code_version="test",
        )

    sprites = viewer.get(GRID).json()["sprites"]

    assert [(s["kind"], s["job"]) for s in sprites] == [("feature_visualization", new.pk)]
    assert sprites[0]["sprite_index_url"] == (
        f"/api/v1/networks/inception/layers/mixed3b/sprite/?kind=feature_visualization&job={new.pk}"
    )


def sprite_sheet_with_index(layer, layout, kind="feature_visualization"):
    job = JobFactory(layer=layer, kind=kind)
    for kind, name, content in (
        ("layer_sprite", "sprite.png", b"png"),
        ("layer_index", "sprite.json", json.dumps(layout).encode()),
    ):
        Artifact.objects.create(
            job=job,
            network=layer.network,
            layer=layer,
            kind=kind,
            file=default_storage.save(f"grid-test/{name}", ContentFile(content)),
            content_type="application/json",
            sha256="0" * 64,
            code_version="test",
        )
    return job


def test_the_grid_carries_each_sprite_sheets_layout_inline(viewer, layer):
    layout = {"tile_width": 8, "tile_height": 8, "columns": 3, "units": [{"index": 0, "x": 0}]}
    job = sprite_sheet_with_index(layer, layout)

    sprites = viewer.get(GRID).json()["sprites"]

    assert [(s["job"], s["layout"]) for s in sprites] == [(job.pk, layout)]


def test_the_inline_layout_lists_only_the_units_on_the_page(viewer, layer):
    tiles = [{"index": index, "x": 9 * index, "y": 0} for index in range(8)]
    sprite_sheet_with_index(layer, {"tile_width": 8, "columns": 8, "units": tiles})

    body = viewer.get(GRID, {"page_size": 3, "page": 2}).json()

    assert [row["index"] for row in body["results"]] == [3, 4, 5]
    assert body["sprites"][0]["layout"] == {"tile_width": 8, "columns": 8, "units": tiles[3:6]}


def test_a_sprite_sheet_without_an_index_has_no_layout(viewer, layer):
    job = JobFactory(layer=layer, kind="feature_visualization")
    Artifact.objects.create(
        job=job,
        network=layer.network,
        layer=layer,
        kind="layer_sprite",
        file="sprite.png",
        content_type="image/png",
        sha256="0" * 64,
        code_version="test",
    )

    sprites = viewer.get(GRID).json()["sprites"]

    assert [(s["job"], s["layout"]) for s in sprites] == [(job.pk, None)]


@pytest.mark.parametrize("group", ["1\n", "\u00b2", "\u0661", " 1", "None", "9" * 19])
def test_a_group_that_is_no_id_nor_none_is_400(viewer, layer, group):
    response = viewer.get(GRID, {"group": group})

    assert response.status_code == 400
    assert response.json()["fields"] == {"group": ["A group id or 'none'."]}


def test_the_schema_gives_the_group_pattern_the_server_checks():
    group = query_parameter("get", "/api/v1/projects/{slug}/grid/{network}/{layer}/", "group")

    assert group["schema"]["pattern"] == "^(?:([0-9]{1,18}|none))?$"  # empty: not given


def test_a_group_id_of_eighteen_digits_matches_no_unit(viewer, layer):
    response = viewer.get(GRID, {"group": "9" * 18})

    assert response.status_code == 200
    assert response.json()["results"] == []


def examples_sprite_with_firing(layer, fired):
    """A dataset-examples sprite sheet whose index says on how many of 40 demo images each unit
    fired (``fired``: {unit index: images})."""
    tiles = [{"index": index, "x": 0, "y": 0, "fired": count} for index, count in fired.items()]
    layout = {"columns": 8, "units": tiles, "fired_on": {"dataset": "demo", "of": 40}}
    return sprite_sheet_with_index(layer, layout, kind="dataset_examples")


def test_the_grid_marks_the_units_that_never_fired_on_the_examples_dataset(viewer, layer):
    examples_sprite_with_firing(layer, {index: (0 if index in (1, 6) else 5) for index in range(8)})

    rows = viewer.get(GRID).json()["results"]

    assert [row["index"] for row in rows if row["fired_on"]["never_fired"]] == [1, 6]
    assert rows[1]["fired_on"] == {"dataset": "demo", "images": 0, "of": 40, "never_fired": True}
    assert rows[2]["fired_on"] == {"dataset": "demo", "images": 5, "of": 40, "never_fired": False}


def test_the_grid_says_nothing_of_firing_without_dataset_examples(viewer, layer):
    sprite_sheet_with_index(layer, {"columns": 8, "units": [{"index": 0, "x": 0, "y": 0}]})

    rows = viewer.get(GRID).json()["results"]

    assert {row["fired_on"] for row in rows} == {None}


def test_dataset_examples_from_before_the_firing_counts_mark_nothing(viewer, layer):
    layout = {"columns": 8, "units": [{"index": 0, "x": 0, "y": 0}]}
    sprite_sheet_with_index(layer, layout, kind="dataset_examples")

    rows = viewer.get(GRID).json()["results"]

    assert {row["fired_on"] for row in rows} == {None}


def test_the_firing_marks_come_from_the_newest_dataset_examples_job(viewer, layer):
    examples_sprite_with_firing(layer, {0: 0})
    examples_sprite_with_firing(layer, {0: 3})

    rows = viewer.get(GRID).json()["results"]

    assert rows[0]["fired_on"]["images"] == 3


def test_the_firing_marks_cost_no_query(viewer, project):
    network = NetworkFactory(name="inception")
    ProjectNetworkFactory(project=project, network=network)
    LayerFactory(network=network, name="mixed3a", channels=4)
    large = LayerFactory(network=network, name="mixed3b", channels=300)
    examples_sprite_with_firing(large, dict.fromkeys(range(300), 0))
    with CaptureQueriesContext(connection) as few:
        viewer.get("/api/v1/projects/early-vision/grid/inception/mixed3a/")

    with CaptureQueriesContext(connection) as many:
        response = viewer.get(GRID, {"page_size": 300})

    assert [row["fired_on"]["never_fired"] for row in response.json()["results"]] == [True] * 300
    assert len(many) == len(few) == 3
