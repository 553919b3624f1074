import pytest

from annotations.models import EmailPreference
from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/me/notifications/"


@pytest.fixture
def rev(api_client):
    user = UserFactory(username="rev", email="rev@example.org")
    api_client.force_authenticate(user)
    return user


def test_a_user_who_never_chose_reads_off(api_client, rev):
    response = api_client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "mode": "off",
        "kinds": ["mention", "review", "review_request"],
        "address": "rev@example.org",
    }


def test_a_user_chooses_the_daily_digest(api_client, rev):
    response = api_client.put(URL, {"mode": "daily"}, format="json")

    assert response.status_code == 200
    assert response.json()["mode"] == "daily"
    assert EmailPreference.objects.get(user=rev).mode == "daily"
    assert api_client.get(URL).json()["mode"] == "daily"


def test_choosing_again_replaces_the_choice(api_client, rev):
    api_client.put(URL, {"mode": "immediate"}, format="json")

    api_client.put(URL, {"mode": "off"}, format="json")

    assert list(EmailPreference.objects.values_list("user__username", "mode")) == [("rev", "off")]


def test_an_unknown_mode_is_refused(api_client, rev):
    response = api_client.put(URL, {"mode": "hourly"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["mode"]
    assert EmailPreference.objects.count() == 0


def test_a_user_without_an_address_cannot_choose_emails(api_client):
    api_client.force_authenticate(UserFactory(email=""))

    response = api_client.put(URL, {"mode": "immediate"}, format="json")

    assert (response.status_code, response.json()["code"]) == (422, "no_email")
    assert EmailPreference.objects.count() == 0


def test_an_anonymous_request_is_refused(api_client):
    assert api_client.get(URL).status_code == 401
