"""Writers racing on the same units' counts, each in its own thread and transaction on
PostgreSQL: no increment is lost, none is counted twice, and overlapping unit sets taken in
opposite orders do not deadlock."""

import threading

import pytest
from django.db import connection

from annotations.services.comments import comment_post
from annotations.services.hypotheses import hypothesis_create, hypothesis_withdraw
from annotations.services.unit_counts import unit_counts_counted
from tests.annotations.services.test_unit_counts import Team, stored
from tests.factories.workers import LayerFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
    ),
]

WRITERS = 4
ROUNDS = 5


def _at_once(work):
    """Run ``work(position)`` in WRITERS threads released together; their errors, if any."""
    barrier = threading.Barrier(WRITERS)
    errors = []

    def run(position):
        try:
            barrier.wait(timeout=30)
            work(position)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(position,)) for position in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_racing_comments_and_hypotheses_on_the_same_units_all_count_exactly_once():
    layer = LayerFactory(name="mixed3b", channels=3)
    team = Team(layer, "early-vision")
    author = team.annotators[0]
    unit = layer.units.get(index=0)
    # Even writers name the units upwards, odd ones downwards.
    orders = [["mixed3b:0", "mixed3b:1", "mixed3b:2"], ["mixed3b:2", "mixed3b:1", "mixed3b:0"]]

    def write(position):
        comment_post(
            project=team.project,
            target_type="unit",
            target_id=unit.pk,
            body="Me too.",
            actor=author,
        )
        hypothesis = hypothesis_create(
            project=team.project,
            network=layer.network,
            title=f"Writer {position}",
            units=orders[position % 2],
            actor=author,
        )
        if position % 2:
            hypothesis_withdraw(hypothesis=hypothesis, expected_version=1, actor=author)

    for _ in range(ROUNDS):
        assert _at_once(write) == []

    expected_open = ROUNDS * WRITERS // 2
    assert stored(team.project) == unit_counts_counted(project_id=team.project.pk)
    assert stored(team.project)[unit.pk] == {
        "comments": ROUNDS * WRITERS,
        "open_hypotheses": expected_open,
    }
