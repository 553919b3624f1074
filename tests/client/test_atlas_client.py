"""The notebook client against a live server: the real HTTP, the real API, one database."""

import os
import subprocess
import sys

import pytest
from atlas_client import Atlas, AtlasError, StaleVersion

from annotations.models import ApiToken, Assignment, Event, Group, Hypothesis, Notification, Role
from tests.client.conftest import CLIENT_ROOT
from tests.factories.annotations import (
    PASSWORD,
    AssignmentFactory,
    CommentFactory,
    GroupFactory,
    MembershipFactory,
    NotificationFactory,
    ProjectFactory,
    ProjectNetworkFactory,
)
from tests.factories.workers import LayerFactory
from workers.models import Job
from workers.services import jobs as job_services

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT = "early-vision"
NETWORK = "inception"


@pytest.fixture
def project():
    return ProjectFactory(slug=PROJECT)


@pytest.fixture
def layer(project):
    network = ProjectNetworkFactory(project=project, network__name=NETWORK).network
    return LayerFactory(network=network, name="mixed3b", order=0, channels=8)


@pytest.fixture
def member(project):
    def add(username, role):
        return MembershipFactory(project=project, role=role, user__username=username).user

    return add


@pytest.fixture
def annotator(member):
    return member("ada", Role.ANNOTATOR)


@pytest.fixture
def reviewer(member):
    return member("rev", Role.REVIEWER)


@pytest.fixture
def login(live_server):
    def sign_in(user, **options):
        return Atlas.login(live_server.url, user.username, PASSWORD, **options)

    return sign_in


@pytest.fixture
def curves(project):
    return GroupFactory(project=project, name="Curves")


@pytest.fixture
def jobs_sent(monkeypatch):
    """Jobs the server would have handed to Celery; no worker runs here."""
    sent = []
    monkeypatch.setattr(job_services, "_enqueue_after_commit", sent.append)
    return sent


def test_login_holds_the_users_token_and_lists_their_projects(login, annotator):
    ProjectFactory(slug="not-theirs")

    atlas = login(annotator)

    assert ApiToken.objects.get(user=annotator).token_key == atlas.token[:15]
    assert [project["slug"] for project in atlas.projects()] == [PROJECT]


def test_login_names_its_token_and_logout_revokes_it(login, annotator):
    atlas = login(annotator, token_name="laptop")
    assert [token["name"] for token in atlas.tokens()] == ["laptop"]

    atlas.logout()

    assert atlas.token is None
    assert not ApiToken.objects.exists()


def test_a_created_token_works_once_and_stops_when_revoked(live_server, login, annotator):
    atlas = login(annotator)
    ci = atlas.create_token("nightly export", expires_in_days=7)
    notebook = Atlas(live_server.url, token=ci["token"])
    assert [project["slug"] for project in notebook.projects()] == [PROJECT]

    atlas.revoke_token(ci)

    with pytest.raises(AtlasError) as caught:
        notebook.projects()
    assert (caught.value.status, caught.value.code) == (401, "authentication_failed")
    assert "token" not in atlas.tokens()[0]


def test_login_with_a_wrong_password_raises_atlas_error_from_the_error_shape(
    live_server, annotator
):
    with pytest.raises(AtlasError) as caught:
        Atlas.login(live_server.url, "ada", "not the password")

    assert type(caught.value) is AtlasError
    assert (caught.value.status, caught.value.code, caught.value.fields) == (
        401,
        "invalid_credentials",
        {},
    )
    assert caught.value.detail == "Unable to sign in with the given username and password."


def test_units_walks_every_page_of_one_layer(login, annotator, layer):
    LayerFactory(network=layer.network, name="mixed4a", order=1, channels=2)
    atlas = login(annotator, page_size=3)

    units = atlas.units(NETWORK, layer="mixed3b")

    assert [unit["address"] for unit in units] == [f"mixed3b:{index}" for index in range(8)]


def test_layers_and_unit_card_read_the_catalog(login, annotator, layer):
    atlas = login(annotator)

    layers = atlas.layers(NETWORK)
    card = atlas.unit_card(NETWORK, "mixed3b:5")

    assert [(entry["name"], entry["channels"]) for entry in layers] == [("mixed3b", 8)]
    assert (card["network"], card["address"], card["renderings"]) == (NETWORK, "mixed3b:5", [])


def test_grid_joins_every_page_of_a_layer_with_groups_and_comment_counts(
    login, annotator, layer, curves
):
    AssignmentFactory(group=curves, unit=layer.units.get(index=2))
    CommentFactory(
        project=curves.project, target_type="unit", target_id=layer.units.get(index=5).pk
    )
    atlas = login(annotator, page_size=3)

    grid = atlas.grid(PROJECT, NETWORK, "mixed3b")

    expected = [(f"mixed3b:{index}", None, 0) for index in range(8)]
    expected[2] = ("mixed3b:2", {"id": curves.pk, "name": "Curves", "color": "#888888"}, 0)
    expected[5] = ("mixed3b:5", None, 1)
    assert (grid["network"], grid["layer"], grid["sprites"]) == (NETWORK, "mixed3b", [])
    assert [(u["address"], u["group"], u["comments"]) for u in grid["results"]] == expected


