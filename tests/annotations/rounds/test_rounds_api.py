"""A two-annotator round through the API alone: opened, labelled, submitted, scored, decided."""

import pytest

from annotations.models import Assignment, LabellingRound
from tests.annotations.rounds.conftest import PROJECT, client_for
from tests.factories.annotations import UserFactory

pytestmark = pytest.mark.django_db

ROUNDS = f"{PROJECT}/rounds/"


@pytest.fixture
def opened(people, layer, curves, lines):
    response = client_for(people["rev"]).post(
        ROUNDS,
        {
            "network": "inceptionv1",
            "layer": "mixed3b",
            "title": "mixed3b, first pass",
            "participants": ["ada", "bob"],
            "groups": [curves.pk, lines.pk],
        },
        format="json",
    )
    assert response.status_code == 201
    return response.json()


def _labels(client, round_id, choices, note=""):
    return client.put(
        f"{ROUNDS}{round_id}/labels/",
        {
            "labels": [
                {"unit": f"mixed3b:{index}", "group": group, "note": note}
                for index, group in enumerate(choices)
            ]
        },
        format="json",
    )


@pytest.fixture
def closed(opened, people, curves, lines):
    """ada and bob agree on units 0 (Curves) and 1 (Lines), disagree on 2 and 3."""
    ada, bob = client_for(people["ada"]), client_for(people["bob"])
    _labels(ada, opened["id"], [curves.pk, lines.pk, curves.pk, None], note="ada's view")
    _labels(bob, opened["id"], [curves.pk, lines.pk, lines.pk, curves.pk])
    ada.post(f"{ROUNDS}{opened['id']}/submit/")
    bob.post(f"{ROUNDS}{opened['id']}/submit/")
    return opened


def test_opened_round_lists_units_choices_and_participants(opened, curves, lines):
    assert opened["status"] == "open"
    assert opened["units"] == ["mixed3b:0", "mixed3b:1", "mixed3b:2", "mixed3b:3"]
    assert opened["choices"] == [
        {"key": str(curves.pk), "group": curves.pk, "name": "Curves"},
        {"key": str(lines.pk), "group": lines.pk, "name": "Lines"},
        {"key": "other", "group": None, "name": "other"},
    ]
    assert opened["participants"] == [
        {"username": "ada", "submitted": False, "labelled": 0},
        {"username": "bob", "submitted": False, "labelled": 0},
    ]


def test_annotator_may_not_open_a_round(people, layer, curves):
    response = client_for(people["ada"]).post(
        ROUNDS,
        {
            "network": "inceptionv1",
            "layer": "mixed3b",
            "title": "mine",
            "participants": ["ada", "bob"],
            "groups": [curves.pk],
        },
        format="json",
    )

    assert response.status_code == 403
    assert not LabellingRound.objects.exists()


def test_saving_labels_answers_the_participants_own_labels(opened, people, curves):
    response = _labels(client_for(people["ada"]), opened["id"], [curves.pk, None], note="hmm")

    assert response.status_code == 200
    assert [(row["unit"], row["group"], row["note"]) for row in response.json()] == [
        ("mixed3b:0", curves.pk, "hmm"),
        ("mixed3b:1", None, "hmm"),
    ]


def test_saving_a_unit_outside_the_round_names_it(opened, people, curves):
    response = _labels(client_for(people["ada"]), opened["id"], [curves.pk] * 5)

    assert response.status_code == 422
    assert set(response.json()["fields"]) == {"labels.4.unit"}


def test_submitting_early_is_a_409_round_incomplete(opened, people, curves):
    client = client_for(people["ada"])
    _labels(client, opened["id"], [curves.pk])

    response = client.post(f"{ROUNDS}{opened['id']}/submit/")

    assert (response.status_code, response.json()["code"]) == (409, "round_incomplete")


