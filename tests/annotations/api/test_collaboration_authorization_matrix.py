"""Who may do what on hypotheses, reviews, comments, the grid and search: every role and a
stranger against every endpoint and method. Refused writes change nothing."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Comment, Event, Role
from tests.factories.annotations import (
    CommentFactory,
    HypothesisFactory,
    HypothesisUnitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db

P = "/api/v1/projects/early-vision"
CALLERS = ["owner", "reviewer", "annotator", "viewer", "stranger", "anonymous"]

# (name, method, path, payload, sends If-Match, expected status by caller)
READ = {
    "owner": 200,
    "reviewer": 200,
    "annotator": 200,
    "viewer": 200,
    "stranger": 404,
    "anonymous": 401,
}
CASES = [
    ("list hypotheses", "get", "{P}/hypotheses/", None, False, READ),
    ("read hypothesis", "get", "{P}/hypotheses/{h}/", None, False, READ),
    (
        "propose",
        "post",
        "{P}/hypotheses/",
        {"network": "inception", "title": "Curves", "text": "", "units": ["mixed3b:3"]},
        False,
        {
            "owner": 201,
            "reviewer": 201,
            "annotator": 201,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    (
        "revise someone else's",
        "patch",
        "{P}/hypotheses/{h}/",
        {"title": "Mine now"},
        True,
        {
            "owner": 403,
            "reviewer": 403,
            "annotator": 403,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    (
        "withdraw someone else's",
        "post",
        "{P}/hypotheses/{h}/withdraw/",
        {},
        True,
        {
            "owner": 403,
            "reviewer": 403,
            "annotator": 403,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    (
        "approve",
        "post",
        "{P}/hypotheses/{h}/reviews/",
        {"verdict": "approve"},
        True,
        {
            "owner": 201,
            "reviewer": 201,
            "annotator": 403,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    ("review queue", "get", "{P}/review-queue/", None, False, READ),
    (
        "list comments",
        "get",
        "{P}/comments/?target_type=hypothesis&target_id={h}",
        None,
        False,
        READ,
    ),
    (
        "comment",
        "post",
        "{P}/comments/",
        {"target_type": "hypothesis", "target_id": "{h}", "body": "Agreed."},
        False,
        {
            "owner": 201,
            "reviewer": 201,
            "annotator": 201,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    (
        "edit someone else's comment",
        "patch",
        "{P}/comments/{c}/",
        {"body": "Edited"},
        True,
        {
            "owner": 403,
            "reviewer": 403,
            "annotator": 403,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    (
        "delete someone else's comment",
        "delete",
        "{P}/comments/{c}/",
        None,
        True,
        {
            "owner": 200,
            "reviewer": 403,
            "annotator": 403,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    (
        "resolve someone else's thread",
        "post",
        "{P}/comments/{c}/resolve/",
        {},
        False,
        {
            "owner": 200,
            "reviewer": 200,
            "annotator": 403,
            "viewer": 403,
            "stranger": 404,
            "anonymous": 401,
        },
    ),
    ("comment revisions", "get", "{P}/comments/{c}/revisions/", None, False, READ),
    ("layer grid", "get", "{P}/grid/inception/mixed3b/", None, False, READ),
    ("search", "get", "{P}/search/?q=curve", None, False, READ),
]


@pytest.fixture
def world():
    project = ProjectFactory(slug="early-vision")
    network = NetworkFactory(name="inception")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=8)
    author = UserFactory(username="author")
    MembershipFactory(project=project, user=author, role=Role.ANNOTATOR)
    hypothesis = HypothesisFactory(project=project, network=network, author=author)
    HypothesisUnitFactory(hypothesis=hypothesis, unit=layer.units.get(index=1))
    comment = CommentFactory(
        project=project,
        author=author,
        target_type=Comment.TargetType.HYPOTHESIS,
        target_id=hypothesis.pk,
    )
    callers = {"anonymous": APIClient(), "stranger": APIClient()}
    callers["stranger"].force_authenticate(UserFactory(username="stranger"))
    for role in (Role.OWNER, Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER):
        user = UserFactory(username=role.value)
        MembershipFactory(project=project, user=user, role=role)
        callers[role.value] = APIClient()
        callers[role.value].force_authenticate(user)
    return {
        "callers": callers,
        "h": hypothesis.pk,
        "c": comment.pk,
        "versions": {"h": hypothesis.version, "c": comment.version},
    }


def fill(value, world):
    if isinstance(value, str):
        return value.format(P=P, h=world["h"], c=world["c"])
    if isinstance(value, dict):
        return {key: fill(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, world) for item in value]
    return value


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("name", "method", "path", "payload", "if_match", "expected"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_the_matrix(world, caller, name, method, path, payload, if_match, expected):
    client = world["callers"][caller]
    headers = {}
    if if_match:
        target = "c" if "/comments/" in path else "h"
        headers["HTTP_IF_MATCH"] = f'"{world["versions"][target]}"'
    events_before = Event.objects.count()
    body = fill(payload, world)

    response = getattr(client, method)(fill(path, world), body, format="json", **headers)

    assert response.status_code == expected[caller], response.content
    if response.status_code >= 400 or method == "get":
        assert Event.objects.count() == events_before
