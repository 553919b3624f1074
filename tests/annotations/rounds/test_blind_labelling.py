"""A round is blind: while ada has labelled every unit (with a note) and not submitted, no
endpoint shows her labels, her notes or her progress to bob (the other participant), to cy (an
annotator outside the round) or to a viewer; owners and reviewers see how many she labelled,
never what. Labels are not assignments, so the grid and the unit card show no group either."""

import json

import pytest

from tests.annotations.rounds.conftest import PROJECT, client_for, label_all

pytestmark = pytest.mark.django_db

SECRET = "ada-thinks-these-are-lines"


@pytest.fixture
def ada_labelled(labelling_round, people, lines):
    label_all(labelling_round, people["ada"], [lines.pk] * 4, note=SECRET)
    return labelling_round


def _endpoints(labelling_round, layer, group):
    unit = layer.units.get(index=0)
    network = layer.network.name
    round_url = f"{PROJECT}/rounds/{labelling_round.pk}/"
    return [
        f"{PROJECT}/rounds/",
        round_url,
        f"{round_url}labels/",
        f"{round_url}results/",
        f"{round_url}disagreements/",
        f"{PROJECT}/grid/{network}/mixed3b/",
        f"/api/v1/networks/{network}/units/mixed3b:0/card/",
        f"/api/v1/networks/{network}/units/mixed3b:0/",
        f"{PROJECT}/events/",
        f"{PROJECT}/history/round/{labelling_round.pk}/",
        f"{PROJECT}/history/unit/{unit.pk}/",
        f"{PROJECT}/groups/{group.pk}/units/",
        f"{PROJECT}/exports/json/",
        f"{PROJECT}/exports/csv/",
        f"{PROJECT}/exports/html/",
        # One word of the note only: the search may repeat the words it was asked for.
        f"{PROJECT}/search/?q=thinks",
    ]


def _texts(client, urls):
    """``{url: (status, body as text)}``; downloads are streamed, so read by iterating."""
    return {
        url: (response.status_code, b"".join(response).decode("utf-8", "replace"))
        for url, response in ((url, client.get(url)) for url in urls)
    }


@pytest.mark.parametrize("reader", ["bob", "cy", "vic", "rev", "owner"])
def test_no_endpoint_shows_another_participants_notes(ada_labelled, layer, lines, people, reader):
    texts = _texts(client_for(people[reader]), _endpoints(ada_labelled, layer, lines))

    assert [url for url, (_, text) in texts.items() if SECRET in text] == []


def test_the_other_participant_reaches_every_endpoint_walked(ada_labelled, layer, lines, people):
    texts = _texts(client_for(people["bob"]), _endpoints(ada_labelled, layer, lines))

    assert [status for status, _ in texts.values()] == [
        200,
        200,
        200,
        403,
        403,
        200,
        200,
        200,
        200,
        200,
        200,
        200,
        200,
        200,
        200,
        200,
    ]


@pytest.mark.parametrize("reader", ["bob", "cy", "vic", "rev", "owner"])
def test_results_and_disagreements_are_hidden_while_the_round_is_open(ada_labelled, people, reader):
    client = client_for(people[reader])
    round_url = f"{PROJECT}/rounds/{ada_labelled.pk}/"

    results = client.get(f"{round_url}results/")
    disagreements = client.get(f"{round_url}disagreements/")

    assert (results.status_code, results.json()["code"]) == (403, "round_open")
    assert (disagreements.status_code, disagreements.json()["code"]) == (403, "round_open")


def test_the_other_participant_reads_only_their_own_labels(ada_labelled, people):
    response = client_for(people["bob"]).get(f"{PROJECT}/rounds/{ada_labelled.pk}/labels/")

    assert (response.status_code, response.json()) == (200, [])


@pytest.mark.parametrize("reader", ["cy", "vic", "rev", "owner"])
def test_non_participants_have_no_label_list(ada_labelled, people, reader):
    response = client_for(people[reader]).get(f"{PROJECT}/rounds/{ada_labelled.pk}/labels/")

    assert response.status_code == 403


@pytest.mark.parametrize("reader", ["bob", "cy", "vic"])
def test_round_detail_hides_another_participants_progress_and_scores(ada_labelled, people, reader):
    detail = client_for(people[reader]).get(f"{PROJECT}/rounds/{ada_labelled.pk}/").json()

    assert detail["participants"][0] == {"username": "ada", "submitted": False, "labelled": None}
    assert detail["agreement"] is None


@pytest.mark.parametrize("reader", ["rev", "owner"])
def test_owners_and_reviewers_see_progress_counts_only(ada_labelled, people, reader):
    detail = client_for(people[reader]).get(f"{PROJECT}/rounds/{ada_labelled.pk}/").json()

    assert detail["participants"] == [
        {"username": "ada", "submitted": False, "labelled": 4},
        {"username": "bob", "submitted": False, "labelled": 0},
    ]
    assert detail["agreement"] is None


def test_labels_put_no_unit_of_the_grid_in_a_group(ada_labelled, people, layer):
    grid = client_for(people["bob"]).get(f"{PROJECT}/grid/{layer.network.name}/mixed3b/").json()

    assert [unit["group"] for unit in grid["results"]] == [None, None, None, None]


def test_labels_leave_the_unit_card_without_a_group(ada_labelled, people, layer):
    card = client_for(people["bob"]).get(
        f"/api/v1/networks/{layer.network.name}/units/mixed3b:0/card/"
    )

    assert SECRET not in json.dumps(card.json())
    assert "Lines" not in json.dumps(card.json())


def test_saving_labels_writes_nothing_to_the_activity_feed(labelling_round, people, lines):
    client = client_for(people["bob"])
    before = client.get(f"{PROJECT}/events/").json()["results"]
    label_all(labelling_round, people["ada"], [lines.pk] * 4, note=SECRET)

    assert client.get(f"{PROJECT}/events/").json()["results"] == before


def test_once_closed_the_results_show_the_notes_to_the_other_participant(ada_labelled, people):
    # The same reading as above finds the note once the round is no longer blind.
    client_for(people["owner"]).post(f"{PROJECT}/rounds/{ada_labelled.pk}/close/")

    response = client_for(people["bob"]).get(f"{PROJECT}/rounds/{ada_labelled.pk}/results/")

    assert SECRET in b"".join(response).decode()
