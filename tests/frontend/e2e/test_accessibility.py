"""Every page passes axe-core's audit (no serious or critical violation) in light and dark mode,
at a desktop width and at a phone's, on a seeded project with real content; each page is
photographed under var/screenshots/a11y/<page>-<width>-<scheme>.png for people to look at.

axe-core is the copy vendored beside this module (tests/frontend/e2e/vendor/axe-core, version
in its VERSION file), evaluated in the page by Playwright: nothing is fetched from elsewhere,
and the pages' Content-Security-Policy stays as it is.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from django.core.cache import cache

from annotations.models import CircuitEdge, CircuitNode, Comment, Group, Review, Role
from annotations.services.assignments import assignments_apply
from annotations.services.comments import comment_post
from annotations.services.hypotheses import hypothesis_create
from annotations.services.releases import release_create
from annotations.services.reviews import review_submit
from annotations.services.rounds import round_labels_save, round_open, round_submit
from frontend import urls as frontend_urls
from tests.factories.annotations import (
    PASSWORD,
    CircuitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import JobFactory, LayerFactory, NetworkFactory
from tests.frontend.e2e.artifacts import SCREENSHOTS, rendered_layer, rendered_units
from workers.models import Job

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = {"desktop": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}
SCHEMES = ["light", "dark"]
# Each page, where it is, and what shows that its scripts have drawn it (None: the network
# settling is enough).
PAGES = {
    "landing": ("/", None),
    "login": ("/login/", None),
    "project": ("/p/early-vision/", None),
    "grid": ("/p/early-vision/grid/inceptionv1/mixed3b/", "#grid-page[data-ready=true]"),
    "unit": ("/p/early-vision/units/inceptionv1/mixed3b:7/", "#unit-page[data-ready=true]"),
    "taxonomy": ("/p/early-vision/taxonomy/", "#taxonomy-page[data-ready=true]"),
    "hypothesis": (
        "/p/early-vision/hypotheses/{hypothesis}/",
        "#hypothesis-page[data-ready=true]",
    ),
    "reviews": ("/p/early-vision/reviews/", None),
    "jobs": ("/p/early-vision/jobs/", "#job-rows tr"),
    "exports": ("/p/early-vision/exports/", "#exports-page[data-ready=true]"),
    "settings": ("/p/early-vision/settings/", "#settings-page[data-ready=true]"),
    "compare": (
        "/p/early-vision/compare/inceptionv1/?units=mixed3b:3,mixed3b:7,mixed3b:12",
        "#compare-page[data-ready=true]",
    ),
    "circuit": ("/p/early-vision/circuits/{circuit}/", "#circuit-page[data-ready=true]"),
    "rounds": ("/p/early-vision/rounds/", "#round-list li"),
    "round": ("/p/early-vision/rounds/{round}/", "#round-page[data-ready=true]"),
    "api-docs": ("/api/docs/", ".swagger-ui .info .title"),
}
# Page URLs that are no page of their own: signing out, and a comment's link (a redirect to
# the page that shows the comment).
NOT_PAGES = {"logout", "comment"}
SERIOUS = ("serious", "critical")
# Rules of lesser impact that this project holds to all the same.
ALSO = ("empty-table-header",)
SHOTS = SCREENSHOTS / "a11y"


@pytest.fixture
def seeded():
    """A project with everything its pages show: rendered layers, groups with units, an open
    hypothesis with a review and comments, a circuit with connections, jobs and a release."""
    cache.clear()  # the sign-in throttle's budget, which these tests' sign-ins spend
    project = ProjectFactory(
        slug="early-vision", name="Early vision", description="InceptionV1's early layers."
    )
    network = NetworkFactory(name="inceptionv1", arch="inception_v1")
    ProjectNetworkFactory(project=project, network=network)
    ada = MembershipFactory(project=project, role=Role.OWNER, user__username="ada").user
    grace = MembershipFactory(project=project, role=Role.REVIEWER, user__username="grace").user
    alan = MembershipFactory(project=project, role=Role.ANNOTATOR, user__username="alan").user
    mixed3a = LayerFactory(network=network, name="mixed3a", channels=16, order=4)
    mixed3b = LayerFactory(network=network, name="mixed3b", channels=32, order=5)
    rendered_layer(mixed3a)
    rendered_layer(mixed3b)
    rendered_units(mixed3b, [3, 7, 12])
    JobFactory(layer=mixed3b, kind=Job.Kind.FEATURE_VISUALIZATION, status=Job.Status.RUNNING,
               progress=0.4, params={"objective": "channel", "steps": 512})  # fmt: skip
    JobFactory(layer=mixed3a, kind=Job.Kind.WEIGHTS, status=Job.Status.FAILED,
               error="The worker ran out of memory.", params={"k": 8})  # fmt: skip
    JobFactory(layer=mixed3a, kind=Job.Kind.FEATURE_VISUALIZATION, status=Job.Status.QUEUED)

    curves = Group.objects.create(
        project=project, name="Curves", color="#4e79a7", description="Curved edges."
    )
    Group.objects.create(project=project, name="Curves facing left", color="#f28e2b", parent=curves)
    lines = Group.objects.create(project=project, name="Lines", color="#59a14f")
    units = {unit.index: unit for unit in mixed3b.units.all()}
    assignments_apply(
        project=project,
        changes=[(units[i], curves) for i in (1, 2, 5, 9)] + [(units[i], lines) for i in (4, 8)],
        actor=ada,
        note="Clear curve detectors.",
    )
    hypothesis = hypothesis_create(
        project=project,
        network=network,
        title="Curve detectors",
        text="Units 3 and 7 respond to **curves** of one orientation.",
        units=["mixed3b:3", "mixed3b:7"],
        proposed_group_id=curves.pk,
        actor=alan,
    )
    review_submit(
        hypothesis=hypothesis,
        expected_version=hypothesis.version,
        verdict=Review.Verdict.REQUEST_CHANGES,
        comment="Show the negative visualization of unit 7.",
        actor=grace,
    )
    comment_post(project=project, target_type=Comment.TargetType.UNIT, target_id=units[7].pk,
                 body="@ada fires on curves facing *left*.", actor=grace)  # fmt: skip
    comment_post(project=project, target_type=Comment.TargetType.HYPOTHESIS,
                 target_id=hypothesis.pk, body="@grace added the negative image.",
                 actor=alan)  # fmt: skip
    circuit = _circuit(project, network, [mixed3a, mixed3b])
    release_create(project=project, actor=ada, name="v1", notes="First taxonomy.")
    labelling_round = _round(project, mixed3a, [curves, lines], grace, alan)
    return ada, {"hypothesis": hypothesis.pk, "circuit": circuit.pk, "round": labelling_round.pk}


def _round(project, layer, groups, first, second):
    """A closed labelling round on ``layer``: the two disagree on every third unit."""
    labelling_round = round_open(
        project=project,
        network=layer.network,
        layer=layer,
        title="mixed3a first pass",
        participants=[first.username, second.username],
        group_ids=[group.pk for group in groups],
        actor=project.memberships.get(role=Role.OWNER).user,
    )
    for participant, shift in ((first, 0), (second, 1)):
        flips = [shift * (index % 3 == 0) for index in range(layer.channels)]
        choices = [groups[(index + flip) % 2] for index, flip in enumerate(flips)]
        labels = [
            {"unit": f"{layer.name}:{index}", "group": group.pk}
            for index, group in enumerate(choices)
        ]
        round_labels_save(labelling_round=labelling_round, labels=labels, actor=participant)
        round_submit(labelling_round=labelling_round, actor=participant)
    return labelling_round


def _circuit(project, network, layers):
    circuit = CircuitFactory(
        project=project,
        network=network,
        name="Curve detectors",
        description="Curve detectors in **mixed3b** are built from early curves.",
    )
    nodes = [
        CircuitNode.objects.create(circuit=circuit, unit=layer.units.get(index=index), role=role)
        for layer, index, role in [
            (layers[0], 3, "early curve"),
            (layers[0], 11, "line"),
            (layers[1], 7, "curve facing left"),
            (layers[1], 12, ""),
        ]
    ]
    rng = np.random.default_rng(3)
    for source, target in [(0, 2), (1, 2), (0, 3)]:
        kernel = rng.normal(size=(3, 3))
        CircuitEdge.objects.create(
            circuit=circuit,
            source=nodes[source],
            target=nodes[target],
            magnitude=float(np.linalg.norm(kernel)),
            sign=int(np.sign(kernel.sum())),
            kind="direct",
            kernel=kernel.round(4).tolist(),
        )
    return circuit


def audit(page):
    """axe-core's serious and critical violations on the page, as readable lines."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(
            f"{' '.join(node['target'])} {node['html'][:160]}" for node in violation["nodes"][:5]
        )
        for violation in results["violations"]
        if violation["impact"] in SERIOUS or violation["id"] in ALSO
    ]


