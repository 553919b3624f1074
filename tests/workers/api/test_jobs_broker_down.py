"""Requesting a job while the broker is down: the job is accepted and left for the sweep."""

import pytest
from kombu.exceptions import OperationalError as BrokerError

from annotations.models import Role
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import LayerFactory
from workers import tasks
from workers.models import Job

pytestmark = pytest.mark.django_db


class UnreachableBroker:
    def apply_async(self, args, countdown=None):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_a_job_requested_while_the_broker_is_down_is_created_and_not_yet_enqueued(
    api_client, monkeypatch, django_capture_on_commit_callbacks
):
    layer = LayerFactory(name="features.0", order=0, channels=4)
    project = ProjectNetworkFactory(network=layer.network).project
    user = UserFactory()
    MembershipFactory(project=project, user=user, role=Role.ANNOTATOR)
    api_client.force_authenticate(user)
    monkeypatch.setattr(tasks, "run_job", UnreachableBroker())

    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.post(
            "/api/v1/jobs/",
            {"network": layer.network.name, "kind": "first_layer_weights", "layer": "features.0"},
            format="json",
        )

    assert response.status_code == 201
    job = Job.objects.get()
    assert response.json()["id"] == job.pk
    assert (job.status, job.enqueued_at) == (Job.Status.QUEUED, None)