def test_round_closes_when_both_have_submitted(closed, people):
    detail = client_for(people["vic"]).get(f"{ROUNDS}{closed['id']}/").json()

    assert detail["status"] == "closed"
    assert detail["agreement"]["cohen_kappa"] == pytest.approx(0.2)
    assert detail["agreement"]["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_results_of_a_closed_round_show_every_label_and_note(closed, people, curves, lines):
    results = client_for(people["vic"]).get(f"{ROUNDS}{closed['id']}/results/").json()

    assert results["units"][3] == {
        "unit": "mixed3b:3",
        "labels": [
            {"annotator": "ada", "choice": "other", "note": "ada's view"},
            {"annotator": "bob", "choice": str(curves.pk), "note": ""},
        ],
        "agreed": False,
        "decided": False,
        "decision": None,
    }


def test_disagreement_queue_holds_the_units_labelled_differently(closed, people):
    queue = client_for(people["rev"]).get(f"{ROUNDS}{closed['id']}/disagreements/").json()

    assert [row["unit"] for row in queue] == ["mixed3b:2", "mixed3b:3"]


def test_decision_leaves_the_queue_and_assigns_the_unit(closed, people, lines):
    client = client_for(people["rev"])

    response = client.post(
        f"{ROUNDS}{closed['id']}/decisions/",
        {"unit": "mixed3b:2", "group": lines.pk},
        format="json",
    )

    assert response.status_code == 201
    assert (response.json()["decided"], response.json()["decision"]) == (True, str(lines.pk))
    queue = client.get(f"{ROUNDS}{closed['id']}/disagreements/").json()
    assert [row["unit"] for row in queue] == ["mixed3b:3"]
    assert Assignment.objects.get().source == "round"


def test_annotator_may_not_decide(closed, people, lines):
    response = client_for(people["ada"]).post(
        f"{ROUNDS}{closed['id']}/decisions/",
        {"unit": "mixed3b:2", "group": lines.pk},
        format="json",
    )

    assert response.status_code == 403
    assert not Assignment.objects.exists()


def test_apply_agreed_assigns_the_agreed_units(closed, people):
    response = client_for(people["rev"]).post(f"{ROUNDS}{closed['id']}/apply-agreed/")

    assert response.json() == {"decided": 2, "assigned": 2}


def test_owner_closes_an_open_round(opened, people):
    response = client_for(people["owner"]).post(f"{ROUNDS}{opened['id']}/close/")

    assert (response.status_code, response.json()["status"]) == (200, "closed")


def test_reviewer_may_not_close_a_round(opened, people):
    response = client_for(people["rev"]).post(f"{ROUNDS}{opened['id']}/close/")

    assert response.status_code == 403
    assert LabellingRound.objects.get().status == "open"


def test_round_list_names_each_round(opened, people):
    response = client_for(people["vic"]).get(ROUNDS).json()

    assert [(row["title"], row["units"], row["participants"]) for row in response["results"]] == [
        ("mixed3b, first pass", 4, ["ada", "bob"])
    ]


def test_non_member_gets_404(opened):
    response = client_for(UserFactory()).get(f"{ROUNDS}{opened['id']}/")

    assert response.status_code == 404


def test_a_round_request_that_fits_the_schema_but_names_one_person_twice_is_a_422(
    people, layer, curves
):
    response = client_for(people["rev"]).post(
        ROUNDS,
        {
            "network": "inceptionv1",
            "layer": "mixed3b",
            "title": "mixed3b",
            "participants": ["ada", "ada"],
            "groups": [curves.pk],
        },
        format="json",
    )

    assert (response.status_code, set(response.json()["fields"])) == (422, {"participants"})
    assert not LabellingRound.objects.exists()


def test_a_round_request_with_neither_a_layer_nor_units_is_a_422(people, layer, curves):
    response = client_for(people["rev"]).post(
        ROUNDS,
        {
            "network": "inceptionv1",
            "title": "mixed3b",
            "participants": ["ada", "bob"],
            "groups": [curves.pk],
        },
        format="json",
    )

    assert (response.status_code, set(response.json()["fields"])) == (422, {"units"})
    assert not LabellingRound.objects.exists()
