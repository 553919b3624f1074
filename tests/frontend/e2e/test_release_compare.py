"""The releases page compares a release with any earlier one, not only the one before."""

import pytest

from annotations.models import Role
from annotations.services.groups import unit_assign
from annotations.services.releases import release_create
from tests.factories.annotations import (
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_release_is_compared_with_the_first_one(browse):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=8)
    curves = GroupFactory(project=project, name="Curves")
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    release_create(project=project, actor=owner, name="v1")
    for name, index in (("v2", 1), ("v3", 2)):
        unit = layer.units.get(index=index)
        unit_assign(project=project, unit=unit, group=curves, note="", actor=owner)
        release_create(project=project, actor=owner, name=name)
    page = browse(owner)
    page.goto("/p/early-vision/exports/")
    page.wait_for_selector("#exports-page[data-ready=true]")

    chooser = page.get_by_label("Compare v3 with")
    assert chooser.locator("option").all_inner_texts() == ["v2", "v1"]
    assert page.locator("[data-release=v1] select").count() == 0
    chooser.select_option("v1")
    page.get_by_role("button", name="Changes in v3").click()
    page.locator("#diff-title", has_text="Changes from v1 to v3").wait_for()

    text = page.locator("#diff").inner_text()
    assert "Units regrouped (2)" in text
    assert "inceptionv1/mixed3b:1 no group → Curves" in text
    assert "inceptionv1/mixed3b:2 no group → Curves" in text
