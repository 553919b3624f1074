"""GET /api/v1/datasets/: the registered datasets a user may use in jobs."""

import pytest

from annotations.models import ProjectDataset, Role
from tests.factories.annotations import MembershipFactory, ProjectFactory, UserFactory
from workers.models import Dataset

pytestmark = pytest.mark.django_db


def dataset(name, **fields):
    return Dataset.objects.create(name=name, path=f"/srv/{name}", image_count=6, **fields)


def test_a_member_sees_public_datasets_and_those_of_their_projects_only(api_client):
    member = MembershipFactory(role=Role.VIEWER, user=UserFactory())
    ProjectDataset.objects.create(project=member.project, dataset=dataset("photos"))
    ProjectDataset.objects.create(project=ProjectFactory(), dataset=dataset("private-scans"))
    dataset("shared", public=True, description="Everyone's")
    api_client.force_authenticate(member.user)

    body = api_client.get("/api/v1/datasets/").json()

    assert [(row["name"], row["image_count"], row["public"]) for row in body["results"]] == [
        ("photos", 6, False),
        ("shared", 6, True),
    ]


def test_anonymous_users_are_refused(api_client):
    dataset("shared", public=True)

    assert api_client.get("/api/v1/datasets/").status_code in (401, 403)
