"""The unit card shows a unit's pictures, weights with links, statistics, group and thread."""

import re

import pytest

from annotations.models import Role
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import (
    rendered_layer,
    rendered_units,
    screenshot,
    weighed_unit,
    weights_matrix,
)

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
