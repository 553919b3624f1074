import pytest
from rest_framework.test import APIClient

from annotations.models import Assignment, Event, Group, Role
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db

GROUPS = "/api/v1/projects/curves/groups/"


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def reviewer():
    return MembershipFactory(role=Role.REVIEWER, project__slug="curves", user__username="chris")


@pytest.fixture
def client(reviewer):
    client = APIClient()
    client.force_authenticate(reviewer.user)
    return client


@pytest.fixture
def layer(reviewer):
    network = ProjectNetworkFactory(project=reviewer.project, network__name="inception").network
    return LayerFactory(network=network, name="mixed3b", channels=12)


def _group_json(group, **overrides):
    return {
        "id": group.pk,
        "name": group.name,
        "description": group.description,
        "color": group.color,
        "order": group.order,
        "parent": group.parent_id,
        "layer": None,
        "unit_count": 0,
        "version": group.version,
        "created_by": None,
        "created_at": _iso(group.created_at),
        "updated_at": _iso(group.updated_at),
        **overrides,
    }


def test_the_flat_list_shows_every_group_with_its_unit_count(client, reviewer, layer):
    curves = GroupFactory(
        project=reviewer.project, name="Curves", order=1, created_by=reviewer.user
    )
    lines = GroupFactory(project=reviewer.project, name="Lines", parent=curves, layer=layer)
    for unit in layer.units.all()[:3]:
        AssignmentFactory(group=curves, unit=unit)
    GroupFactory(name="Elsewhere")

    response = client.get(GROUPS)

    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert response.json()["results"] == [
        _group_json(
            lines,
            parent=curves.pk,
            layer={"network": "inception", "layer": "mixed3b"},
        ),
        _group_json(curves, unit_count=3, created_by="chris"),
    ]


def test_the_list_costs_the_same_queries_for_many_groups(
    client, reviewer, layer, django_assert_num_queries
):
    for index, unit in enumerate(layer.units.all()):
        AssignmentFactory(group=GroupFactory(project=reviewer.project, layer=layer), unit=unit)
        GroupFactory(project=reviewer.project, created_by=reviewer.user, name=f"Empty {index}")

    # the project with the role, the page with the count
    with django_assert_num_queries(2):
        response = client.get(GROUPS)

    assert response.json()["count"] == 24


def test_the_tree_nests_subgroups_under_their_parents(client, reviewer, layer):
    early = GroupFactory(project=reviewer.project, name="Early vision")
    curves = GroupFactory(project=reviewer.project, name="Curves", parent=early)
    AssignmentFactory(group=curves, unit=layer.units.first())
    lines = GroupFactory(project=reviewer.project, name="Lines")

    response = client.get(f"{GROUPS}tree/")

    assert response.status_code == 200
    assert response.json() == [
        {
            **_group_json(early),
            "total_unit_count": 1,
            "children": [
                {**_group_json(curves, unit_count=1), "total_unit_count": 1, "children": []}
            ],
        },
        {**_group_json(lines), "total_unit_count": 0, "children": []},
    ]


def test_the_tree_costs_the_same_queries_for_many_groups(
    client, reviewer, django_assert_num_queries
):
    parent = None
    for index in range(10):
        parent = GroupFactory(project=reviewer.project, parent=parent, name=f"Level {index}")

    with django_assert_num_queries(2):
        response = client.get(f"{GROUPS}tree/")

    assert response.status_code == 200


def test_create_returns_the_group_with_its_etag_and_records_it(client, reviewer, layer):
    parent = GroupFactory(project=reviewer.project, name="Early vision")

    response = client.post(
        GROUPS,
        {
            "name": "Curves",
            "description": "Curved *edges*.",
            "color": "#ff8800",
            "order": 3,
            "parent": parent.pk,
            "layer": {"network": "inception", "layer": "mixed3b"},
        },
    )

    group = Group.objects.get(name="Curves")
    assert response.status_code == 201
    assert response["ETag"] == '"1"'
    assert response.json() == _group_json(
        group,
        layer={"network": "inception", "layer": "mixed3b"},
        created_by="chris",
    )
    assert (group.parent_id, group.layer_id) == (parent.pk, layer.pk)
    assert list(Event.objects.values_list("verb", "target_id")) == [("group.created", group.pk)]


def test_create_with_a_sibling_name_is_a_409_name_taken(client, reviewer):
    GroupFactory(project=reviewer.project, name="Curves")

    response = client.post(GROUPS, {"name": "Curves"})

    assert response.status_code == 409
    assert response.json() == {
        "detail": "A group named 'Curves' already exists there.",
        "code": "name_taken",
        "fields": {"name": ["Taken by another group with the same parent."]},
    }
    assert Group.objects.count() == 1
    assert not Event.objects.exists()


