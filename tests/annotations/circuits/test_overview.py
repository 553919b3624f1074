"""The HTML overview gains a section per circuit: its diagram inline, its weights as a table;
and the confirmed universality links."""

import pytest

from annotations.models import CircuitEdge, CircuitNode, UnitLink
from tests.annotations.exports.conftest import export_text
from tests.factories.annotations import CircuitFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def project():
    project = ProjectFactory(slug="curves")
    network = ProjectNetworkFactory(project=project, network__name="one").network
    other = ProjectNetworkFactory(project=project, network__name="two").network
    LayerFactory(network=network, name="a", order=0)
    LayerFactory(network=network, name="b", order=1)
    LayerFactory(network=other, name="x", order=0)
    circuit = CircuitFactory(
        project=project, network=network, name="Curve <seed>", description="Two *units*."
    )
    source, target = (
        CircuitNode.objects.create(
            circuit=circuit, unit=network.units.get(layer__name=layer, index=1), role=role
        )
        for layer, role in (("a", "edge"), ("b", "curve"))
    )
    CircuitEdge.objects.create(
        circuit=circuit,
        source=source,
        target=target,
        magnitude=0.25,
        sign=-1,
        kind="direct",
        kernel=[[-0.25]],
    )
    UnitLink.objects.create(
        project=project,
        unit_a=network.units.get(layer__name="a", index=1),
        unit_b=other.units.get(index=2),
        correlation=0.81,
        status=UnitLink.Status.CONFIRMED,
    )
    return project, network


def test_each_circuit_has_a_section_with_its_inline_diagram_and_weights(project):
    project, network = project

    html = export_text(project, network, "html")

    section = html[html.index('<section class="circuit"') :]
    assert "<h3>Curve &lt;seed&gt;</h3>" in section
    assert "<p>Two <em>units</em>.</p>" in section
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in section
    assert "<?xml" not in html
    assert '<td>a:1</td><td>b:1</td><td class="number">−0.2500</td><td>direct</td>' in section


def test_confirmed_links_are_listed_with_their_correlation(project):
    project, network = project

    html = export_text(project, network, "html")

    assert "<li>one/a:1 ↔ two/x:2 (r = 0.81)</li>" in html


def test_a_network_without_circuits_or_links_has_no_such_sections(project):
    project, _ = project
    network = ProjectNetworkFactory(project=project, network__name="three").network
    LayerFactory(network=network, name="c", order=0)

    html = export_text(project, network, "html")

    assert 'class="circuits"' not in html
    assert 'class="links"' not in html
