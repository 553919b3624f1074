"""Three researchers of different roles map units together, entirely through the HTTP API."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Assignment, Event, Role
from annotations.services.tokens import token_create
from tests.factories.annotations import (
    GroupFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db

PROJECT = "/api/v1/projects/early-vision"


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(actor=user, name='tests').secret}")
    return client


@pytest.fixture
def team():
    project = ProjectFactory(slug="early-vision")
    network = NetworkFactory(name="inception")
    ProjectNetworkFactory(project=project, network=network)
    LayerFactory(network=network, name="mixed3b", channels=8)
    people = {}
    for username, role in (
        ("ada", Role.ANNOTATOR),
        ("grace", Role.REVIEWER),
        ("vera", Role.VIEWER),
    ):
        user = UserFactory(username=username)
        MembershipFactory(project=project, user=user, role=role)
        people[username] = client_for(user)
    people["project"] = project
    return people


def test_propose_review_revise_approve_and_accept(team):
    ada, grace, vera, project = team["ada"], team["grace"], team["vera"], team["project"]
    curves = GroupFactory(project=project, name="Curves")

    proposed = ada.post(
        f"{PROJECT}/hypotheses/",
        {
            "network": "inception",
            "title": "Curve detectors in mixed3b",
            "text": "Units 1 and 2 respond to curves. @grace can you check unit 2?",
            "units": ["mixed3b:1", "mixed3b:2"],
            "proposed_group": curves.pk,
        },
        format="json",
    )
    assert proposed.status_code == 201
    hypothesis = proposed.json()
    detail = f"{PROJECT}/hypotheses/{hypothesis['id']}/"

    mention = ada.post(
        f"{PROJECT}/comments/",
        {
            "target_type": "hypothesis",
            "target_id": str(hypothesis["id"]),
            "body": "@grace unit 2 also fires on circles.",
        },
        format="json",
    )
    assert mention.status_code == 201
    # Newest first: the mention, then the request to review ada's new hypothesis.
    assert [n["kind"] for n in grace.get("/api/v1/notifications/").json()["results"]] == [
        "mention",
        "review_request",
    ]

    assert [h["id"] for h in grace.get(f"{PROJECT}/review-queue/").json()["results"]] == [
        hypothesis["id"]
    ]
    etag = grace.get(detail)["ETag"]
    changes = grace.post(
        f"{detail}reviews/",
        {"verdict": "request_changes", "comment": "Drop unit 1."},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert changes.status_code == 201
    assert changes.json()["status"] == "open"
    assert "review" in [n["kind"] for n in ada.get("/api/v1/notifications/").json()["results"]]

    revised = ada.patch(
        detail, {"units": ["mixed3b:2"]}, format="json", HTTP_IF_MATCH=ada.get(detail)["ETag"]
    )
    assert revised.status_code == 200

    self_review = ada.post(
        f"{detail}reviews/",
        {"verdict": "approve"},
        format="json",
        HTTP_IF_MATCH=ada.get(detail)["ETag"],
    )
    viewer_review = vera.post(
        f"{detail}reviews/",
        {"verdict": "approve"},
        format="json",
        HTTP_IF_MATCH=vera.get(detail)["ETag"],
    )
    viewer_comment = vera.post(
        f"{PROJECT}/comments/",
        {
            "target_type": "hypothesis",
            "target_id": str(hypothesis["id"]),
            "body": "+1",
        },
        format="json",
    )
    assert (self_review.status_code, viewer_review.status_code, viewer_comment.status_code) == (
        403,
        403,
        403,
    )
    assert Assignment.objects.count() == 0

    approved = grace.post(
        f"{detail}reviews/",
        {"verdict": "approve"},
        format="json",
        HTTP_IF_MATCH=grace.get(detail)["ETag"],
    )

    assert approved.status_code == 201
    assert approved.json()["status"] == "accepted"
    assert list(Assignment.objects.values_list("unit__index", "group__name", "source")) == [
        (2, "Curves", "hypothesis")
    ]
    kinds = [n["kind"] for n in ada.get("/api/v1/notifications/").json()["results"]]
    assert "hypothesis_accepted" in kinds
    verbs = set(Event.objects.filter(project=project).values_list("verb", flat=True))
    assert {
        "hypothesis.created",
        "hypothesis.reviewed",
        "hypothesis.revised",
        "hypothesis.accepted",
        "unit.assigned",
        "comment.posted",
    } <= verbs
    grid = vera.get(f"{PROJECT}/grid/inception/mixed3b/").json()["results"]
    assert [(row["index"], row["group"]["name"] if row["group"] else None) for row in grid][
        1:3
    ] == [(1, None), (2, "Curves")]
