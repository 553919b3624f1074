"""Exports and releases: make two releases, read the diff between them, download the JSON."""

import json
from pathlib import Path

import pytest

from annotations.models import Role
from annotations.services.groups import unit_assign
from tests.factories.annotations import (
    AssignmentFactory,
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_release_twice_compare_and_download_the_json_export(browse):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=8)
    curves = GroupFactory(project=project, name="Curves")
    AssignmentFactory(project=project, group=curves, unit=layer.units.get(index=1))
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    page = browse(owner)
    page.goto("/p/early-vision/exports/")
    page.wait_for_selector("#exports-page[data-ready=true]")

    page.get_by_label("Name").fill("v1")
    page.get_by_role("button", name="Make release").click()
    page.locator("#release-rows [data-release=v1]").wait_for()
    unit_assign(project=project, unit=layer.units.get(index=2), group=curves, note="", actor=owner)
    page.get_by_label("Name").fill("v2")
    page.get_by_label("Notes").fill("Unit 2 is a curve detector too.")
    page.get_by_role("button", name="Make release").click()
    page.get_by_role("button", name="Changes in v2").click()
    page.locator("#diff-title", has_text="Changes from v1 to v2").wait_for()
    assert "inceptionv1/mixed3b:2 no group → Curves" in page.locator("#diff").inner_text()
    screenshot(page, "exports")

    with page.expect_download() as download:
        page.locator("[data-network=inceptionv1] a", has_text="JSON").click()
    document = json.loads(Path(download.value.path()).read_text())

    assert "Curves" in json.dumps(document)
    assert download.value.suggested_filename.endswith(".json")
