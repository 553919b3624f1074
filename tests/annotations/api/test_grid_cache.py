"""The layer grid's page cache: pages served from it are the pages the grid would make now.

These tests commit (``transaction=True``): the project's change count is raised after a
commit, and requests inside a transaction bypass the cache.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext, override_settings

from annotations.models import Comment, ProjectChanges, Role
from annotations.selectors.grid import _sprite_index
from annotations.services.comments import comment_delete, comment_edit, comment_post
from annotations.services.groups import group_merge, group_update, unit_assign, units_assign
from annotations.services.hypotheses import (
    hypothesis_create,
    hypothesis_revise,
    hypothesis_withdraw,
)
from annotations.services.imports import taxonomy_import
from annotations.services.reviews import review_submit
from annotations.services.unit_counts import unit_counts_rebuild
from tests.factories.annotations import (
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from workers.models import Artifact
from workers.services.artifacts import ArtifactBatch

pytestmark = pytest.mark.django_db(transaction=True)

GRID = "/api/v1/projects/early-vision/grid/inception/mixed3b/"


@pytest.fixture(autouse=True)
def _no_remembered_sprite_indexes():
    _sprite_index.cache_clear()


@pytest.fixture
def project():
    return ProjectFactory(slug="early-vision")


@pytest.fixture
def layer(project):
    network = NetworkFactory(name="inception")
    ProjectNetworkFactory(project=project, network=network)
    return LayerFactory(network=network, name="mixed3b", channels=8)


@pytest.fixture
def owner(project):
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.OWNER)
    return user


@pytest.fixture
def reviewer(project):
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.REVIEWER)
    return user


@pytest.fixture
def viewer(api_client, project):
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.VIEWER)
    api_client.force_authenticate(user)
    return api_client


def unit(layer, index):
    return layer.units.get(index=index)


def changes(project):
    return ProjectChanges.objects.filter(project=project).values_list("count", flat=True).first()


def comment_on(project, layer, index, actor, body="Looks like a curve."):
    return comment_post(
        project=project,
        target_type=Comment.TargetType.UNIT,
        target_id=unit(layer, index).pk,
        body=body,
        actor=actor,
    )


def hypothesis_on(project, layer, actor, *indices, title="Curve detectors", **proposal):
    return hypothesis_create(
        project=project,
        network=layer.network,
        title=title,
        units=[f"{layer.name}:{index}" for index in indices],
        actor=actor,
        **proposal,
    )


def sprite_job(layer, name="sprite"):
    """A finished layer job with a sprite sheet and its index, stored as workers store them."""
    job = JobFactory(network=layer.network, layer=layer, kind="feature_visualization")
    batch = ArtifactBatch(job)
    batch.add(
        kind=Artifact.Kind.LAYER_SPRITE,
        filename=f"{name}.png",
        content=b"png",
        content_type="image/png",
    )
    batch.add(
        kind=Artifact.Kind.LAYER_INDEX,
        filename=f"{name}.json",
        content=b'{"tile": 8, "columns": 4, "units": []}',
        content_type="application/json",
    )
    batch.flush()
    return job


def served_from_cache(client, params=None):
    """The page at ``GRID`` asked for twice; the second answer must come from the cache (the
    project lookup and the sprite artifacts only: no page statement, no serializing)."""
    with CaptureQueriesContext(connection) as made:
        first = client.get(GRID, params)
    with CaptureQueriesContext(connection) as served:
        second = client.get(GRID, params)
    assert first.status_code == 200
    assert len(made) > len(served) == 2
    assert second.content == first.content
    return second.json()


def rows_of(client, params=None):
    return {row["index"]: row for row in client.get(GRID, params).json()["results"]}


# A hit is the miss, byte for byte.


def test_a_cached_page_costs_one_query_less_than_making_it(viewer, layer):
    with CaptureQueriesContext(connection) as made:
        viewer.get(GRID)
    with CaptureQueriesContext(connection) as served:
        viewer.get(GRID)

    # Made: the project lookup with the change count, the sprite artifacts, the page with its
    # count (as without a cache). Served: the project lookup, the sprite artifacts.
    assert (len(made), len(served)) == (3, 2)


def test_a_cached_page_is_the_page_made_byte_for_byte_with_the_same_headers(
    viewer, project, layer, owner
):
    group = GroupFactory(project=project, name="Curves", color="#ff0000")
    unit_assign(project=project, unit=unit(layer, 2), group=group, actor=owner)
    comment_on(project, layer, 2, owner)
    sprite_job(layer)
    made = viewer.get(GRID, {"page_size": 5})
    served = viewer.get(GRID, {"page_size": 5})

    with override_settings(ATLAS_GRID_CACHE_SECONDS=0):
        uncached = viewer.get(GRID, {"page_size": 5})

    assert served.content == made.content == uncached.content
    assert made.json()["sprites"][0]["layout"] is not None
    for header in ("Content-Type", "Vary", "Allow"):
        assert served[header] == made[header] == uncached[header]


def test_with_the_cache_off_every_request_makes_the_page(viewer, layer):
    with override_settings(ATLAS_GRID_CACHE_SECONDS=0), CaptureQueriesContext(connection) as seen:
        viewer.get(GRID)
        viewer.get(GRID)

    assert len(seen) == 6


def test_a_request_inside_a_transaction_neither_reads_nor_stores_pages(viewer, layer):
    viewer.get(GRID)
    with transaction.atomic(), CaptureQueriesContext(connection) as seen:
        viewer.get(GRID)

    assert len(seen) == 3


# Entries are never shared between requests that would see different pages.


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"page_size": 3}, {"page_size": 3, "page": 2}),
        ({"page_size": 3}, {"page_size": 4}),
        ({"q": "curve"}, {"q": "zigzag"}),
        ({"status": "labelled"}, {"status": "unlabelled"}),
        ({"group": "none"}, {}),
    ],
)
def test_different_pages_and_filters_are_different_entries(
    viewer, project, layer, owner, first, second
):
    comment_on(project, layer, 1, owner, body="A curve?")
    comment_on(project, layer, 6, owner, body="A zigzag?")
    viewer.get(GRID, first)
    with CaptureQueriesContext(connection) as seen:
        response = viewer.get(GRID, second)

    assert len(seen) == 3
    with override_settings(ATLAS_GRID_CACHE_SECONDS=0):
        assert response.content == viewer.get(GRID, second).content


def test_readers_of_different_roles_do_not_share_entries(api_client, viewer, layer, reviewer):
    viewer.get(GRID)
    api_client.force_authenticate(reviewer)
    with CaptureQueriesContext(connection) as seen:
        api_client.get(GRID)

    assert len(seen) == 3


def test_a_reader_who_may_not_see_the_project_gets_no_cached_page(api_client, viewer, layer):
    viewer.get(GRID)
    viewer.get(GRID)
    api_client.force_authenticate(UserFactory())

    assert api_client.get(GRID).status_code == 404


# The change count.


def test_a_transaction_that_rolls_back_counts_no_change(viewer, project, layer, owner):
    served_from_cache(viewer)
    counted = changes(project)
    with pytest.raises(RuntimeError), transaction.atomic():
        comment_on(project, layer, 3, owner)
        raise RuntimeError("give up")

    with CaptureQueriesContext(connection) as seen:
        page = viewer.get(GRID).json()
    assert changes(project) == counted
    assert (len(seen), page["results"][3]["comments"]) == (2, 0)


def test_a_change_after_a_rolled_back_savepoint_is_still_counted(project, layer, owner):
    with transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            comment_on(project, layer, 3, owner)
            raise RuntimeError("give up")
        comment_on(project, layer, 4, owner)

    assert changes(project) == 1


def test_a_rolled_back_savepoint_alone_counts_no_change(project, layer, owner):
    with transaction.atomic(), pytest.raises(RuntimeError), transaction.atomic():
        comment_on(project, layer, 3, owner)
        raise RuntimeError("give up")

    assert changes(project) is None


def test_a_transaction_counts_one_change_however_many_events_it_writes(project, layer, owner):
    group = GroupFactory(project=project, name="Curves")
    with transaction.atomic():
        units_assign(
            project=project,
            network=layer.network,
            addresses=["mixed3b:1", "mixed3b:2", "mixed3b:3"],
            group=group,
            actor=owner,
        )
        comment_on(project, layer, 1, owner)

    assert changes(project) == 1


# Every write the grid shows is shown at once, cached page or not.


def test_a_posted_comment_is_counted_on_a_cached_page(viewer, project, layer, owner):
    served_from_cache(viewer)
    comment_on(project, layer, 3, owner)

    assert rows_of(viewer)[3]["comments"] == 1


def test_a_deleted_comment_leaves_a_cached_page(viewer, project, layer, owner):
    comment = comment_on(project, layer, 3, owner)
    served_from_cache(viewer)
    comment_delete(comment=comment, expected_version=comment.version, actor=owner)

    assert rows_of(viewer)[3]["comments"] == 0


def test_an_edited_comment_is_found_by_text_on_a_cached_page(viewer, project, layer, owner):
    comment = comment_on(project, layer, 3, owner, body="A curve?")
    served_from_cache(viewer, {"q": "zigzag"})
    comment_edit(comment=comment, body="A zigzag!", expected_version=comment.version, actor=owner)

    assert list(rows_of(viewer, {"q": "zigzag"})) == [3]


def test_an_opened_hypothesis_is_counted_on_a_cached_page(viewer, project, layer, owner):
    served_from_cache(viewer, {"status": "under_review"})
    hypothesis_on(project, layer, owner, 2, 5)

    assert list(rows_of(viewer, {"status": "under_review"})) == [2, 5]


def test_a_revised_hypothesis_moves_its_counts_on_a_cached_page(viewer, project, layer, owner):
    hypothesis = hypothesis_on(project, layer, owner, 2)
    served_from_cache(viewer)
    hypothesis_revise(
        hypothesis=hypothesis,
        expected_version=hypothesis.version,
        actor=owner,
        title="Zigzags",
        units=["mixed3b:6"],
    )

    rows = rows_of(viewer)
    assert (rows[2]["open_hypotheses"], rows[6]["open_hypotheses"]) == (0, 1)
    assert list(rows_of(viewer, {"q": "zigzag"})) == [6]


def test_a_withdrawn_hypothesis_leaves_a_cached_page(viewer, project, layer, owner):
    hypothesis = hypothesis_on(project, layer, owner, 2)
    served_from_cache(viewer)
    hypothesis_withdraw(hypothesis=hypothesis, expected_version=hypothesis.version, actor=owner)

    assert rows_of(viewer)[2]["open_hypotheses"] == 0


def test_an_accepted_hypothesis_shows_its_assignments_on_a_cached_page(
    viewer, project, layer, owner, reviewer
):
    curves = GroupFactory(project=project, name="Curves", color="#ff0000")
    hypothesis = hypothesis_on(project, layer, owner, 2, 5, proposed_group_id=curves.pk)
    served_from_cache(viewer)
    review_submit(
        hypothesis=hypothesis,
        expected_version=hypothesis.version,
        verdict="approve",
        actor=reviewer,
    )

    rows = rows_of(viewer)
    assert [rows[index]["group"]["name"] for index in (2, 5)] == ["Curves", "Curves"]
    assert [rows[index]["open_hypotheses"] for index in (2, 5)] == [0, 0]


def test_a_rejected_hypothesis_leaves_a_cached_page(viewer, project, layer, owner, reviewer):
    hypothesis = hypothesis_on(project, layer, owner, 2)
    served_from_cache(viewer)
    review_submit(
        hypothesis=hypothesis, expected_version=hypothesis.version, verdict="reject", actor=reviewer
    )

    assert rows_of(viewer)[2]["open_hypotheses"] == 0


def test_an_assigned_unit_shows_its_group_on_a_cached_page(viewer, project, layer, owner):
    curves = GroupFactory(project=project, name="Curves")
    served_from_cache(viewer)
    unit_assign(project=project, unit=unit(layer, 4), group=curves, actor=owner)

    assert rows_of(viewer)[4]["group"]["name"] == "Curves"


def test_bulk_assigned_units_show_their_group_on_a_cached_page(viewer, project, layer, owner):
    curves = GroupFactory(project=project, name="Curves")
    served_from_cache(viewer, {"status": "labelled"})
    units_assign(
        project=project,
        network=layer.network,
        addresses=[f"mixed3b:{index}" for index in range(8)],
        group=curves,
        actor=owner,
    )

    assert list(rows_of(viewer, {"status": "labelled"})) == list(range(8))


def test_a_renamed_and_recoloured_group_shows_on_a_cached_page(viewer, project, layer, owner):
    curves = GroupFactory(project=project, name="Curves", color="#ff0000")
    unit_assign(project=project, unit=unit(layer, 4), group=curves, actor=owner)
    served_from_cache(viewer)
    group_update(
        group=curves, actor=owner, expected_version=curves.version, name="Arcs", color="#00ff00"
    )

    group = rows_of(viewer)[4]["group"]
    assert (group["name"], group["color"]) == ("Arcs", "#00ff00")


def test_a_merged_group_shows_its_units_in_the_other_on_a_cached_page(
    viewer, project, layer, owner
):
    curves = GroupFactory(project=project, name="Curves")
    arcs = GroupFactory(project=project, name="Arcs")
    unit_assign(project=project, unit=unit(layer, 4), group=curves, actor=owner)
    served_from_cache(viewer, {"group": curves.pk})
    group_merge(group=curves, into=arcs, actor=owner, expected_version=curves.version)

    assert rows_of(viewer, {"group": curves.pk}) == {}
    assert rows_of(viewer)[4]["group"]["id"] == arcs.pk


def test_an_imported_taxonomy_shows_on_a_cached_page(viewer, project, layer, owner):
    served_from_cache(viewer)
    taxonomy_import(
        project=project,
        network=layer.network,
        actor=owner,
        format="csv",
        content="layer,unit,group\nmixed3b,4,Imported\n",
    )

    assert rows_of(viewer)[4]["group"]["name"] == "Imported"


def test_recounted_counts_show_on_a_cached_page(viewer, project, layer, owner):
    comment_on(project, layer, 3, owner)
    served_from_cache(viewer)
    # A bulk load writes comments around the services, then recounts.
    Comment.objects.create(
        project=project,
        target_type=Comment.TargetType.UNIT,
        target_id=unit(layer, 3).pk,
        author=owner,
        body="Loaded.",
        body_html="<p>Loaded.</p>",
    )
    unit_counts_rebuild(project_id=project.pk)

    assert rows_of(viewer)[3]["comments"] == 2


def test_a_new_sprite_sheet_shows_on_a_cached_page(viewer, layer):
    served_from_cache(viewer)
    job = sprite_job(layer)

    assert [sprite["job"] for sprite in viewer.get(GRID).json()["sprites"]] == [job.pk]


def test_a_comment_posted_through_the_api_is_counted_on_a_cached_page(
    api_client, viewer, project, layer, owner
):
    served_from_cache(viewer)
    api_client.force_authenticate(owner)
    posted = api_client.post(
        "/api/v1/projects/early-vision/comments/",
        {"target_type": "unit", "target_id": str(unit(layer, 3).pk), "body": "Curve?"},
        format="json",
    )

    assert posted.status_code == 201
    assert rows_of(viewer)[3]["comments"] == 1
