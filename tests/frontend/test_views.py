import pytest
from django.core.cache import cache

from tests.factories.annotations import MembershipFactory, ProjectNetworkFactory, UserFactory
from tests.factories.workers import LayerFactory

pytestmark = pytest.mark.django_db


def test_the_landing_page_invites_an_anonymous_visitor_to_sign_in(client):
    response = client.get("/")

    assert response.status_code == 200
    assert b"Sign in" in response.content


def test_the_landing_page_lists_my_networks_and_their_layers(client):
    user = UserFactory()
    layer = LayerFactory(name="features.0", channels=32, height=112, width=112)
    link = ProjectNetworkFactory(network=layer.network)
    MembershipFactory(project=link.project, user=user)
    LayerFactory(name="secret.layer")
    client.force_login(user)

    content = client.get("/").content.decode()

    assert f'data-network="{layer.network.name}"' in content
    assert "<code>features.0</code>" in content
    assert "112×112" in content
    assert "secret.layer" not in content


def test_signing_in_through_the_login_page_starts_a_session(client):
    UserFactory(username="ada")

    response = client.post(
        "/login/", {"username": "ada", "password": "correct horse battery staple"}
    )

    assert response.status_code == 302
    assert client.get("/").context["user"].username == "ada"


def test_the_login_page_is_throttled_per_address(client, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"credentials": "2/minute"},
    }
    cache.clear()
    UserFactory(username="ada")
    attempts = [
        client.post("/login/", {"username": "ada", "password": "wrong"}).status_code
        for _ in range(3)
    ]

    right_password = client.post(
        "/login/", {"username": "ada", "password": "correct horse battery staple"}
    )

    assert attempts == [200, 200, 429]
    assert right_password.status_code == 429
    assert b"Too many sign-in attempts" in right_password.content
    assert "_auth_user_id" not in client.session
