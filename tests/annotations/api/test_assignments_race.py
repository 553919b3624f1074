"""Bulk assignments racing on the same unassigned units through the API, each client in its
own thread with its own database connection on PostgreSQL: every request succeeds in some
order (none is a 5xx), each unit ends with one assignment, and each unit's events chain from
no group to the group it ends in."""

import threading
from collections import Counter

import pytest
from django.db import connection
from rest_framework.test import APIClient

from annotations.models import Assignment, Event, Role
from tests.factories.annotations import GroupFactory, MembershipFactory, ProjectNetworkFactory
from tests.factories.workers import LayerFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="racing writers need PostgreSQL; SQLite takes its write lock at BEGIN IMMEDIATE",
    ),
]

BULK = "/api/v1/projects/curves/assignments/"
# Threads, each with its own connection: PostgreSQL's default max_connections is 100.
CLIENTS = 20
ROUNDS = 5
UNITS_PER_ROUND = 60
UNITS_PER_REQUEST = 30


def _window(round_, position):
    """Overlapping windows of the round's own units, all unassigned when the round starts."""
    start = round_ * UNITS_PER_ROUND + (position * 7) % (UNITS_PER_ROUND - UNITS_PER_REQUEST)
    return [f"mixed3b:{index}" for index in range(start, start + UNITS_PER_REQUEST)]


def _race(clients, groups, round_):
    """Every client posts its window at once; their responses."""
    barrier = threading.Barrier(len(clients))
    responses = [None] * len(clients)

    def post(position):
        try:
            barrier.wait(timeout=60)
            responses[position] = clients[position].post(
                BULK,
                {
                    "network": "inception",
                    "units": _window(round_, position),
                    "group": groups[position % len(groups)].pk,
                },
                format="json",
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(position,)) for position in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return responses


def test_racing_bulk_assignments_of_the_same_unassigned_units_all_succeed_consistently():
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves")
    project = owner.project
    network = ProjectNetworkFactory(project=project, network__name="inception").network
    LayerFactory(network=network, name="mixed3b", channels=ROUNDS * UNITS_PER_ROUND)
    groups = [GroupFactory(project=project, name=name) for name in ("Curves", "Edges", "Fur")]
    clients = []
    for _ in range(CLIENTS):
        # A server error is a 500 response to count, not an exception in the thread.
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(MembershipFactory(project=project, role=Role.ANNOTATOR).user)
        clients.append(client)
    # The first request loads the URLconf and the API settings: here, not in twenty threads.
    assert clients[0].get("/api/v1/projects/curves/").status_code == 200

    responses = [
        response for round_ in range(ROUNDS) for response in _race(clients, groups, round_)
    ]

    statuses = Counter(response.status_code for response in responses)
    print(f"statuses of {len(responses)} racing bulk assignments: {dict(statuses)}")
    assert statuses == {200: CLIENTS * ROUNDS}
    final = dict(Assignment.objects.filter(project=project).values_list("unit_id", "group_id"))
    named = {
        address
        for round_ in range(ROUNDS)
        for position in range(CLIENTS)
        for address in _window(round_, position)
    }
    assert len(final) == len(named)
    events = list(
        Event.objects.filter(project=project, target_type="unit")
        .order_by("pk")
        .values_list("target_id", "before", "after")
    )
    assert len(events) == sum(response.json()["changed"] for response in responses)
    chains = {}
    for unit_id, before, after in events:
        chains.setdefault(unit_id, []).append((before["group"], after["group"]))
    assert {
        unit_id: [before for before, _ in chain] == [None, *[after for _, after in chain[:-1]]]
        for unit_id, chain in chains.items()
    } == dict.fromkeys(final, True)
    assert {unit_id: chain[-1][1] for unit_id, chain in chains.items()} == final