def test_create_with_a_bad_color_is_a_400(client):
    response = client.post(GROUPS, {"name": "Curves", "color": "orange"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"color": ["Write a color as #rrggbb."]}
    assert not Group.objects.exists()


def test_create_with_a_color_followed_by_a_newline_is_a_400(client):
    response = client.post(GROUPS, {"name": "Curves", "color": "#AABBCC\n"})

    assert response.status_code == 400
    assert response.json()["fields"] == {"color": ["Write a color as #rrggbb."]}
    assert not Group.objects.exists()


def test_create_under_a_group_of_another_project_is_a_422(client):
    elsewhere = GroupFactory(name="Elsewhere")

    response = client.post(GROUPS, {"name": "Curves", "parent": elsewhere.pk})

    assert response.status_code == 422
    assert response.json()["fields"] == {"parent": ["Unknown group."]}
    assert Group.objects.count() == 1


def test_create_for_a_layer_the_project_does_not_study_is_a_422(client, layer):
    response = client.post(
        GROUPS, {"name": "Curves", "layer": {"network": "inception", "layer": "mixed4a"}}
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"layer": ["Unknown layer."]}


def test_retrieve_sends_the_version_as_etag(client, reviewer):
    group = GroupFactory(project=reviewer.project, name="Curves", version=4)

    response = client.get(f"{GROUPS}{group.pk}/")

    assert response.status_code == 200
    assert response["ETag"] == '"4"'
    assert response.json() == _group_json(group)


def test_a_group_of_another_project_is_a_404(client):
    group = GroupFactory(name="Elsewhere")

    response = client.get(f"{GROUPS}{group.pk}/")

    assert response.status_code == 404
    assert response.json() == {
        "detail": f"No group {group.pk} in this project.",
        "code": "not_found",
        "fields": {},
    }


def test_patch_renames_at_the_version_read_and_sends_the_new_etag(client, reviewer):
    group = GroupFactory(project=reviewer.project, name="Curves", version=4)

    response = client.patch(
        f"{GROUPS}{group.pk}/", {"name": "Curve detectors"}, HTTP_IF_MATCH='"4"'
    )

    assert response.status_code == 200
    assert response["ETag"] == '"5"'
    assert (response.json()["name"], response.json()["version"]) == ("Curve detectors", 5)
    assert list(Event.objects.values_list("verb", "before", "after")) == [
        ("group.renamed", {"name": "Curves"}, {"name": "Curve detectors"})
    ]


def test_patch_without_if_match_is_a_428_and_changes_nothing(client, reviewer):
    group = GroupFactory(project=reviewer.project, name="Curves")

    response = client.patch(f"{GROUPS}{group.pk}/", {"name": "Mine"})

    assert response.status_code == 428
    assert response.json() == {
        "detail": "This change needs an If-Match header with the ETag you last read.",
        "code": "precondition_required",
        "fields": {"If-Match": ["Required."]},
    }
    assert Group.objects.values_list("name", "version").get() == ("Curves", 1)
    assert not Event.objects.exists()


def test_patch_with_a_stale_etag_is_a_412_with_the_current_version(client, reviewer):
    group = GroupFactory(project=reviewer.project, name="Curves", version=4)

    response = client.patch(f"{GROUPS}{group.pk}/", {"name": "Mine"}, HTTP_IF_MATCH='"3"')

    assert response.status_code == 412
    assert response.json() == {
        "detail": "The group changed since you read it (now version 4); re-read it and apply "
        "your change again.",
        "code": "version_conflict",
        "fields": {"current_version": ["4"]},
    }
    assert Group.objects.values_list("name", "version").get() == ("Curves", 4)
    assert not Event.objects.exists()


def test_patch_with_nothing_to_change_changes_nothing(client, reviewer):
    group = GroupFactory(project=reviewer.project)

    response = client.patch(f"{GROUPS}{group.pk}/", {"unknown": 1}, HTTP_IF_MATCH='"1"')

    assert (response.status_code, response.json()["version"], response["ETag"]) == (200, 1, '"1"')
    assert Group.objects.get().version == 1
    assert not Event.objects.exists()


def test_patch_lifts_the_layer_scope_with_null(client, reviewer, layer):
    group = GroupFactory(project=reviewer.project, layer=layer)

    response = client.patch(f"{GROUPS}{group.pk}/", {"layer": None}, HTTP_IF_MATCH='"1"')

    assert (response.status_code, response.json()["layer"]) == (200, None)
    assert Group.objects.values_list("layer", flat=True).get() is None


def test_move_under_a_descendant_is_a_409_cycle(client, reviewer):
    early = GroupFactory(project=reviewer.project, name="Early vision")
    curves = GroupFactory(project=reviewer.project, name="Curves", parent=early)

    response = client.post(f"{GROUPS}{early.pk}/move/", {"parent": curves.pk}, HTTP_IF_MATCH='"1"')

    assert response.status_code == 409
    assert response.json() == {
        "detail": "Curves is inside Early vision; a group cannot go under itself or one of its "
        "subgroups.",
        "code": "cycle",
        "fields": {"parent": ["Inside the group being moved."]},
    }
    assert Group.objects.values_list("parent", "version").get(pk=early.pk) == (None, 1)


def test_move_to_the_root_returns_the_group_with_its_new_etag(client, reviewer):
    early = GroupFactory(project=reviewer.project, name="Early vision")
    curves = GroupFactory(project=reviewer.project, name="Curves", parent=early)

    response = client.post(f"{GROUPS}{curves.pk}/move/", {"parent": None}, HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert (response.json()["parent"], response.json()["version"]) == (None, 2)


def test_merge_moves_the_units_and_returns_the_target(client, reviewer, layer):
    curves = GroupFactory(project=reviewer.project, name="Curves", version=2)
    into = GroupFactory(project=reviewer.project, name="Curve detectors")
    for unit in layer.units.all()[:2]:
        AssignmentFactory(group=curves, unit=unit)

    response = client.post(f"{GROUPS}{curves.pk}/merge/", {"into": into.pk}, HTTP_IF_MATCH='"2"')

    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    assert (response.json()["id"], response.json()["unit_count"]) == (into.pk, 2)
    assert list(Group.objects.values_list("pk", flat=True)) == [into.pk]
    assert set(Assignment.objects.values_list("group", flat=True)) == {into.pk}


def test_merge_into_a_group_of_another_project_is_a_422(client, reviewer):
    curves = GroupFactory(project=reviewer.project)

    response = client.post(
        f"{GROUPS}{curves.pk}/merge/", {"into": GroupFactory().pk}, HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {"into": ["Unknown group."]}
    assert Group.objects.filter(pk=curves.pk).exists()


def test_delete_of_an_empty_group_is_a_204(client, reviewer):
    group = GroupFactory(project=reviewer.project)

    response = client.delete(f"{GROUPS}{group.pk}/", HTTP_IF_MATCH='"1"')

    assert response.status_code == 204
    assert not Group.objects.exists()
    assert list(Event.objects.values_list("verb", flat=True)) == ["group.deleted"]


def test_delete_of_a_group_with_units_is_a_409_group_not_empty(client, reviewer, layer):
    group = GroupFactory(project=reviewer.project, name="Curves")
    AssignmentFactory(group=group, unit=layer.units.first())

    response = client.delete(f"{GROUPS}{group.pk}/", HTTP_IF_MATCH='"1"')

    assert response.status_code == 409
    assert response.json()["code"] == "group_not_empty"
    assert Group.objects.values_list("version", flat=True).get() == 1


def test_delete_without_if_match_is_a_428(client, reviewer):
    group = GroupFactory(project=reviewer.project)

    response = client.delete(f"{GROUPS}{group.pk}/")

    assert response.status_code == 428
    assert Group.objects.exists()


def test_the_units_of_a_group_are_listed_in_layer_order(client, reviewer, layer):
    group = GroupFactory(project=reviewer.project)
    second = AssignmentFactory(group=group, unit=layer.units.get(index=5), note="Clear")
    first = AssignmentFactory(
        group=group,
        unit=layer.units.get(index=2),
        source="hypothesis",
        hypothesis_id=9,
        assigned_by=reviewer.user,
    )

    response = client.get(f"{GROUPS}{group.pk}/units/")

    assert response.status_code == 200
    assert response.json()["results"] == [
        {
            "unit_id": first.unit_id,
            "network": "inception",
            "address": "mixed3b:2",
            "note": "",
            "source": "hypothesis",
            "hypothesis": 9,
            "assigned_by": "chris",
            "assigned_at": _iso(first.assigned_at),
        },
        {
            "unit_id": second.unit_id,
            "network": "inception",
            "address": "mixed3b:5",
            "note": "Clear",
            "source": "direct",
            "hypothesis": None,
            "assigned_by": None,
            "assigned_at": _iso(second.assigned_at),
        },
    ]


def test_the_units_of_a_group_cost_the_same_queries_for_many_units(
    client, reviewer, layer, django_assert_num_queries
):
    group = GroupFactory(project=reviewer.project)
    for unit in layer.units.all():
        AssignmentFactory(group=group, unit=unit, assigned_by=reviewer.user)

    # the project with the role, the group, the page with the count
    with django_assert_num_queries(3):
        response = client.get(f"{GROUPS}{group.pk}/units/")

    assert response.json()["count"] == 12


def test_the_last_page_of_a_groups_units_holds_the_rest(client, reviewer, layer):
    group = GroupFactory(project=reviewer.project)
    for unit in layer.units.all():
        AssignmentFactory(group=group, unit=unit)

    body = client.get(f"{GROUPS}{group.pk}/units/", {"page_size": 5, "page": "last"}).json()

    assert (body["count"], [unit["address"] for unit in body["results"]]) == (
        12,
        [f"{layer.name}:10", f"{layer.name}:11"],
    )
