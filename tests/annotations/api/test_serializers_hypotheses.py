"""A listed hypothesis built from plain values (``hypothesis_list_data``) reads exactly as
``HypothesisOutputSerializer``, the list responses' schema, gives it from the model."""

import json

import pytest
from django.utils import timezone

from annotations.api.serializers_hypotheses import (
    HypothesisOutputSerializer,
    hypothesis_list_data,
)
from annotations.models import Review
from annotations.selectors.hypotheses import hypotheses_listed, hypothesis_detail
from tests.factories.annotations import (
    CircuitFactory,
    GroupFactory,
    HypothesisFactory,
    HypothesisUnitFactory,
    ProjectFactory,
    ReviewFactory,
    UserFactory,
)
from tests.factories.workers import JobFactory, LayerFactory
from workers.models import Artifact

pytestmark = pytest.mark.django_db


@pytest.fixture
def hypothesis():
    """Every field of a listed hypothesis set: units of two layers (the later one written
    first), a group, a proposed and a new group, evidence (an artifact, a missing artifact, a
    circuit), a circuit, an approval, an acceptance time."""
    project = ProjectFactory(required_approvals=2)
    circuit = CircuitFactory(project=project)
    network = circuit.network
    early = LayerFactory(network=network, name="mixed3a", order=1)
    late = LayerFactory(network=network, name="mixed3b", order=2)
    artifact = Artifact.objects.create(
        job=JobFactory(layer=early, kind="dataset_examples"),
        network=network,
        layer=early,
        unit=early.units.get(index=2),
        kind=Artifact.Kind.UNIT_IMAGE,
        variant="top",
        file="x.png",
        content_type="image/png",
        size_bytes=1,
        sha256="0" * 64,
    )
    parent = GroupFactory(project=project, name="curves")
    hypothesis = HypothesisFactory(
        project=project,
        network=network,
        group=parent,
        proposed_group=GroupFactory(project=project, name="left curves"),
        new_group={"name": "right curves", "parent": parent.pk, "description": "", "color": None},
        evidence=[artifact.pk, artifact.pk + 1000],
        evidence_circuits=[circuit.pk],
        circuit=circuit,
        accepted_at=timezone.now(),
    )
    HypothesisUnitFactory(hypothesis=hypothesis, unit=late.units.get(index=1))
    HypothesisUnitFactory(hypothesis=hypothesis, unit=early.units.get(index=3))
    ReviewFactory(
        hypothesis=hypothesis, reviewer=UserFactory(), verdict=Review.Verdict.APPROVE, version=1
    )
    return hypothesis


def _json(data):
    return json.loads(json.dumps(data))


def test_a_listed_hypothesis_reads_as_the_serializer_gives_it(hypothesis):
    from_model = hypothesis_detail(project=hypothesis.project, hypothesis_id=hypothesis.pk)

    listed = hypothesis_list_data(hypotheses_listed(ids=[hypothesis.pk]))

    assert _json(listed) == _json([HypothesisOutputSerializer(from_model).data])
    assert listed[0]["units"] == ["mixed3a:3", "mixed3b:1"]
    assert listed[0]["approvals"] == 1
    assert [item["kind"] for item in listed[0]["evidence_items"]] == [
        "dataset_examples",
        "missing",
        "circuit",
    ]


def test_listed_hypotheses_keep_the_order_of_their_ids():
    first, second = HypothesisFactory(), HypothesisFactory()

    listed = hypotheses_listed(ids=[second.pk, first.pk])

    assert [row["id"] for row in listed] == [second.pk, first.pk]
