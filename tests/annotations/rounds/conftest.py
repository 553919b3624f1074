"""A project studying one network with a four-unit layer "mixed3b", two groups, and members:
an owner, a reviewer, annotators ada, bob and cy, and a viewer."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Group, Role
from annotations.services.rounds import round_labels_save, round_open
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

PROJECT = "/api/v1/projects/curves"


@pytest.fixture
def project():
    return ProjectFactory(slug="curves", name="Curves")


@pytest.fixture
def layer(project):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return layer


@pytest.fixture
def people(project):
    roles = {
        "owner": Role.OWNER,
        "rev": Role.REVIEWER,
        "ada": Role.ANNOTATOR,
        "bob": Role.ANNOTATOR,
        "cy": Role.ANNOTATOR,
        "vic": Role.VIEWER,
    }
    return {
        name: MembershipFactory(project=project, user__username=name, role=role).user
        for name, role in roles.items()
    }


@pytest.fixture
def curves(project):
    return Group.objects.create(project=project, name="Curves")


@pytest.fixture
def lines(project):
    return Group.objects.create(project=project, name="Lines")


@pytest.fixture
def labelling_round(project, layer, people, curves, lines):
    """An open round on mixed3b for ada and bob, choosing Curves, Lines or other."""
    return round_open(
        project=project,
        network=layer.network,
        layer=layer,
        title="mixed3b curves",
        participants=["ada", "bob"],
        group_ids=[curves.pk, lines.pk],
        actor=people["owner"],
    )


def label_all(labelling_round, user, groups, note=""):
    """``user`` labels units 0..3 of mixed3b with ``groups`` (group ids or None)."""
    round_labels_save(
        labelling_round=labelling_round,
        labels=[
            {"unit": f"mixed3b:{index}", "group": group, "note": note}
            for index, group in enumerate(groups)
        ],
        actor=user,
    )


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client
