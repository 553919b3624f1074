import pytest
from rest_framework.test import APIClient

from annotations.models import Assignment, Event, Group, Hypothesis, Notification, Review, Role
from annotations.services.assignments import assignments_apply
from tests.factories.annotations import (
    HypothesisFactory,
    HypothesisUnitFactory,
    MembershipFactory,
    ProjectFactory,
    ProjectNetworkFactory,
    ReviewFactory,
    UserFactory,
)
from tests.factories.workers import LayerFactory
from tests.openapi import query_parameter

pytestmark = pytest.mark.django_db

HYPOTHESES = "/api/v1/projects/curves/hypotheses/"


@pytest.fixture
def project():
    return ProjectFactory(slug="curves")


@pytest.fixture
def layer(project):
    layer = LayerFactory(network__name="inceptionv1", name="mixed3b", channels=4)
    ProjectNetworkFactory(project=project, network=layer.network)
    return layer


@pytest.fixture
def members(project):
    return {
        role: MembershipFactory(project=project, user__username=name, role=role).user
        for name, role in [
            ("olah", Role.OWNER),
            ("rev", Role.REVIEWER),
            ("ada", Role.ANNOTATOR),
            ("voss", Role.VIEWER),
        ]
    }


@pytest.fixture
def curves(project):
    return Group.objects.create(project=project, name="Curves")


