"""Every page works under the Content-Security-Policy: loading each one in Chromium reports
no violation, neither as a ``securitypolicyviolation`` event nor on the console."""

import pytest

from annotations.models import Role
from tests.factories.annotations import (
    CircuitFactory,
    GroupFactory,
    HypothesisFactory,
    HypothesisUnitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory, NetworkFactory

pytestmark = pytest.mark.django_db(transaction=True)

WATCH_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
PROJECT_PAGES = [
    "/",
    "/p/early-vision/",
    "/p/early-vision/grid/inceptionv1/mixed3b/",
    "/p/early-vision/units/inceptionv1/mixed3b:3/",
    "/p/early-vision/taxonomy/",
    "/p/early-vision/reviews/",
    "/p/early-vision/jobs/",
    "/p/early-vision/exports/",
    "/p/early-vision/hypotheses/{hypothesis}/",
    "/p/early-vision/circuits/{circuit}/",
]


@pytest.fixture
def project():
    project = ProjectFactory(slug="early-vision", name="Early vision")
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    layer = LayerFactory(network=network, name="mixed3b", channels=8)
    GroupFactory(project=project, name="Curves", color="#4e79a7")
    hypothesis = HypothesisFactory(
        project=project, network=network, text="*Curves* of one orientation."
    )
    HypothesisUnitFactory(hypothesis=hypothesis, unit=layer.units.get(index=3))
    circuit = CircuitFactory(project=project, network=network, description="**Curves**.")
    owner = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    return owner, {"hypothesis": hypothesis.pk, "circuit": circuit.pk}


def violations_on(page, path, ready=None):
    """The violations reported while ``path`` loads and settles."""
    console = []
    page.on(
        "console",
        lambda message: console.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    page.add_init_script(WATCH_VIOLATIONS)
    response = page.goto(path, wait_until="networkidle")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    if ready:
        page.wait_for_selector(ready)
    return page.evaluate("window.cspViolations") + console


@pytest.mark.parametrize("path", PROJECT_PAGES)
def test_a_project_page_loads_without_a_csp_violation(browse, project, path):
    owner, ids = project

    assert violations_on(browse(owner), path.format(**ids)) == []


def test_the_sign_in_page_loads_without_a_csp_violation(browse):
    assert violations_on(browse(None), "/login/") == []


def test_the_api_docs_load_without_a_csp_violation(browse):
    page = browse(UserFactory())

    assert violations_on(page, "/api/docs/", ready=".swagger-ui .info .title") == []


def test_the_admin_sign_in_page_loads_without_a_csp_violation(browse):
    assert violations_on(browse(None), "/admin/login/") == []


@pytest.mark.parametrize("path", ["/admin/", "/admin/auth/user/", "/admin/auth/user/1/change/"])
def test_the_admin_pages_load_without_a_csp_violation(browse, path):
    admin = UserFactory(pk=1, is_staff=True, is_superuser=True)

    assert violations_on(browse(admin), path) == []