def test_grid_filters_by_group(login, annotator, layer, curves):
    AssignmentFactory(group=curves, unit=layer.units.get(index=6))
    atlas = login(annotator)

    grid = atlas.grid(PROJECT, NETWORK, "mixed3b", group={"id": curves.pk})

    assert [unit["address"] for unit in grid["results"]] == ["mixed3b:6"]


def test_request_job_queues_a_job_that_wait_for_job_returns_once_finished(
    login, annotator, layer, jobs_sent
):
    atlas = login(annotator)

    job = atlas.request_job(NETWORK, "first_layer_weights", "mixed3b", units=[0, 1])
    Job.objects.filter(pk=job["id"]).update(status=Job.Status.SUCCEEDED)
    finished = atlas.wait_for_job(job["id"], timeout=10, poll=0.05)

    assert (job["status"], job["units"], jobs_sent) == ("queued", [0, 1], [job["id"]])
    assert (finished["id"], finished["status"]) == (job["id"], "succeeded")


def test_wait_for_job_raises_timeout_while_the_job_stays_queued(login, annotator, layer, jobs_sent):
    atlas = login(annotator)
    job = atlas.request_job(NETWORK, "first_layer_weights", "mixed3b")

    with pytest.raises(TimeoutError):
        atlas.wait_for_job(job["id"], timeout=0.2, poll=0.05)

    assert Job.objects.get(pk=job["id"]).status == Job.Status.QUEUED


def test_assign_puts_every_unit_given_in_any_form_into_the_group(login, annotator, layer):
    atlas = login(annotator)
    group = atlas.create_group(PROJECT, "Curves", color="#ff8800")
    unit = atlas.units(NETWORK, layer="mixed3b")[3]

    result = atlas.assign(PROJECT, NETWORK, ["mixed3b:1", ("mixed3b", 2), unit], group)

    assert result == {"units": 3, "changed": 3}
    assert list(
        Assignment.objects.order_by("unit__index").values_list(
            "unit__index", "group__name", "source", "assigned_by__username"
        )
    ) == [(index, "Curves", "direct", "ada") for index in (1, 2, 3)]


def test_assign_with_an_unknown_unit_raises_atlas_error_and_assigns_nothing(
    login, annotator, layer, curves
):
    atlas = login(annotator)

    with pytest.raises(AtlasError) as caught:
        atlas.assign(PROJECT, NETWORK, ["mixed3b:1", "mixed3b:99"], curves.pk)

    assert (caught.value.status, caught.value.code) == (422, "unknown_reference")
    assert list(caught.value.fields) == ["units.1"]
    assert not Assignment.objects.exists()
    assert not Event.objects.filter(verb="unit.assigned").exists()


def test_propose_then_approve_accepts_the_hypothesis_and_applies_its_group(
    login, annotator, reviewer, layer, curves
):
    proposal = login(annotator).propose(
        PROJECT,
        NETWORK,
        "Curve detectors",
        "They like curves.",
        ["mixed3b:4", "mixed3b:6"],
        curves.pk,
    )

    reviewed = login(reviewer).review(PROJECT, proposal["id"], "approve", "Agreed.")

    assert (proposal["status"], proposal["proposed_group"]) == (
        "open",
        {"id": curves.pk, "name": "Curves"},
    )
    assert (reviewed["status"], reviewed["approvals"]) == ("accepted", 1)
    assert [(review["reviewer"], review["verdict"]) for review in reviewed["reviews"]] == [
        ("rev", "approve")
    ]
    assert list(
        Assignment.objects.order_by("unit__index").values_list(
            "unit__index", "group_id", "source", "hypothesis_id"
        )
    ) == [(index, curves.pk, "hypothesis", proposal["id"]) for index in (4, 6)]


def test_propose_a_new_group_by_name_creates_it_on_acceptance(login, annotator, reviewer, layer):
    proposal = login(annotator).propose(
        PROJECT, NETWORK, "Curves", "", ["mixed3b:1"], new_group="Curves 2"
    )

    login(reviewer).review(PROJECT, proposal["id"], "approve")

    assert (proposal["proposed_group"], proposal["new_group"]["name"]) == (None, "Curves 2")
    assert list(Assignment.objects.values_list("unit__index", "group__name")) == [(1, "Curves 2")]


def test_revise_sends_the_version_the_author_read(login, annotator, layer, curves):
    atlas = login(annotator)
    proposal = atlas.propose(PROJECT, NETWORK, "Curves", "", ["mixed3b:4"], curves.pk)

    revised = atlas.revise(PROJECT, proposal, text="Also 5.", units=["mixed3b:4", ("mixed3b", 5)])

    assert (revised["version"], revised["text"], revised["units"]) == (
        2,
        "Also 5.",
        ["mixed3b:4", "mixed3b:5"],
    )