def _as(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def _create(user, **fields):
    body = {
        "network": "inceptionv1",
        "title": "Curve detectors",
        "text": "They respond to *curves*.",
        "units": ["mixed3b:1", "mixed3b:2"],
        **fields,
    }
    return _as(user).post(HYPOTHESES, body, format="json")


def _review(user, hypothesis_id, verdict, version=1, comment=""):
    return _as(user).post(
        f"{HYPOTHESES}{hypothesis_id}/reviews/",
        {"verdict": verdict, "comment": comment},
        format="json",
        headers={"If-Match": f'"{version}"'},
    )


def _iso(moment):
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def test_a_hypothesis_goes_from_changes_requested_through_a_revision_to_accepted(
    layer, members, curves
):
    ada, rev = members[Role.ANNOTATOR], members[Role.REVIEWER]

    created = _create(ada, proposed_group=curves.pk)
    assert (created.status_code, created["ETag"]) == (201, '"1"')
    hypothesis_id = created.json()["id"]

    changes = _review(rev, hypothesis_id, "request_changes", comment="Unit 2 looks like an edge.")
    assert (changes.status_code, changes.json()["status"]) == (201, "open")

    revised = _as(ada).patch(
        f"{HYPOTHESES}{hypothesis_id}/",
        {"units": ["mixed3b:1"]},
        format="json",
        headers={"If-Match": '"1"'},
    )
    assert (revised.status_code, revised["ETag"], revised.json()["units"]) == (
        200,
        '"2"',
        ["mixed3b:1"],
    )

    approved = _review(rev, hypothesis_id, "approve", version=2)
    assert approved.status_code == 201
    assert {key: approved.json()[key] for key in ("status", "version", "approvals")} == {
        "status": "accepted",
        "version": 2,
        "approvals": 1,
    }
    assert list(Assignment.objects.values_list("unit__index", "group", "source")) == [
        (1, curves.pk, "hypothesis")
    ]
    assert list(Event.objects.order_by("id").values_list("verb", flat=True)) == [
        "hypothesis.created",
        "hypothesis.reviewed",
        "hypothesis.revised",
        "hypothesis.reviewed",
        "unit.assigned",
        "hypothesis.accepted",
    ]
    # Owner and reviewer are asked to review the new and the revised version; the viewer and
    # the author are not.
    assert list(Notification.objects.order_by("id").values_list("recipient__username", "kind")) == [
        ("olah", "review_request"),
        ("rev", "review_request"),
        ("ada", "review"),
        ("olah", "review_request"),
        ("rev", "review_request"),
        ("ada", "review"),
        ("ada", "hypothesis_accepted"),
    ]


def test_detail_shows_units_proposal_reviews_and_approvals_with_an_etag(
    project, layer, members, curves
):
    edges = Group.objects.create(project=project, name="Edges")
    hypothesis = HypothesisFactory(
        project=project,
        network=layer.network,
        author=members[Role.ANNOTATOR],
        title="Curve detectors",
        text="Like *curves*.",
        proposed_group=curves,
        version=2,
    )
    HypothesisUnitFactory(hypothesis=hypothesis, unit=layer.units.get(index=1))
    HypothesisUnitFactory(hypothesis=hypothesis, unit=layer.units.get(index=2))
    assignments_apply(project=project, changes=[(layer.units.get(index=2), edges)], actor=None)
    old = ReviewFactory(hypothesis=hypothesis, reviewer=members[Role.REVIEWER], version=1)
    new = ReviewFactory(hypothesis=hypothesis, reviewer=members[Role.OWNER], comment="Yes.")
    hypothesis.refresh_from_db()

    response = _as(members[Role.VIEWER]).get(f"{HYPOTHESES}{hypothesis.pk}/")

    assert (response.status_code, response["ETag"]) == (200, '"2"')
    assert response.json() == {
        "id": hypothesis.pk,
        "project": "curves",
        "network": "inceptionv1",
        "title": "Curve detectors",
        "status": "open",
        "author": "ada",
        "units": ["mixed3b:1", "mixed3b:2"],
        "group": None,
        "circuit": None,
        "proposed_group": {"id": curves.pk, "name": "Curves"},
        "new_group": None,
        "evidence": [],
        "evidence_circuits": [],
        "evidence_items": [],
        "version": 2,
        "approvals": 1,
        "required_approvals": 1,
        "created_at": _iso(hypothesis.created_at),
        "updated_at": _iso(hypothesis.updated_at),
        "accepted_at": None,
        "text": "Like *curves*.",
        "text_html": "<p>Like <em>curves</em>.</p>\n",
        "unit_groups": [
            {"unit": "mixed3b:1", "expected_group": None, "current_group": None, "moved": False},
            {
                "unit": "mixed3b:2",
                "expected_group": None,
                "current_group": {"id": edges.pk, "name": "Edges"},
                "moved": True,
            },
        ],
        "reviews": [
            {
                "id": old.pk,
                "reviewer": "rev",
                "verdict": "approve",
                "comment": "",
                "version": 1,
                "created_at": _iso(old.created_at),
            },
            {
                "id": new.pk,
                "reviewer": "olah",
                "verdict": "approve",
                "comment": "Yes.",
                "version": 2,
                "created_at": _iso(new.created_at),
            },
        ],
    }


def test_the_author_may_not_approve_their_own_hypothesis(layer, members):
    owner = members[Role.OWNER]
    hypothesis_id = _create(owner).json()["id"]

    response = _review(owner, hypothesis_id, "approve")

    assert response.status_code == 403
    assert response.json() == {
        "detail": "You may not do hypothesis.review on this hypothesis.",
        "code": "permission_denied",
        "fields": {},
    }
    assert Hypothesis.objects.values_list("status", flat=True).get() == "open"
    assert (Review.objects.count(), Assignment.objects.count()) == (0, 0)
    assert list(Event.objects.values_list("verb", flat=True)) == ["hypothesis.created"]


@pytest.mark.parametrize("role", [Role.ANNOTATOR, Role.VIEWER])
def test_annotators_and_viewers_may_not_review(layer, members, role):
    hypothesis_id = _create(members[Role.OWNER]).json()["id"]

    response = _review(members[role], hypothesis_id, "approve")

    assert response.status_code == 403
    assert Review.objects.count() == 0


def test_a_review_without_if_match_is_refused(layer, members):
    hypothesis_id = _create(members[Role.ANNOTATOR]).json()["id"]

    response = _as(members[Role.REVIEWER]).post(
        f"{HYPOTHESES}{hypothesis_id}/reviews/", {"verdict": "approve"}, format="json"
    )

    assert (response.status_code, response.json()["code"]) == (428, "precondition_required")
    assert Review.objects.count() == 0


def test_a_non_member_gets_404_for_the_list_detail_and_reviews(layer, members):
    hypothesis_id = _create(members[Role.ANNOTATOR]).json()["id"]
    stranger = _as(UserFactory())

    assert stranger.get(HYPOTHESES).status_code == 404
    assert stranger.get(f"{HYPOTHESES}{hypothesis_id}/").status_code == 404
    assert _review(UserFactory(), hypothesis_id, "approve").status_code == 404


def test_a_hypothesis_of_another_project_is_404(layer, members):
    elsewhere = HypothesisFactory()

    response = _as(members[Role.OWNER]).get(f"{HYPOTHESES}{elsewhere.pk}/")

    assert (response.status_code, response.json()["code"]) == (404, "not_found")


def test_acceptance_over_a_unit_that_moved_is_a_clear_409_and_records_nothing(
    project, layer, members, curves
):
    hypothesis_id = _create(members[Role.ANNOTATOR], proposed_group=curves.pk).json()["id"]
    edges = Group.objects.create(project=project, name="Edges")
    assignments_apply(project=project, changes=[(layer.units.get(index=2), edges)], actor=None)

    response = _review(members[Role.REVIEWER], hypothesis_id, "approve")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "The hypothesis cannot be accepted as written, so the approval was not "
        "recorded and the hypothesis stays open for its author to revise. These units "
        "changed group since the hypothesis was written: mixed3b:2",
        "code": "assignment_conflict",
        "fields": {"units": ["mixed3b:2"]},
    }
    assert Hypothesis.objects.values_list("status", flat=True).get() == "open"
    assert Review.objects.count() == 0
    assert list(Assignment.objects.values_list("unit__index", "group")) == [(2, edges.pk)]