def test_every_page_is_audited():
    """A page added to frontend/urls.py is added to PAGES here too."""
    pages = {pattern.name for pattern in frontend_urls.urlpatterns} - NOT_PAGES

    assert pages - set(PAGES) == set()


def test_a_failed_sign_in_is_announced_and_keeps_the_username(browse, seeded):
    page = browse(None)
    page.goto("/login/")

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Sign in").click()

    assert "didn't match" in page.get_by_role("alert").filter(has_text="Sign in").inner_text()
    assert page.get_by_label("Username").input_value() == "ada"
    assert page.evaluate("document.activeElement.name") == "password"


def test_the_skip_link_is_the_first_stop_and_moves_focus_past_the_header(browse, seeded):
    owner, _ = seeded
    page = browse(owner)
    page.goto("/p/early-vision/jobs/")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    assert skip.evaluate("(link) => link === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")

    assert page.evaluate("document.activeElement.closest('main') !== null")


def test_dark_mode_follows_the_system_setting(chromium, live_server):
    backgrounds = {}
    for scheme in SCHEMES:
        context = chromium.new_context(color_scheme=scheme, base_url=live_server.url)
        page = context.new_page()
        page.goto("/login/")
        backgrounds[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
        context.close()

    assert backgrounds == {"light": "rgb(245, 246, 248)", "dark": "rgb(21, 24, 28)"}


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scroll", ["at the top", "scrolled"])
def test_an_error_takes_room_of_its_own_instead_of_covering_controls(browse, seeded, width, scroll):
    owner, _ = seeded
    page = browse(owner)
    page.set_viewport_size(WIDTHS[width])
    page.goto("/p/early-vision/jobs/", wait_until="networkidle")
    button = page.get_by_role("button", name="Request job")
    if scroll == "scrolled":
        button.evaluate(
            "(button) => scrollTo(0, button.getBoundingClientRect().top + scrollY - 80)"
        )
    before = button.bounding_box()

    page.evaluate(
        """async () => {
            const { reportError } = await import("/static/frontend/js/dom.js");
            const error = { message: "The worker ran out of memory.", status: 500, code: "error" };
            reportError(error, "Render");
        }"""
    )

    dock = page.locator("#alerts").bounding_box()
    after = button.bounding_box()
    assert page.get_by_role("alert").filter(has_text="ran out of memory").is_visible()
    assert after["y"] >= dock["y"] + dock["height"]
    assert after["y"] - before["y"] == pytest.approx(dock["height"], abs=2)


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_has_a_serious_accessibility_violation(chromium, live_server, seeded, width,
                                                       scheme):  # fmt: skip
    owner, ids = seeded
    context = chromium.new_context(
        viewport=WIDTHS[width], color_scheme=scheme, base_url=live_server.url
    )
    page = context.new_page()
    page.set_default_timeout(60_000)
    found = {}

    page.goto("/login/")
    page.get_by_label("Username").fill(owner.username)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector(".error")
    found["login"] = look(page, "login", width, scheme)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/")
    for name, (path, ready) in PAGES.items():
        if name == "login":
            continue
        page.goto(path.format(**ids), wait_until="networkidle")
        if ready:
            page.wait_for_selector(ready)
        found[name] = look(page, name, width, scheme)
    context.close()
    report = SHOTS / f"violations-{WIDTHS[width]['width']}-{scheme}.json"
    report.write_text(json.dumps(found, indent=1))

    assert {name: lines for name, lines in found.items() if lines} == {}


def look(page, name, width, scheme):
    """Photograph the page, then audit it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SHOTS / f"{name}-{WIDTHS[width]['width']}-{scheme}.png"), full_page=True
    )
    return audit(page)
