"""Exports and releases: make two releases, read the diff between them, download the JSON."""

import json
from pathlib import Path

import pytest

from annotations.models import Role
from annotations.services.groups import unit_assign
from annotations.services.releases import release_create
from annotations.services.rounds import round_labels_save, round_open, round_submit
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


def test_a_release_lists_the_rounds_it_froze_with_their_agreement(browse):
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=4)
    curves = GroupFactory(project=project, name="Curves")
    lines = GroupFactory(project=project, name="Lines")
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="olah").user
    ada = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="ada").user
    bob = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="bob").user
    labelling_round = round_open(
        project=project,
        network=network,
        layer=layer,
        title="mixed3b curves",
        participants=["ada", "bob"],
        group_ids=[curves.pk, lines.pk],
        actor=owner,
    )
    # They agree on units 0, 1 and 3, not on 2.
    _label_and_submit(labelling_round, ada, [curves, lines, curves, curves])
    _label_and_submit(labelling_round, bob, [curves, lines, lines, curves])
    release_create(project=project, actor=owner, name="v1")
    page = browse(owner)

    page.goto("/p/early-vision/exports/")

    line = page.locator("[data-release=v1] .round-agreement")
    line.wait_for()
    assert line.inner_text() == (
        "Round “mixed3b curves” (inceptionv1 mixed3b, 4 units, ada, bob): 75% agreed, "
        "Cohen's κ 0.50, Krippendorff's α 0.53"
    )


def _label_and_submit(labelling_round, annotator, groups):
    round_labels_save(
        labelling_round=labelling_round,
        labels=[
            {"unit": f"mixed3b:{index}", "group": group.pk, "note": ""}
            for index, group in enumerate(groups)
        ],
        actor=annotator,
    )
    round_submit(labelling_round=labelling_round, actor=annotator)
