"""The unit card shows a unit's pictures, weights with links, statistics, group and thread."""

import json
import re

import pytest

from annotations.models import Role, UnitLink
from annotations.services.links import link_review
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import (
    rendered_layer,
    rendered_units,
    screenshot,
    weighed_unit,
    weights_matrix,
)
from workers.models import Artifact, Job
from workers.services.artifacts import ArtifactBatch

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_unit_card_links_weights_sets_the_group_and_takes_comments(browse):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    LayerFactory(network=network, name="mixed3a", channels=16, order=4)
    mixed3b = LayerFactory(network=network, name="mixed3b", channels=16, order=5)
    rendered_layer(mixed3b)
    rendered_units(mixed3b, [7])
    weighed_unit(mixed3b, 7, [("mixed3a:12", 1.8), ("mixed3a:3", 1.1), ("mixed3a:9", 0.4)])
    mixed4a = LayerFactory(network=network, name="mixed4a", channels=4, order=6)
    norms = [
        [0.1 * (row + 1) + (2.0 if (row, column) == (2, 7) else 0) for column in range(16)]
        for row in range(4)
    ]
    weights_matrix(mixed4a, norms, source_layer="mixed3b")
    curves = GroupFactory(project=project, name="Curves", color="#4e79a7")
    GroupFactory(project=project, name="Circles", color="#f28e2b")
    AssignmentFactory(project=project, group=curves, unit=mixed3b.units.get(index=7))
    ada = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(ada)

    page.goto("/p/early-vision/units/inceptionv1/mixed3b:7/")
    page.wait_for_selector("#unit-page[data-ready=true]")

    assert page.locator("#unit-group").inner_text() == "Curves"
    assert page.locator("#featurevis img").count() == 2
    assert "4.250" in page.locator("#stats").inner_text()
    outgoing = page.locator("#outgoing tbody tr").all_inner_texts()
    assert [row.split("\t")[:2] for row in outgoing] == [
        ["mixed4a:2", "2.300"],
        ["mixed4a:3", "0.400"],
        ["mixed4a:1", "0.200"],
        ["mixed4a:0", "0.100"],
    ]
    page.get_by_label("New comment").fill("Fires on **curves** facing left.")
    page.get_by_role("button", name="Post comment").click()
    page.locator("#thread .comment strong", has_text="curves").wait_for()
    screenshot(page, "unit-card")
    page.get_by_label("Group").select_option(label="Circles")
    page.get_by_role("button", name="Set group").click()
    page.locator("#unit-group", has_text="Circles").wait_for()
    page.locator("#weights a", has_text="mixed3a:12").click()
    page.wait_for_url(re.compile(r"/units/inceptionv1/mixed3a(:|%3A)12/$"))
    page.wait_for_selector("#unit-page[data-ready=true]")
    assert page.locator("#unit-address").inner_text() == "mixed3a:12"


def _universality_job(layer, other_layer, matches):
    """A succeeded universality job whose summary of ``layer``'s unit 7 lists ``matches``
    (``[(index in other_layer, r)]``), as the worker stores it."""
    job = JobFactory(
        layer=layer,
        kind=Job.Kind.UNIVERSALITY,
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        params={"dataset": "demo", "other_network": other_layer.network.name, "k": 5},
    )
    found = [
        {
            "network": other_layer.network.name,
            "layer": other_layer.name,
            "unit": index,
            "address": f"{other_layer.name}:{index}",
            "r": r,
        }
        for index, r in matches
    ]
    batch = ArtifactBatch(job)
    batch.add(
        unit=layer.units.get(index=7),
        layer=layer,
        kind=Artifact.Kind.UNIT_JSON,
        filename="unit_00007.json",
        content=json.dumps({"matches": found}).encode(),
        content_type="application/json",
        meta={
            "constant": False,
            "compared_with": {"network": other_layer.network.name, "layer": other_layer.name},
            "matches": found,
        },
    )
    batch.commit()


def test_the_unit_card_shows_resemblances_and_a_proposed_link_once_confirmed(browse):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    inception = NetworkFactory(name="inceptionv1", arch="inception_v1")
    mobilenet = NetworkFactory(name="mobilenet", arch="mobilenet_v2")
    for network in (inception, mobilenet):
        ProjectNetworkFactory(project=project, network=network)
    mixed3b = LayerFactory(network=inception, name="mixed3b", channels=16, order=5)
    features3 = LayerFactory(network=mobilenet, name="features.3", channels=24, order=3)
    _universality_job(mixed3b, features3, [(17, 0.81), (4, 0.42)])
    ada = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user
    grace = MembershipFactory(project=project, role=Role.REVIEWER, user__username="grace").user
    page = browse(ada)

    page.goto("/p/early-vision/units/inceptionv1/mixed3b:7/")
    page.wait_for_selector("#unit-page[data-ready=true]")

    suggestions = page.locator("#resembles-list li").all_inner_texts()
    assert [text.split(" r = ")[0] for text in suggestions] == [
        "mobilenet features.3:17",
        "mobilenet features.3:4",
    ]
    assert "r = 0.81" in suggestions[0]
    assert page.locator("#links-list").inner_text() == "No confirmed links."
    page.locator("#resembles-list li").first.get_by_role("button", name="Propose link").click()
    page.locator("#resembles-list", has_text="awaiting review").wait_for()
    link = UnitLink.objects.get()
    assert (link.correlation, link.status) == (0.81, UnitLink.Status.PROPOSED)

    link_review(link=link, actor=grace, verdict="confirm", expected_version=link.version)
    page.reload()
    page.wait_for_selector("#unit-page[data-ready=true]")

    confirmed = page.locator("#links-list li").all_inner_texts()
    assert len(confirmed) == 1
    assert confirmed[0].startswith("mobilenet features.3:17 r = 0.81")
    assert "confirmed by grace" in confirmed[0]
