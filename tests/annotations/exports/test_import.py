"""Importing: the simple CSV, groups created as needed, a dry run, one import event with each
unit's history, and a second import of the same file changing nothing."""

import pytest

from annotations.models import Assignment, Event, Group
from annotations.selectors.events import history_of
from annotations.services.imports import taxonomy_import
from tests.annotations.exports.conftest import export_text, unit

pytestmark = pytest.mark.django_db

SIMPLE = """layer,unit,group,parent_group,description
mixed3b,0,Curve detectors,Curves,Curves of one orientation.
mixed3b,1,Curve detectors,Curves,
conv2d0,3,Color contrast,,Two colors.
conv2d1,4,Curves,,
"""


def state():
    return (
        list(Group.objects.order_by("pk").values_list("parent", "name", "description", "version")),
        list(Assignment.objects.order_by("pk").values_list("unit", "group", "assigned_by")),
        Event.objects.count(),
    )


def run(project, network, owner, content, format="csv", **options):
    return taxonomy_import(
        project=project, network=network, actor=owner, format=format, content=content, **options
    )


def test_the_simple_csv_creates_groups_with_parents_and_descriptions(project, network, owner):
    report = run(project, network, owner, SIMPLE)

    groups = {group.name: group for group in Group.objects.filter(project=project)}
    assert report["groups_created"] == ["Color contrast", "Curves", "Curves / Curve detectors"]
    assert groups["Curve detectors"].parent == groups["Curves"]
    assert groups["Curve detectors"].description == "Curves of one orientation."
    assert groups["Color contrast"].description == "Two colors."
    assert Assignment.objects.get(unit=unit(network, "conv2d1", 4)).group == groups["Curves"]
    assert report["units_assigned"] == 4


def test_a_dry_run_reports_the_changes_and_writes_nothing(project, network, owner, taxonomy):
    before = state()

    report = run(project, network, owner, "layer,unit,group\nmixed3b,0,Other units\n", dry_run=True)

    assert state() == before
    assert (report["dry_run"], report["changed"], report["event"]) == (True, True, None)
    assert report["unit_changes"] == [
        {"unit": "mixed3b:0", "from": "Curves / Curve detectors", "to": "Other units"}
    ]
    assert (report["units_moved"], report["units_assigned"]) == (1, 0)


def test_importing_the_same_file_twice_changes_nothing_the_second_time(project, network, owner):
    run(project, network, owner, SIMPLE)
    before = state()

    report = run(project, network, owner, SIMPLE)

    assert state() == before
    assert report["changed"] is False
    assert report["units_unchanged"] == 4


def test_importing_the_same_json_twice_changes_nothing_the_second_time(
    project, new_project, network, owner, taxonomy
):
    exported = export_text(project, network, "json")
    run(new_project, network, owner, exported, format="json")
    before = state()

    report = run(new_project, network, owner, exported, format="json")

    assert state() == before
    assert (report["changed"], report["hypotheses_unchanged"]) == (False, 2)


def test_an_apply_is_one_import_event_and_each_unit_history_shows_it(project, network, owner):
    report = run(project, network, owner, SIMPLE)

    imported = Event.objects.get(verb="taxonomy.imported")
    history = list(
        history_of(project=project, target_type="unit", target_id=unit(network, "mixed3b", 0).pk)
    )
    assert report["event"] == imported.pk
    assert imported.after["units_assigned"] == 4
    assert [(event.verb, event.after["import"]) for event in history] == [
        ("unit.assigned", imported.pk)
    ]
    assert Event.objects.filter(verb="taxonomy.imported").count() == 1


def test_units_the_file_leaves_out_keep_their_group(project, network, owner, taxonomy):
    run(project, network, owner, "layer,unit,group\nmixed3b,5,Other units\n")

    assert Assignment.objects.get(unit=unit(network, "mixed3b", 0)).group == taxonomy["detectors"]
    assert Assignment.objects.get(unit=unit(network, "mixed3b", 5)).group == taxonomy["other"]


def test_the_importer_becomes_who_assigned_a_simple_csv_unit(project, network, owner):
    run(project, network, owner, SIMPLE)

    assert set(Assignment.objects.values_list("assigned_by", "source")) == {(owner.pk, "import")}
