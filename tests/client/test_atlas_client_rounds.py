"""The notebook client's labelling rounds against a live server: a round opened, labelled blind,
submitted, scored and decided."""

import pytest
from atlas_client import Atlas, AtlasError

from annotations.models import Group, Role
from tests.factories.annotations import (
    PASSWORD,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def team(live_server):
    project = ProjectFactory(slug="curves")
    layer = LayerFactory(network__name="inception", name="mixed3b", channels=3)
    ProjectNetworkFactory(project=project, network=layer.network)
    for name, role in [("rev", Role.REVIEWER), ("ada", Role.ANNOTATOR), ("bob", Role.ANNOTATOR)]:
        MembershipFactory(project=project, role=role, user__username=name)
    groups = [Group.objects.create(project=project, name=name) for name in ("Curves", "Lines")]
    clients = {name: Atlas.login(live_server.url, name, PASSWORD) for name in ("rev", "ada", "bob")}
    return clients, groups


def test_a_round_is_labelled_blind_then_scored_and_decided(team):
    clients, (curves, lines) = team
    opened = clients["rev"].open_round(
        "curves", "inception", "first pass", ["ada", "bob"], [curves.pk, lines.pk], layer="mixed3b"
    )
    clients["ada"].save_labels(
        "curves", opened["id"], {"mixed3b:0": curves.pk, "mixed3b:1": lines.pk, "mixed3b:2": None}
    )
    clients["ada"].submit_labels("curves", opened["id"])
    with pytest.raises(AtlasError) as hidden:
        clients["bob"].round_results("curves", opened["id"])
    bob_labels = {("mixed3b", 0): curves.pk, ("mixed3b", 1): lines.pk}
    bob_labels["mixed3b:2"] = (lines.pk, "faint")
    clients["bob"].save_labels("curves", opened["id"], bob_labels)
    closed = clients["bob"].submit_labels("curves", opened["id"])

    clients["rev"].decide("curves", opened["id"], "mixed3b:2", lines.pk)

    assert (hidden.value.status, hidden.value.code) == (403, "round_open")
    assert closed["status"] == "closed"
    assert closed["agreement"]["units_disagreed"] == 1
    assert clients["rev"].disagreements("curves", opened["id"]) == []
    assert clients["rev"].apply_agreed("curves", opened["id"]) == {"decided": 2, "assigned": 2}
