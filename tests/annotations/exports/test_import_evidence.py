"""A hypothesis' evidence through export and import: artifacts this server has and circuits of the
file or the project come back; the rest is left out with a line in the report."""

import json

import pytest

from annotations.models import Hypothesis
from annotations.services.hypotheses import hypothesis_create
from annotations.services.imports import taxonomy_import
from tests.annotations.exports.conftest import export_document, unit
from tests.factories.annotations import CircuitFactory
from tests.factories.workers import JobFactory
from workers.models import Artifact

pytestmark = pytest.mark.django_db


@pytest.fixture
def cited(project, network, owner):
    """The exported document of a hypothesis citing a render of mixed3b:1 and a circuit."""
    layer = network.layers.get(name="mixed3b")
    picture = Artifact.objects.create(
        job=JobFactory(layer=layer, kind="feature_visualization"),
        network=network,
        layer=layer,
        unit=unit(network, "mixed3b", 1),
        kind=Artifact.Kind.UNIT_IMAGE,
        variant="positive",
        file="picture.png",
        content_type="image/png",
        sha256="0" * 64,
        code_version="test",
    )
    circuit = CircuitFactory(project=project, network=network, name="Curve circuit")
    hypothesis_create(
        project=project,
        network=network,
        title="Curve detectors",
        units=["mixed3b:1"],
        evidence=[picture.pk],
        evidence_circuits=[circuit.pk],
        actor=owner,
    )
    return export_document(project, network), picture


def _import(project, network, owner, document):
    return taxonomy_import(
        project=project, network=network, actor=owner, format="json", content=json.dumps(document)
    )


def test_an_import_reads_back_the_artifacts_and_circuits_it_finds(
    new_project, network, owner, cited
):
    document, picture = cited

    report = _import(new_project, network, owner, document)

    hypothesis = Hypothesis.objects.get(project=new_project)
    assert report["evidence_dropped"] == []
    assert hypothesis.evidence == [picture.pk]
    assert [new_project.circuits.get(pk=pk).name for pk in hypothesis.evidence_circuits] == [
        "Curve circuit"
    ]


def test_evidence_this_server_lacks_is_left_out_with_a_report_line(
    new_project, network, owner, cited
):
    document, picture = cited
    (written,) = document["hypotheses"]
    written["evidence"] = [picture.pk, picture.pk + 1000]
    written["evidence_circuits"] = ["Curve circuit", "Lost circuit"]

    report = _import(new_project, network, owner, document)

    hypothesis = Hypothesis.objects.get(project=new_project)
    assert report["evidence_dropped"] == [
        f"'Curve detectors': artifact {picture.pk + 1000}, circuit 'Lost circuit' not found "
        "here, left out."
    ]
    assert (hypothesis.evidence, len(hypothesis.evidence_circuits)) == ([picture.pk], 1)