def test_review_of_a_version_since_revised_raises_stale_version_and_records_nothing(
    login, annotator, reviewer, layer, curves
):
    author = login(annotator)
    proposal = author.propose(PROJECT, NETWORK, "Curve detectors", "", ["mixed3b:4"], curves.pk)
    atlas = login(reviewer)
    atlas.hypothesis(PROJECT, proposal["id"])
    author.revise(PROJECT, proposal["id"], text="On second thought, only strong curves.")

    with pytest.raises(StaleVersion) as caught:
        atlas.review(PROJECT, proposal["id"], "approve")

    assert (caught.value.status, caught.value.code, caught.value.current_version) == (
        412,
        "version_conflict",
        2,
    )
    assert Hypothesis.objects.get().status == Hypothesis.Status.OPEN
    assert not Hypothesis.objects.get().reviews.exists()


def test_comment_on_a_unit_notifies_the_member_it_mentions(login, annotator, reviewer, layer):
    comment = login(annotator).comment(
        PROJECT, "unit", f"{NETWORK}/mixed3b:3", "@rev is this one a curve detector?"
    )

    notifications = login(reviewer).notifications(unread=True)

    assert (comment["target_label"], comment["author"], comment["parent"]) == (
        f"{NETWORK}/mixed3b:3",
        "ada",
        None,
    )
    assert [(n["kind"], n["actor"], n["target_id"]) for n in notifications] == [
        ("mention", "ada", comment["id"])
    ]
    assert Notification.objects.filter(recipient=annotator).count() == 0


def test_comment_reply_answers_its_parent_in_the_same_thread(login, annotator, reviewer, curves):
    thread = login(annotator).comment(PROJECT, "group", curves.pk, "Too broad?")

    reply = login(reviewer).comment(PROJECT, "group", curves.pk, "Split it.", parent=thread)

    assert (reply["parent"], reply["thread"]) == (thread["id"], thread["id"])


def test_comments_lists_each_thread_with_its_replies(login, annotator, curves):
    atlas = login(annotator)
    thread = atlas.comment(PROJECT, "group", curves.pk, "Too broad?")
    atlas.comment(PROJECT, "group", curves.pk, "Yes.", parent=thread)

    threads = atlas.comments(PROJECT, "group", curves.pk)

    assert [(t["body"], [r["body"] for r in t["replies"]]) for t in threads] == [
        ("Too broad?", ["Yes."])
    ]


def test_mark_read_without_ids_marks_every_notification_read(login, annotator, reviewer):
    NotificationFactory.create_batch(2, recipient=reviewer)
    atlas = login(reviewer)

    marked = atlas.mark_read()

    assert (marked, atlas.notifications(unread=True)) == (2, [])


def test_review_queue_lists_the_open_hypotheses_of_others(
    login, annotator, reviewer, layer, curves
):
    proposal = login(annotator).propose(PROJECT, NETWORK, "Curves", "", ["mixed3b:1"], curves.pk)

    queue = login(reviewer).review_queue()

    assert [(h["id"], h["project"], h["units"]) for h in queue] == [
        (proposal["id"], PROJECT, ["mixed3b:1"])
    ]


def test_groups_lists_the_taxonomy_with_unit_counts(login, annotator, curves):
    GroupFactory(project=curves.project, name="Edges", parent=curves)

    groups = login(annotator).groups(PROJECT)

    assert [(g["name"], g["parent"], g["unit_count"]) for g in groups] == [
        ("Curves", None, 0),
        ("Edges", curves.pk, 0),
    ]


def test_update_group_sends_the_version_it_read(login, reviewer, curves):
    atlas = login(reviewer)
    atlas.group(PROJECT, curves.pk)

    updated = atlas.update_group(PROJECT, curves.pk, name="Curve detectors")

    assert (updated["name"], updated["version"]) == ("Curve detectors", 2)


def test_update_group_changed_by_someone_else_raises_stale_version_and_changes_nothing(
    login, reviewer, member, curves
):
    atlas = login(reviewer)
    atlas.group(PROJECT, curves.pk)
    login(member("lee", Role.OWNER)).update_group(PROJECT, curves.pk, color="#00ff00")

    with pytest.raises(StaleVersion) as caught:
        atlas.update_group(PROJECT, curves.pk, name="Curve detectors")

    assert (caught.value.status, caught.value.code, caught.value.current_version) == (
        412,
        "version_conflict",
        2,
    )
    assert Group.objects.values_list("name", "color", "version").get() == ("Curves", "#00ff00", 2)
    assert list(Event.objects.values_list("verb", "actor__username")) == [("group.updated", "lee")]


def test_the_client_imports_with_the_standard_library_alone():
    probe = (
        "import importlib.util, sys; "
        f"sys.path.insert(0, {str(CLIENT_ROOT)!r}); "
        "import atlas_client; "
        "assert importlib.util.find_spec('django') is None; "
        "print(atlas_client.Atlas.__name__)"
    )

    # -I: no environment, no user site; -S: no site-packages, so no Django to fall back on.
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", probe],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", "")},
        check=False,
    )

    assert (result.returncode, result.stdout, result.stderr) == (0, "Atlas\n", "")
