"""A small project with a taxonomy worth exporting: a network of three layers, a tree of groups
(one scoped to a layer), units in groups, a hypothesis with reviews."""

import json
from pathlib import Path

import jsonschema
import pytest

from annotations.models import Membership, Review, Role
from annotations.services.exports import taxonomy_export
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    HypothesisFactory,
    HypothesisUnitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    ReviewFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[3]
        / "annotations"
        / "schemas"
        / "taxonomy-export-v1.schema.json"
    ).read_text()
)


def export_text(project, network, format, actor=None, **options):
    export = taxonomy_export(
        project=project, network=network, actor=actor, format=format, **options
    )
    return "".join(export.chunks)


def export_document(project, network, actor=None, **options):
    document = json.loads(export_text(project, network, "json", actor, **options))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


def comparable(document):
    """The document without what an export may change: when it was made, which project it came
    from, ids (group references become paths) and timestamps."""
    paths = {group["id"]: group["path"] for group in document["groups"]}
    groups = [
        {key: value for key, value in group.items() if key not in ("id", "parent")}
        for group in document["groups"]
    ]
    units = [
        {**{k: v for k, v in unit.items() if k != "assigned_at"}, "group": paths[unit["group"]]}
        for unit in document["units"]
    ]
    hypotheses = [
        {
            **{
                k: v
                for k, v in hypothesis.items()
                if k not in ("id", "created_at", "accepted_at", "group", "proposed_group")
            },
            "group": paths.get(hypothesis["group"]),
            "proposed_group": paths.get(hypothesis["proposed_group"]),
            "reviews": [
                {k: v for k, v in review.items() if k != "created_at"}
                for review in hypothesis["reviews"]
            ],
        }
        for hypothesis in document["hypotheses"]
    ]
    rest = {
        key: value
        for key, value in document.items()
        if key not in ("exported_at", "project", "groups", "units", "hypotheses")
    }
    return {**rest, "groups": groups, "units": units, "hypotheses": hypotheses}


def comparable_csv(text):
    """The CSV export without its changed_at column (a timestamp)."""
    return [line.rsplit(",", 1)[0] for line in text.splitlines()]


@pytest.fixture
def network():
    network = NetworkFactory(name="inception", arch="inception_v1", random_seed=0)
    for order, (name, channels) in enumerate([("conv2d0", 8), ("conv2d1", 8), ("mixed3b", 12)]):
        LayerFactory(network=network, name=name, order=order, channels=channels)
    return network


@pytest.fixture
def owner():
    return MembershipFactory(role=Role.OWNER, user__username="ada").user


@pytest.fixture
def project(network, owner):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    ProjectNetworkFactory(project=project, network=network)
    MembershipFactory(project=project, user=owner, role=Role.OWNER)
    return project


@pytest.fixture
def new_project(network, owner):
    project = ProjectFactory(slug="copy", name="Copy")
    ProjectNetworkFactory(project=project, network=network)
    MembershipFactory(project=project, user=owner, role=Role.OWNER)
    return project


def join_team(*, source, target):
    """Make the members of ``source`` members of ``target`` too, with the same roles: an
    import names only members of the project it goes into."""
    for membership in source.memberships.all():
        Membership.objects.get_or_create(
            project=target, user=membership.user, defaults={"role": membership.role}
        )


def unit(network, layer, index):
    return network.units.get(layer__name=layer, index=index)


@pytest.fixture
def taxonomy(project, network, owner):
    """Curves > Curve detectors (mixed3b only), Color contrast, Other units; eleven units in
    groups; one accepted hypothesis with two reviews and one open one."""
    curves = GroupFactory(project=project, name="Curves", description="Curved lines.", order=1)
    detectors = GroupFactory(
        project=project,
        parent=curves,
        name="Curve detectors",
        color="#ff0000",
        layer=network.layers.get(name="mixed3b"),
    )
    contrast = GroupFactory(project=project, name="Color contrast", description="*Two* colors.")
    other = GroupFactory(project=project, name="Other units", order=9)
    for index in range(4):
        AssignmentFactory(
            project=project,
            group=detectors,
            unit=unit(network, "mixed3b", index),
            assigned_by=owner,
            note=f"curve {index}",
        )
    for layer, index in [("conv2d0", 1), ("conv2d0", 2), ("conv2d1", 5)]:
        AssignmentFactory(
            project=project, group=contrast, unit=unit(network, layer, index), assigned_by=owner
        )
    for layer, index in [("conv2d0", 7), ("mixed3b", 11), ("conv2d1", 0)]:
        AssignmentFactory(project=project, group=other, unit=unit(network, layer, index))
    AssignmentFactory(project=project, group=curves, unit=unit(network, "conv2d1", 3))
    accepted = HypothesisFactory(
        project=project,
        network=network,
        author=owner,
        title="Curve detectors",
        status="accepted",
        proposed_group=detectors,
        group=curves,
    )
    HypothesisUnitFactory(hypothesis=accepted, unit=unit(network, "mixed3b", 0))
    HypothesisUnitFactory(hypothesis=accepted, unit=unit(network, "mixed3b", 1))
    reviewer = MembershipFactory(project=project, role=Role.REVIEWER, user__username="grace").user
    ReviewFactory(hypothesis=accepted, reviewer=reviewer, verdict=Review.Verdict.REQUEST_CHANGES)
    ReviewFactory(hypothesis=accepted, reviewer=reviewer, comment="Yes, curves.")
    open_one = HypothesisFactory(
        project=project, network=network, author=reviewer, title="High-low frequency"
    )
    HypothesisUnitFactory(hypothesis=open_one, unit=unit(network, "conv2d1", 6))
    return {"curves": curves, "detectors": detectors, "contrast": contrast, "other": other}
