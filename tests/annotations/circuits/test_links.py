"""Universality links: proposed by a member, confirmed or rejected by a reviewer or owner other
than the proposer; confirmed links show on both units and travel in the export and import."""

import json

import pytest
from rest_framework.test import APIClient

from annotations.models import Event, Role, UnitLink
from annotations.services.exports import taxonomy_export
from annotations.services.imports import taxonomy_import
from annotations.services.links import link_propose, link_review
from server.errors import InvalidTransition, PermissionDenied, ValidationFailed
from tests.factories.annotations import (
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.openapi import component
from workers.models import Unit

pytestmark = pytest.mark.django_db

LINKS = "/api/v1/projects/curves/links/"


@pytest.fixture
def project():
    project = ProjectFactory(slug="curves")
    for name, layer in (("inception", "mixed3b"), ("mobilenet", "features.3")):
        network = ProjectNetworkFactory(project=project, network__name=name).network
        LayerFactory(network=network, name=layer, order=0, channels=8)
    return project


@pytest.fixture
def people(project):
    return {
        role: MembershipFactory(project=project, role=role, user__username=role).user
        for role in (Role.OWNER, Role.REVIEWER, Role.ANNOTATOR)
    }


def _unit(network, index):
    return network_units(network).get(index=index)


def network_units(name):
    return Unit.objects.select_related("layer", "network").filter(network__name=name)


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _propose(client, **extra):
    return client.post(
        LINKS,
        {
            "unit_a": {"network": "inception", "unit": "mixed3b:3"},
            "unit_b": {"network": "mobilenet", "unit": "features.3:5"},
            "note": "Both detect curves.",
            "correlation": 0.81,
            **extra,
        },
        format="json",
    )


def test_a_confirmed_link_shows_on_both_units(project, people):
    proposed = _propose(_client(people[Role.ANNOTATOR]))
    link = proposed.json()["id"]

    confirmed = _client(people[Role.REVIEWER]).post(
        f"{LINKS}{link}/review/",
        {"verdict": "confirm", "note": "Same curves."},
        format="json",
        HTTP_IF_MATCH=proposed["ETag"],
    )

    assert (proposed.status_code, confirmed.status_code) == (201, 200)
    assert confirmed.json()["status"] == "confirmed"
    client = _client(people[Role.ANNOTATOR])
    for path in ("inception/mixed3b:3", "mobilenet/features.3:5"):
        shown = client.get(f"/api/v1/projects/curves/units/{path}/links/").json()
        assert [
            (row["unit_a"]["unit"], row["unit_b"]["unit"], row["correlation"]) for row in shown
        ] == [("mixed3b:3", "features.3:5", 0.81)]
    assert list(
        Event.objects.filter(target_type="link").order_by("id").values_list("verb", flat=True)
    ) == ["link.proposed", "link.confirmed"]


def test_a_proposed_link_is_not_shown_on_its_units(project, people):
    _propose(_client(people[Role.ANNOTATOR]))

    shown = _client(people[Role.OWNER]).get(
        "/api/v1/projects/curves/units/inception/mixed3b:3/links/"
    )

    assert shown.json() == []


def test_nobody_reviews_a_link_they_proposed(project, people):
    proposed = _propose(_client(people[Role.REVIEWER]))

    refused = _client(people[Role.REVIEWER]).post(
        f"{LINKS}{proposed.json()['id']}/review/",
        {"verdict": "confirm"},
        format="json",
        HTTP_IF_MATCH=proposed["ETag"],
    )

    assert refused.status_code == 403
    assert UnitLink.objects.get().status == "proposed"
    assert not Event.objects.filter(verb="link.confirmed").exists()


def test_a_reviewed_link_cannot_be_reviewed_again(project, people):
    link = link_propose(
        project=project,
        actor=people[Role.ANNOTATOR],
        unit_a=_unit("inception", 1),
        unit_b=_unit("mobilenet", 1),
    )
    link_review(link=link, actor=people[Role.OWNER], verdict="reject", expected_version=1)

    with pytest.raises(InvalidTransition):
        link_review(link=link, actor=people[Role.REVIEWER], verdict="confirm", expected_version=2)

    assert UnitLink.objects.get().status == "rejected"


def test_a_stale_version_is_refused_with_412(project, people):
    proposed = _propose(_client(people[Role.ANNOTATOR]))

    stale = _client(people[Role.OWNER]).post(
        f"{LINKS}{proposed.json()['id']}/review/",
        {"verdict": "confirm"},
        format="json",
        HTTP_IF_MATCH='"7"',
    )

    assert (stale.status_code, stale.json()["code"]) == (412, "version_conflict")


def test_a_unit_of_a_network_outside_the_project_is_refused(project, people):
    LayerFactory(network=NetworkFactory(name="elsewhere"), name="conv", order=0)

    refused = _propose(
        _client(people[Role.ANNOTATOR]), unit_b={"network": "elsewhere", "unit": "conv:1"}
    )

    assert (refused.status_code, refused.json()["fields"]) == (
        422,
        {"unit_b": ["Unknown unit."]},
    )
    assert not UnitLink.objects.exists()


def test_a_unit_given_without_its_address_is_a_400(project, people):
    refused = _propose(_client(people[Role.ANNOTATOR]), unit_a={"network": "inception"})

    assert (refused.status_code, refused.json()["fields"]) == (
        400,
        {"unit_a.unit": ["This field is required."]},
    )
    assert not UnitLink.objects.exists()


def test_the_schema_gives_a_linked_unit_as_its_network_and_address():
    properties = component("LinkCreateInputRequest")["properties"]
    unit_a = component(properties["unit_a"]["$ref"].rsplit("/", 1)[1])

    assert properties["unit_b"] == properties["unit_a"]
    assert unit_a["required"] == ["network", "unit"]
    assert {name: field["type"] for name, field in unit_a["properties"].items()} == {
        "network": "string",
        "unit": "string",
    }


@pytest.mark.parametrize(
    "path",
    [
        "inception/mixed3b:99",
        "inception/mixed3b",
        "inception/mixed3b:\u00b2",
        "inception/mixed3b:" + "9" * 30,
        "elsewhere/conv:1",
    ],
)
def test_the_links_of_a_unit_the_project_does_not_study_are_404(project, people, path):
    LayerFactory(network=NetworkFactory(name="elsewhere"), name="conv", order=0)

    response = _client(people[Role.OWNER]).get(f"/api/v1/projects/curves/units/{path}/links/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_a_viewer_cannot_propose(project, people):
    viewer = MembershipFactory(project=project, role=Role.VIEWER).user

    with pytest.raises(PermissionDenied):
        link_propose(
            project=project,
            actor=viewer,
            unit_a=_unit("inception", 1),
            unit_b=_unit("mobilenet", 1),
        )


def test_a_link_joins_two_units_or_two_groups_not_one_of_each(project, people):
    with pytest.raises(ValidationFailed):
        link_propose(
            project=project,
            actor=people[Role.ANNOTATOR],
            unit_a=_unit("inception", 1),
            group_b=GroupFactory(project=project),
        )


def _confirmed(project, people, **sides):
    link = link_propose(project=project, actor=people[Role.ANNOTATOR], note="Same.", **sides)
    return link_review(
        link=link, actor=people[Role.OWNER], verdict="confirm", expected_version=1, note="Yes."
    )


def _export(project, network_name):
    network = network_units(network_name).first().network
    export = taxonomy_export(project=project, network=network, actor=None, format="json")
    return json.loads("".join(export.chunks))


def test_confirmed_links_are_exported_and_imported_into_a_project_with_both_networks(
    project, people
):
    curves = GroupFactory(project=project, name="Curves")
    arcs = GroupFactory(project=project, name="Arcs")
    _confirmed(project, people, unit_a=_unit("inception", 3), unit_b=_unit("mobilenet", 1))
    _confirmed(project, people, group_a=curves, group_b=arcs)
    link_propose(
        project=project,
        actor=people[Role.ANNOTATOR],
        unit_a=_unit("inception", 4),
        unit_b=_unit("mobilenet", 4),
    )
    exported = _export(project, "inception")
    copy = ProjectFactory(slug="copy")
    for name in ("inception", "mobilenet"):
        ProjectNetworkFactory(project=copy, network=network_units(name).first().network)
    # The same team: an import names only members of the project it goes into.
    for role, user in people.items():
        MembershipFactory(project=copy, user=user, role=role)

    report = taxonomy_import(
        project=copy,
        network=network_units("inception").first().network,
        actor=None,
        format="json",
        content=json.dumps(exported),
    )

    assert exported["links"] == [
        {
            "a": {"network": "inception", "unit": "mixed3b:3"},
            "b": {"network": "mobilenet", "unit": "features.3:1"},
            "note": "Same.",
            "correlation": None,
            "status": "confirmed",
            "proposed_by": "annotator",
            "reviewed_by": "owner",
            "review_note": "Yes.",
        },
        {
            "a": {"group": ["Curves"]},
            "b": {"group": ["Arcs"]},
            "note": "Same.",
            "correlation": None,
            "status": "confirmed",
            "proposed_by": "annotator",
            "reviewed_by": "owner",
            "review_note": "Yes.",
        },
    ]
    assert (report["links_created"], report["links_skipped"]) == (2, 0)
    assert _export(copy, "inception")["links"] == exported["links"]


def test_importing_the_same_links_twice_adds_them_once(project, people):
    _confirmed(project, people, unit_a=_unit("inception", 3), unit_b=_unit("mobilenet", 1))
    content = json.dumps(_export(project, "inception"))
    network = network_units("inception").first().network

    report = taxonomy_import(
        project=project, network=network, actor=None, format="json", content=content
    )

    assert (report["changed"], report["links_created"], report["links_skipped"]) == (False, 0, 1)
    assert UnitLink.objects.count() == 1


def test_a_link_to_a_network_the_project_does_not_study_is_skipped(project, people):
    _confirmed(project, people, unit_a=_unit("inception", 3), unit_b=_unit("mobilenet", 1))
    content = json.dumps(_export(project, "inception"))
    network = network_units("inception").first().network
    copy = ProjectFactory(slug="copy")
    ProjectNetworkFactory(project=copy, network=network)

    report = taxonomy_import(
        project=copy, network=network, actor=None, format="json", content=content
    )

    assert (report["links_created"], report["links_skipped"]) == (0, 1)
    assert not UnitLink.objects.filter(project=copy).exists()
