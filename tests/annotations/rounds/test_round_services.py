import pytest

from annotations.models import (
    Assignment,
    Event,
    Group,
    LabellingRound,
    RoundLabel,
    RoundParticipant,
    RoundUnit,
)
from annotations.services.round_decisions import round_agreed_apply, round_unit_decide
from annotations.services.rounds import round_close, round_open, round_submit
from server.errors import (
    Conflict,
    InvalidTransition,
    PermissionDenied,
    UnknownReference,
    ValidationFailed,
)
from tests.annotations.rounds.conftest import label_all

pytestmark = pytest.mark.django_db


def _closed(labelling_round, people, curves, lines):
    """ada and bob agree on units 0 (Curves) and 1 (Lines), disagree on 2 and 3."""
    label_all(labelling_round, people["ada"], [curves.pk, lines.pk, curves.pk, None])
    label_all(labelling_round, people["bob"], [curves.pk, lines.pk, lines.pk, curves.pk])
    round_submit(labelling_round=labelling_round, actor=people["ada"])
    return round_submit(labelling_round=labelling_round, actor=people["bob"])


def test_open_creates_a_round_on_every_unit_of_the_layer(labelling_round, curves, lines):
    assert labelling_round.status == LabellingRound.Status.OPEN
    assert labelling_round.groups == [
        {"id": curves.pk, "name": "Curves"},
        {"id": lines.pk, "name": "Lines"},
    ]
    assert sorted(RoundUnit.objects.values_list("unit__index", flat=True)) == [0, 1, 2, 3]
    assert sorted(RoundParticipant.objects.values_list("user__username", flat=True)) == [
        "ada",
        "bob",
    ]


def test_open_writes_an_event_naming_participants_and_units(labelling_round):
    event = Event.objects.get(verb="round.opened")

    assert (event.target_type, event.target_id) == ("round", labelling_round.pk)
    assert event.after["participants"] == ["ada", "bob"]
    assert event.after["units"] == 4


def test_open_on_an_explicit_set_of_units(project, layer, people, curves):
    labelling_round = round_open(
        project=project,
        network=layer.network,
        units=["mixed3b:1", "mixed3b:3"],
        title="two units",
        participants=["ada", "bob", "cy"],
        group_ids=[curves.pk],
        actor=people["rev"],
    )

    assert sorted(labelling_round.units.values_list("unit__index", flat=True)) == [1, 3]


def test_open_refuses_a_viewer_as_participant_and_creates_nothing(project, layer, people, curves):
    with pytest.raises(UnknownReference) as error:
        round_open(
            project=project,
            network=layer.network,
            layer=layer,
            title="r",
            participants=["ada", "vic"],
            group_ids=[curves.pk],
            actor=people["owner"],
        )

    assert error.value.fields == {"participants.1": ["'vic' is not a member who may annotate."]}
    assert not LabellingRound.objects.exists()


def test_annotator_may_not_open_a_round(project, layer, people, curves):
    with pytest.raises(PermissionDenied):
        round_open(
            project=project,
            network=layer.network,
            layer=layer,
            title="r",
            participants=["ada", "bob"],
            group_ids=[curves.pk],
            actor=people["ada"],
        )

    assert not LabellingRound.objects.exists()
    assert not Event.objects.filter(verb="round.opened").exists()


def test_saving_a_unit_again_replaces_its_label_and_writes_no_event(
    labelling_round, people, curves, lines
):
    events = Event.objects.count()
    label_all(labelling_round, people["ada"], [curves.pk], note="first")
    label_all(labelling_round, people["ada"], [lines.pk], note="second")

    assert list(RoundLabel.objects.values_list("unit__index", "group_id", "note")) == [
        (0, lines.pk, "second")
    ]
    assert Event.objects.count() == events


def test_non_participant_may_not_label(labelling_round, people, curves):
    with pytest.raises(PermissionDenied):
        label_all(labelling_round, people["cy"], [curves.pk])

    assert not RoundLabel.objects.exists()


def test_label_outside_the_rounds_groups_is_refused(labelling_round, people, project):
    other_group = Group.objects.create(project=project, name="Textures")
    with pytest.raises(ValidationFailed) as error:
        label_all(labelling_round, people["ada"], [other_group.pk])

    assert error.value.fields == {"labels.0.group": ["Not one of the round's groups."]}
    assert not RoundLabel.objects.exists()


def test_submit_refuses_until_every_unit_is_labelled(labelling_round, people, curves):
    label_all(labelling_round, people["ada"], [curves.pk, curves.pk])

    with pytest.raises(Conflict) as error:
        round_submit(labelling_round=labelling_round, actor=people["ada"])

    assert error.value.code == "round_incomplete"
    assert RoundParticipant.objects.get(user=people["ada"]).submitted_at is None


def test_labels_are_frozen_after_submitting(labelling_round, people, curves, lines):
    label_all(labelling_round, people["ada"], [curves.pk] * 4)
    round_submit(labelling_round=labelling_round, actor=people["ada"])

    with pytest.raises(InvalidTransition):
        label_all(labelling_round, people["ada"], [lines.pk])

    assert set(RoundLabel.objects.values_list("group_id", flat=True)) == {curves.pk}


def test_first_submission_leaves_the_round_open(labelling_round, people, curves):
    label_all(labelling_round, people["ada"], [curves.pk] * 4)

    labelling_round = round_submit(labelling_round=labelling_round, actor=people["ada"])

    assert labelling_round.status == LabellingRound.Status.OPEN
    assert labelling_round.agreement is None


