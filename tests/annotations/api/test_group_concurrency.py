"""Two people rename one group at the same moment with the same ETag: one wins, the other is
told it lost (412), and no update is lost. Each client runs in its own thread with its own
database connection, released by a barrier so that both requests race."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from annotations.models import Event, Group, Role
from tests.factories.annotations import GroupFactory, MembershipFactory

pytestmark = pytest.mark.django_db(transaction=True)

REPETITIONS = 20


def _client_for(membership):
    client = APIClient()
    client.force_authenticate(membership.user)
    return client


def _rename_at_once(clients, url, names, version):
    barrier = threading.Barrier(len(clients))
    responses = [None] * len(clients)

    def rename(position):
        try:
            barrier.wait(timeout=30)
            responses[position] = clients[position].patch(
                url, {"name": names[position]}, HTTP_IF_MATCH=f'"{version}"'
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=rename, args=(position,)) for position in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_two_renames_with_the_same_etag_one_wins_and_the_other_gets_412_every_time():
    owner = MembershipFactory(role=Role.OWNER, project__slug="curves")
    reviewer = MembershipFactory(project=owner.project, role=Role.REVIEWER)
    group = GroupFactory(project=owner.project, name="Curves")
    clients = [_client_for(owner), _client_for(reviewer)]
    url = f"/api/v1/projects/curves/groups/{group.pk}/"

    for repetition in range(REPETITIONS):
        version = repetition + 1
        names = [f"Owner's {repetition}", f"Reviewer's {repetition}"]

        responses = _rename_at_once(clients, url, names, version)

        statuses = [response.status_code for response in responses]
        assert sorted(statuses) == [200, 412]
        winner, loser = (0, 1) if statuses[0] == 200 else (1, 0)
        assert responses[winner]["ETag"] == f'"{version + 1}"'
        assert responses[loser].json()["fields"] == {"current_version": [str(version + 1)]}
        assert Group.objects.values_list("name", "version").get() == (names[winner], version + 1)

    assert Event.objects.filter(verb="group.renamed", target_id=group.pk).count() == REPETITIONS