def test_only_the_author_may_withdraw(layer, members):
    hypothesis_id = _create(members[Role.ANNOTATOR]).json()["id"]
    withdraw = f"{HYPOTHESES}{hypothesis_id}/withdraw/"

    refused = _as(members[Role.OWNER]).post(withdraw, headers={"If-Match": '"1"'})
    assert refused.status_code == 403
    assert Hypothesis.objects.values_list("status", flat=True).get() == "open"

    done = _as(members[Role.ANNOTATOR]).post(withdraw, headers={"If-Match": '"1"'})
    assert (done.status_code, done.json()["status"]) == (200, "withdrawn")


def test_revising_an_accepted_hypothesis_is_an_invalid_transition(layer, members):
    hypothesis_id = _create(members[Role.ANNOTATOR]).json()["id"]
    _review(members[Role.REVIEWER], hypothesis_id, "approve")

    response = _as(members[Role.ANNOTATOR]).patch(
        f"{HYPOTHESES}{hypothesis_id}/",
        {"title": "Late"},
        format="json",
        headers={"If-Match": '"1"'},
    )

    assert response.status_code == 409
    assert response.json() == {
        "detail": "This hypothesis is accepted; only an open hypothesis can be revised.",
        "code": "invalid_transition",
        "fields": {"status": ["accepted"]},
    }
    assert Hypothesis.objects.values_list("title", flat=True).get() == "Curve detectors"


def test_revising_with_a_stale_etag_is_412(layer, members):
    ada = members[Role.ANNOTATOR]
    hypothesis_id = _create(ada).json()["id"]
    detail = f"{HYPOTHESES}{hypothesis_id}/"
    _as(ada).patch(detail, {"title": "Second"}, format="json", headers={"If-Match": '"1"'})

    response = _as(ada).patch(
        detail, {"title": "Third"}, format="json", headers={"If-Match": '"1"'}
    )

    assert (response.status_code, response.json()["fields"]) == (
        412,
        {"current_version": ["2"]},
    )
    assert Hypothesis.objects.values_list("title", flat=True).get() == "Second"


def test_a_viewer_may_not_write_a_hypothesis(layer, members):
    response = _create(members[Role.VIEWER])

    assert response.status_code == 403
    assert Hypothesis.objects.count() == 0


def test_a_network_the_project_does_not_study_is_a_422(layer, members):
    LayerFactory(network__name="resnet", name="mixed3b")

    response = _create(members[Role.ANNOTATOR], network="resnet")

    assert response.status_code == 422
    assert response.json()["fields"] == {"network": ["Object with name=resnet does not exist."]}


def test_new_groups_proposed_without_a_colour_get_distinct_colours_on_acceptance(
    layer, members, curves
):
    ids = []
    for index, name in enumerate(["Small curves", "Large curves"]):
        response = _create(
            members[Role.ANNOTATOR],
            units=[f"mixed3b:{index}"],
            new_group={"name": name, "parent": curves.pk},
        )
        assert response.status_code == 201
        assert response.json()["new_group"]["color"] is None
        ids.append(response.json()["id"])

    for hypothesis_id in ids:
        assert _review(members[Role.REVIEWER], hypothesis_id, "approve").status_code == 201

    small, large = (Group.objects.get(name=name) for name in ["Small curves", "Large curves"])
    assert (small.parent, large.parent) == (curves, curves)
    assert small.color != large.color
    assert curves.color not in {small.color, large.color}


def test_a_null_new_group_colour_is_taken_and_a_malformed_one_is_a_400(layer, members):
    accepted = _create(members[Role.ANNOTATOR], new_group={"name": "Small curves", "color": None})
    refused = _create(members[Role.ANNOTATOR], new_group={"name": "Big", "color": "red"})

    assert accepted.status_code == 201
    assert accepted.json()["new_group"]["color"] is None
    assert refused.status_code == 400


def test_a_new_group_and_an_existing_one_together_are_a_422(layer, members, curves):
    response = _create(
        members[Role.ANNOTATOR], proposed_group=curves.pk, new_group={"name": "Small curves"}
    )

    assert response.status_code == 422
    assert response.json()["fields"] == {
        "new_group": ["Propose an existing group or a new one, not both."]
    }