def test_last_submission_closes_the_round_with_its_agreement(
    labelling_round, people, curves, lines
):
    labelling_round = _closed(labelling_round, people, curves, lines)

    assert labelling_round.status == LabellingRound.Status.CLOSED
    assert labelling_round.closed_by == people["bob"]
    # Confusion (rows ada, columns bob; Curves, Lines, other): [[1,1,0],[0,1,0],[1,0,0]].
    assert labelling_round.agreement["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]
    assert labelling_round.agreement["percent_agreement"] == 0.5
    # po = .5, pe = (2/4 * 2/4) + (1/4 * 2/4) + (1/4 * 0) = .375, kappa = .125 / .625 = .2.
    assert labelling_round.agreement["cohen_kappa"] == pytest.approx(0.2)
    assert Event.objects.get(verb="round.closed").after["reason"] == "all_submitted"


def test_owner_closes_early_with_missing_labels(labelling_round, people, curves):
    label_all(labelling_round, people["ada"], [curves.pk] * 4)
    label_all(labelling_round, people["bob"], [curves.pk, curves.pk])

    labelling_round = round_close(labelling_round=labelling_round, actor=people["owner"])

    assert labelling_round.status == LabellingRound.Status.CLOSED
    assert labelling_round.agreement["units"] == 4
    assert labelling_round.agreement["units_complete"] == 2
    assert Event.objects.get(verb="round.closed").after["reason"] == "closed_early"


def test_reviewer_may_not_close_a_round(labelling_round, people):
    with pytest.raises(PermissionDenied):
        round_close(labelling_round=labelling_round, actor=people["rev"])

    labelling_round.refresh_from_db()
    assert labelling_round.status == LabellingRound.Status.OPEN
    assert not Event.objects.filter(verb="round.closed").exists()


def test_closing_a_closed_round_is_an_invalid_transition(labelling_round, people):
    round_close(labelling_round=labelling_round, actor=people["owner"])

    with pytest.raises(InvalidTransition):
        round_close(labelling_round=labelling_round, actor=people["owner"])

    assert Event.objects.filter(verb="round.closed").count() == 1


def test_decision_becomes_an_assignment_credited_to_the_round(
    labelling_round, people, curves, lines
):
    labelling_round = _closed(labelling_round, people, curves, lines)

    changed = round_unit_decide(
        labelling_round=labelling_round, unit="mixed3b:2", group_id=lines.pk, actor=people["rev"]
    )

    assignment = Assignment.objects.get()
    assert changed == 1
    assert (assignment.unit.index, assignment.group, assignment.source) == (
        2,
        lines,
        Assignment.Source.ROUND,
    )
    event = Event.objects.get(verb="unit.assigned")
    assert event.after["round"] == labelling_round.pk
    assert event.after["source"] == "round"
    assert Event.objects.get(verb="round.unit_decided").after["unit"] == "mixed3b:2"


def test_decision_of_other_assigns_nothing(labelling_round, people, curves, lines):
    labelling_round = _closed(labelling_round, people, curves, lines)

    changed = round_unit_decide(
        labelling_round=labelling_round, unit="mixed3b:3", group_id=None, actor=people["rev"]
    )

    assert changed == 0
    assert not Assignment.objects.exists()
    assert RoundUnit.objects.get(unit__index=3).decided


def test_deciding_a_unit_twice_is_refused(labelling_round, people, curves, lines):
    labelling_round = _closed(labelling_round, people, curves, lines)
    round_unit_decide(
        labelling_round=labelling_round, unit="mixed3b:2", group_id=lines.pk, actor=people["rev"]
    )

    with pytest.raises(InvalidTransition) as error:
        round_unit_decide(
            labelling_round=labelling_round,
            unit="mixed3b:2",
            group_id=curves.pk,
            actor=people["rev"],
        )

    assert error.value.code == "already_decided"
    assert Assignment.objects.get().group == lines


def test_deciding_an_agreed_unit_is_refused(labelling_round, people, curves, lines):
    labelling_round = _closed(labelling_round, people, curves, lines)

    with pytest.raises(InvalidTransition) as error:
        round_unit_decide(
            labelling_round=labelling_round,
            unit="mixed3b:0",
            group_id=lines.pk,
            actor=people["rev"],
        )

    assert error.value.code == "not_disputed"
    assert not Assignment.objects.exists()


def test_annotator_may_not_decide(labelling_round, people, curves, lines):
    labelling_round = _closed(labelling_round, people, curves, lines)

    with pytest.raises(PermissionDenied):
        round_unit_decide(
            labelling_round=labelling_round,
            unit="mixed3b:2",
            group_id=lines.pk,
            actor=people["ada"],
        )

    assert not Assignment.objects.exists()
    assert not RoundUnit.objects.filter(decided=True).exists()


def test_nobody_decides_while_the_round_is_open(labelling_round, people, lines):
    with pytest.raises(PermissionDenied):
        round_unit_decide(
            labelling_round=labelling_round,
            unit="mixed3b:2",
            group_id=lines.pk,
            actor=people["owner"],
        )

    assert not Assignment.objects.exists()


def test_apply_agreed_assigns_the_units_everyone_agreed_on(labelling_round, people, curves, lines):
    labelling_round = _closed(labelling_round, people, curves, lines)

    decided, changed = round_agreed_apply(labelling_round=labelling_round, actor=people["rev"])

    assert (decided, changed) == (2, 2)
    assert sorted(Assignment.objects.values_list("unit__index", "group__name", "source")) == [
        (0, "Curves", "round"),
        (1, "Lines", "round"),
    ]
    assert Event.objects.filter(verb="unit.assigned", after__round=labelling_round.pk).count() == 2
    assert not RoundUnit.objects.filter(unit__index__in=[2, 3], decided=True).exists()
