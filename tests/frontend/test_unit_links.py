"""Unit page URLs read like the papers: features.2:15, not features.2%3A15."""

from django.urls import reverse


def test_a_unit_page_url_keeps_the_colon_of_its_address():
    url = reverse("frontend:unit", args=["early-vision", "mobilenet-v2", "features.2:15"])

    assert url == "/p/early-vision/units/mobilenet-v2/features.2:15/"