def test_the_list_filters_by_status_author_unit_and_group(project, layer, members, curves):
    ada, rev = members[Role.ANNOTATOR], members[Role.REVIEWER]
    first = HypothesisFactory(project=project, network=layer.network, author=ada)
    HypothesisUnitFactory(hypothesis=first, unit=layer.units.get(index=1))
    second = HypothesisFactory(
        project=project, network=layer.network, author=rev, proposed_group=curves
    )
    HypothesisUnitFactory(hypothesis=second, unit=layer.units.get(index=2))
    third = HypothesisFactory(
        project=project, network=layer.network, author=ada, group=curves, status="rejected"
    )
    client = _as(members[Role.VIEWER])

    def ids(query):
        response = client.get(HYPOTHESES, query)
        assert response.status_code == 200
        return [row["id"] for row in response.json()["results"]]

    assert ids({}) == [third.pk, second.pk, first.pk]
    assert ids({"status": "open"}) == [second.pk, first.pk]
    assert ids({"author": "ada"}) == [third.pk, first.pk]
    assert ids({"unit": "mixed3b:2"}) == [second.pk]
    assert ids({"group": curves.pk}) == [third.pk, second.pk]


@pytest.mark.parametrize(
    "unit",
    ["mixed3b", "mixed3b:2\n", "mixed3b:\u00b2", "mixed3b:\u0661", "a:b:2", "mixed3b:" + "9" * 19],
)
def test_a_malformed_unit_filter_is_a_400(layer, members, unit):
    response = _as(members[Role.VIEWER]).get(HYPOTHESES, {"unit": unit})

    assert response.status_code == 400
    assert response.json()["fields"] == {"unit": ['Write a unit as "layer:index".']}


def test_a_unit_filter_past_any_index_finds_nothing(layer, members):
    response = _as(members[Role.VIEWER]).get(HYPOTHESES, {"unit": "mixed3b:" + "9" * 18})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_the_schema_gives_the_unit_filter_pattern_the_server_checks():
    unit = query_parameter("get", "/api/v1/projects/{slug}/hypotheses/", "unit")

    assert unit["schema"]["pattern"] == r"^(?:[^:\x00]+:[0-9]{1,18})?$"  # empty: not given


def test_the_list_costs_the_same_queries_for_many_hypotheses(
    project, layer, members, django_assert_num_queries
):
    for index in range(4):
        hypothesis = HypothesisFactory(project=project, network=layer.network)
        HypothesisUnitFactory(hypothesis=hypothesis, unit=layer.units.get(index=index))
        ReviewFactory(hypothesis=hypothesis)
    client = _as(members[Role.VIEWER])

    # the project with the role, the page's ids with the count, those hypotheses, their units
    with django_assert_num_queries(4):
        response = client.get(HYPOTHESES)

    assert response.json()["count"] == 4


def test_the_detail_costs_the_same_queries_for_many_units_and_reviews(
    project, layer, members, django_assert_num_queries
):
    hypothesis = HypothesisFactory(project=project, network=layer.network)
    for unit in layer.units.all():
        HypothesisUnitFactory(hypothesis=hypothesis, unit=unit)
        ReviewFactory(hypothesis=hypothesis)
    client = _as(members[Role.VIEWER])

    # the project with the role, the hypothesis, its units with their groups now, its reviews
    # (no member names: the text mentions nobody)
    with django_assert_num_queries(4):
        response = client.get(f"{HYPOTHESES}{hypothesis.pk}/")

    assert len(response.json()["unit_groups"]) == 4


def test_the_detail_marks_up_a_mention_of_a_member_written_as_an_entity(project, members):
    viewer = members[Role.VIEWER]
    hypothesis = HypothesisFactory(project=project, text=f"Ask &#64;{viewer.username}.")

    body = _as(viewer).get(f"{HYPOTHESES}{hypothesis.pk}/").json()

    assert body["text_html"] == f'<p>Ask <span class="mention">@{viewer.username}</span>.</p>\n'


@pytest.mark.parametrize(
    ("page", "expected"),
    [("1", [4, 3]), ("2", [2, 1]), ("3", [0]), ("last", [0])],
)
def test_a_page_read_with_its_count_holds_the_right_hypotheses(
    project, layer, members, page, expected
):
    hypotheses = [HypothesisFactory(project=project, network=layer.network) for _ in range(5)]

    body = _as(members[Role.VIEWER]).get(HYPOTHESES, {"page_size": 2, "page": page}).json()

    assert body["count"] == 5
    assert [hit["id"] for hit in body["results"]] == [hypotheses[n].pk for n in expected]


@pytest.mark.parametrize("page", ["4", str(2**40)])
def test_a_page_past_the_last_is_a_404(project, layer, members, page):
    HypothesisFactory(project=project, network=layer.network)

    response = _as(members[Role.VIEWER]).get(HYPOTHESES, {"page_size": 2, "page": page})

    assert response.status_code == 404
