from urllib.parse import quote

import pytest

from annotations.models import Comment, Role
from tests.factories.annotations import (
    AssignmentFactory,
    CircuitFactory,
    CommentFactory,
    HypothesisFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/p/early-vision/",
    "/p/early-vision/grid/inceptionv1/mixed3b/",
    "/p/early-vision/units/inceptionv1/mixed3b:3/",
    "/p/early-vision/taxonomy/",
    "/p/early-vision/reviews/",
    "/p/early-vision/jobs/",
    "/p/early-vision/exports/",
    "/p/early-vision/hypotheses/1/",
    "/p/early-vision/rounds/",
    "/p/early-vision/rounds/1/",
]


@pytest.fixture
def project():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1")
    ProjectNetworkFactory(project=project, network=network)
    LayerFactory(network=network, name="mixed3b", channels=8)
    return project


@pytest.mark.parametrize("path", PAGES)
def test_a_member_gets_each_page_with_the_project_named(client, project, path):
    client.force_login(MembershipFactory(project=project, role=Role.VIEWER).user)

    response = client.get(path)

    assert response.status_code == 200
    assert b'data-project="early-vision"' in response.content
    assert b'role="alert"' in response.content


@pytest.mark.parametrize("path", PAGES)
def test_a_non_member_gets_404_for_each_page(client, project, path):
    client.force_login(UserFactory())

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, project, path):
    response = client.get(path)

    assert (response.status_code, response["Location"]) == (302, f"/login/?next={quote(path)}")


def test_the_project_page_shows_each_layers_labelled_share(client, project):
    layer = project.network_links.get().network.layers.get(name="mixed3b")
    for index in (0, 1):
        AssignmentFactory(group__project=project, unit=layer.units.get(index=index))
    client.force_login(MembershipFactory(project=project).user)

    content = client.get("/p/early-vision/").content.decode()

    assert 'data-labelled="2">2 (25%)' in content


def test_a_comment_link_leads_to_its_hypothesis_at_the_comment(client, project):
    hypothesis = HypothesisFactory(project=project)
    comment = CommentFactory(
        project=project, target_type=Comment.TargetType.HYPOTHESIS, target_id=hypothesis.pk
    )
    client.force_login(MembershipFactory(project=project).user)

    response = client.get(f"/p/early-vision/comments/{comment.pk}/")

    assert response["Location"] == (
        f"/p/early-vision/hypotheses/{hypothesis.pk}/#comment-{comment.pk}"
    )


def test_a_comment_link_leads_to_its_circuit_at_the_comment(client, project):
    circuit = CircuitFactory(project=project)
    comment = CommentFactory(
        project=project, target_type=Comment.TargetType.CIRCUIT, target_id=circuit.pk
    )
    client.force_login(MembershipFactory(project=project).user)

    response = client.get(f"/p/early-vision/comments/{comment.pk}/")

    assert response["Location"] == f"/p/early-vision/circuits/{circuit.pk}/#comment-{comment.pk}"


def test_a_comment_link_of_another_project_is_404(client, project):
    comment = CommentFactory()
    client.force_login(MembershipFactory(project=project).user)

    assert client.get(f"/p/early-vision/comments/{comment.pk}/").status_code == 404


def test_the_landing_page_links_my_projects_only(client, project):
    client.force_login(MembershipFactory(project=project).user)
    ProjectFactory(slug="elsewhere")

    content = client.get("/").content.decode()

    assert 'href="/p/early-vision/"' in content
    assert "/p/elsewhere/" not in content
