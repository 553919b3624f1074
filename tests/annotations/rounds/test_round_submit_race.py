"""The last submissions of a round racing on PostgreSQL, each participant in their own thread
and connection: every submission succeeds, the round closes exactly once, and its agreement
counts every participant's labels."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from annotations.models import Event, Group, LabellingRound, Role
from annotations.services.rounds import round_labels_save, round_open
from tests.factories.annotations import MembershipFactory, ProjectFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="racing writers need PostgreSQL; SQLite takes its write lock at BEGIN IMMEDIATE",
    ),
]

PARTICIPANTS = 8


def test_racing_last_submissions_close_the_round_once():
    project = ProjectFactory(slug="curves")
    layer = LayerFactory(network__name="inception", name="mixed3b", channels=5)
    ProjectNetworkFactory(project=project, network=layer.network)
    owner = MembershipFactory(project=project, role=Role.OWNER).user
    users = [
        MembershipFactory(project=project, role=Role.ANNOTATOR, user__username=f"a{n}").user
        for n in range(PARTICIPANTS)
    ]
    curves = Group.objects.create(project=project, name="Curves")
    labelling_round = round_open(
        project=project,
        network=layer.network,
        layer=layer,
        title="race",
        participants=[user.username for user in users],
        group_ids=[curves.pk],
        actor=owner,
    )
    for user in users:
        labels = [{"unit": f"mixed3b:{index}", "group": curves.pk} for index in range(5)]
        round_labels_save(labelling_round=labelling_round, labels=labels, actor=user)
    clients = []
    for user in users:
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(user)
        clients.append(client)
    assert clients[0].get("/api/v1/projects/curves/").status_code == 200
    barrier = threading.Barrier(PARTICIPANTS)
    statuses = [None] * PARTICIPANTS

    def submit(position):
        try:
            barrier.wait(timeout=60)
            url = f"/api/v1/projects/curves/rounds/{labelling_round.pk}/submit/"
            statuses[position] = clients[position].post(url).status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(PARTICIPANTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    labelling_round.refresh_from_db()
    assert statuses == [200] * PARTICIPANTS
    assert labelling_round.status == LabellingRound.Status.CLOSED
    assert Event.objects.filter(verb="round.closed").count() == 1
    assert labelling_round.agreement["units_complete"] == 5
    assert labelling_round.agreement["per_category"][0]["labels"] == 5 * PARTICIPANTS
