"""Releases: frozen snapshots, exported in every format as they were; acceptance 4: the diff
after moving 10 units and renaming a group lists exactly those changes."""

import pytest

from annotations.models import Event, Release
from annotations.selectors.releases import release_diff, release_previous
from annotations.services.groups import group_update, units_assign
from annotations.services.releases import release_create
from server.errors import Conflict, PermissionDenied, ValidationFailed
from tests.annotations.exports.conftest import (
    comparable,
    comparable_csv,
    export_document,
    export_text,
)
from tests.factories.annotations import MembershipFactory

pytestmark = pytest.mark.django_db

# Ten units that change group: eight into "Other units", two out of it.
INTO_OTHER = ["mixed3b:0", "mixed3b:1", "mixed3b:2", "mixed3b:3", "conv2d0:1", "conv2d0:2"]
INTO_OTHER += ["conv2d1:5", "conv2d1:3"]
INTO_CONTRAST = ["conv2d0:7", "mixed3b:11"]


def move_ten_units(project, network, owner, taxonomy):
    for addresses, group in [(INTO_OTHER, "other"), (INTO_CONTRAST, "contrast")]:
        units_assign(
            project=project,
            network=network,
            addresses=addresses,
            group=taxonomy[group],
            actor=owner,
        )


def test_a_release_exports_as_it_was_frozen(project, network, owner, taxonomy):
    live_json, live_csv = export_document(project, network), export_text(project, network, "csv")
    release = release_create(project=project, actor=owner, name="v1", notes="First cut.")
    move_ten_units(project, network, owner, taxonomy)

    frozen = export_document(project, network, release=release)

    assert frozen["release"]["name"] == "v1"
    assert comparable({**frozen, "release": None}) == comparable(live_json)
    assert comparable_csv(export_text(project, network, "csv", release=release)) == (
        comparable_csv(live_csv)
    )
    assert "Release <strong>v1</strong>" in export_text(project, network, "html", release=release)


def test_the_diff_after_moving_10_units_and_renaming_a_group_lists_exactly_those(
    project, network, owner, taxonomy
):
    older = release_create(project=project, actor=owner, name="v1")
    move_ten_units(project, network, owner, taxonomy)
    detectors = taxonomy["detectors"]
    group_update(group=detectors, actor=owner, expected_version=1, name="Curve families")
    newer = release_create(project=project, actor=owner, name="v2")

    diff = release_diff(older=older, newer=newer)

    assert diff["groups"] == {
        "added": [],
        "removed": [],
        "renamed": [{"key": detectors.pk, "from": "Curve detectors", "to": "Curve families"}],
        "moved": [],
        "changed": [],
    }
    assert [(unit["unit"], unit["from"]["name"], unit["to"]["name"]) for unit in diff["units"]] == [
        ("conv2d0:1", "Color contrast", "Other units"),
        ("conv2d0:2", "Color contrast", "Other units"),
        ("conv2d0:7", "Other units", "Color contrast"),
        ("conv2d1:3", "Curves", "Other units"),
        ("conv2d1:5", "Color contrast", "Other units"),
        ("mixed3b:0", "Curve detectors", "Other units"),
        ("mixed3b:1", "Curve detectors", "Other units"),
        ("mixed3b:2", "Curve detectors", "Other units"),
        ("mixed3b:3", "Curve detectors", "Other units"),
        ("mixed3b:11", "Other units", "Color contrast"),
    ]
    assert diff["units"][5]["from"] == {
        "key": detectors.pk,
        "name": "Curve detectors",
        "path": "Curves / Curve detectors",
    }


def test_the_previous_release_is_the_one_made_just_before(project, owner, taxonomy):
    first = release_create(project=project, actor=owner, name="v1")
    second = release_create(project=project, actor=owner, name="v2")

    assert (release_previous(release=second), release_previous(release=first)) == (first, None)


def test_a_release_records_one_event_and_freezes_every_group_and_unit(project, owner, taxonomy):
    release = release_create(project=project, actor=owner, name="v1")

    event = Event.objects.get(verb="release.created")
    assert (release.groups.count(), release.assignments.count()) == (4, 11)
    assert (event.target_id, event.after) == (release.pk, {"name": "v1", "groups": 4, "units": 11})


def test_a_release_name_is_never_reused(project, owner, taxonomy):
    release_create(project=project, actor=owner, name="v1")

    with pytest.raises(Conflict) as raised:
        release_create(project=project, actor=owner, name="v1", notes="Again.")

    assert raised.value.code == "name_taken"
    assert Release.objects.get().notes == ""


def test_a_release_name_must_be_a_simple_name(project, owner):
    with pytest.raises(ValidationFailed):
        release_create(project=project, actor=owner, name="v1/final")

    assert not Release.objects.exists()


def test_only_owners_create_releases(project, owner):
    reviewer = MembershipFactory(project=project, role="reviewer").user

    with pytest.raises(PermissionDenied):
        release_create(project=project, actor=reviewer, name="v1")

    assert not Release.objects.exists()
