import pytest

from tests.factories.annotations import UserFactory


@pytest.fixture
def signed_in(api_client):
    api_client.force_authenticate(UserFactory())
    return api_client


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", ["null", "0", "-3", "1001", "2.5"])
def test_an_invalid_page_size_is_a_400_naming_it(signed_in, page_size):
    response = signed_in.get(f"/api/v1/projects/?page_size={page_size}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["fields"]) == ["page_size"]


@pytest.mark.django_db
def test_a_repeated_page_size_is_a_400(signed_in):
    response = signed_in.get("/api/v1/projects/?page_size=1&page_size=null")

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_page_past_the_end_is_a_404(signed_in):
    response = signed_in.get("/api/v1/projects/?page=2")

    assert response.status_code == 404


@pytest.mark.django_db
def test_a_valid_page_size_is_used(signed_in):
    response = signed_in.get("/api/v1/projects/?page_size=1&page=1")

    assert response.status_code == 200
    assert response.json()["results"] == []
