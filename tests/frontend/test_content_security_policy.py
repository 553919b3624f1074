"""The Content-Security-Policy: sent with every page, and the templates keep to it (no inline
script, style or event handler; the browser tests check what the scripts do at run time)."""

import re
from pathlib import Path

import pytest
from django.conf import settings

TEMPLATES = sorted((Path(settings.BASE_DIR) / "frontend" / "templates").rglob("*.html"))
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=", re.I)


@pytest.mark.parametrize("path", ["/login/", "/api/docs/", "/api/docs/?script", "/admin/login/"])
@pytest.mark.django_db
def test_pages_send_a_policy_that_allows_only_this_origin(client, path):
    response = client.get(path)

    assert response.status_code == 200
    policy = dict(
        directive.strip().split(" ", 1)
        for directive in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda template: template.name)
def test_a_template_has_no_inline_script_style_or_handler(template):
    assert INLINE.findall(template.read_text()) == []


@pytest.mark.django_db
def test_the_api_docs_load_swagger_ui_from_this_server(client):
    content = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in content
    assert "//cdn" not in content
