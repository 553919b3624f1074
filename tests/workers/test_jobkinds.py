"""Job parameters that name a dataset: only datasets the requester may use, and a dataset they
may not use is answered like one that does not exist."""

import pytest

from annotations.models import ProjectDataset, Role
from server.errors import ValidationFailed
from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import LayerFactory
from workers.models import Dataset, Job
from workers.services import jobs as job_services
from workers.services.jobs import job_request

pytestmark = pytest.mark.django_db

NO_SUCH_DATASET = {"params.dataset": ["no dataset 'photos'; use 'demo' or register a folder"]}


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    monkeypatch.setattr(job_services, "_enqueue_after_commit", lambda job_id, countdown=None: None)


@pytest.fixture
def layer():
    return LayerFactory(name="conv1", order=1)


@pytest.fixture
def annotator(layer):
    """A member of a project that studies the layer's network."""
    user = UserFactory()
    link = ProjectNetworkFactory(network=layer.network)
    MembershipFactory(project=link.project, user=user, role=Role.ANNOTATOR)
    user.project = link.project
    return user


def photos(**fields):
    return Dataset.objects.create(name="photos", path="/srv/photos", image_count=6, **fields)


def request(layer, actor, kind="dataset_examples", **params):
    return job_request(
        network=layer.network,
        kind=kind,
        layer_name=layer.name,
        params={"dataset": "photos", **params},
        actor=actor,
    )


def test_a_dataset_of_another_project_is_refused_like_a_missing_one(layer, annotator):
    ProjectDataset.objects.create(project=ProjectNetworkFactory().project, dataset=photos())

    with pytest.raises(ValidationFailed) as hidden:
        request(layer, annotator)
    Dataset.objects.all().delete()
    with pytest.raises(ValidationFailed) as missing:
        request(layer, annotator)

    assert hidden.value.fields == missing.value.fields == NO_SUCH_DATASET
    assert hidden.value.detail == missing.value.detail
    assert Job.objects.count() == 0


def test_a_dataset_of_the_requesters_project_is_used(layer, annotator):
    ProjectDataset.objects.create(project=annotator.project, dataset=photos())

    job, created = request(layer, annotator)

    assert (created, job.params["dataset"]) == (True, "photos")


def test_a_public_dataset_is_used_by_any_project(layer, annotator):
    photos(public=True)

    job, created = request(layer, annotator)

    assert (created, job.params["dataset"]) == (True, "photos")


def test_a_universality_job_refuses_a_dataset_of_another_project(layer, annotator):
    ProjectDataset.objects.create(project=ProjectNetworkFactory().project, dataset=photos())

    with pytest.raises(ValidationFailed) as hidden:
        request(layer, annotator, kind="universality")

    assert hidden.value.fields == NO_SUCH_DATASET
    assert Job.objects.count() == 0


def test_the_demo_dataset_is_open_to_every_project(layer, annotator):
    job, created = request(layer, annotator, dataset="demo")

    assert (created, job.params["dataset"]) == (True, "demo")
