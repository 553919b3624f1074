import pytest

from annotations.models import Event, Project, Role
from annotations.services.projects import project_update
from server.errors import PermissionDenied, ValidationFailed, VersionConflict
from tests.factories.annotations import MembershipFactory, ProjectFactory

pytestmark = pytest.mark.django_db


def test_owner_changes_name_and_description_and_the_version_goes_up():
    owner = MembershipFactory(role=Role.OWNER, project__name="Curves", project__version=3)

    project = project_update(
        project=owner.project, actor=owner.user, name="Curve detectors", description="3b"
    )

    assert (project.name, project.description, project.version) == ("Curve detectors", "3b", 4)
    assert Project.objects.values_list("name", "description", "version").get() == (
        "Curve detectors",
        "3b",
        4,
    )


def test_fields_left_out_keep_their_value():
    owner = MembershipFactory(role=Role.OWNER, project__name="Curves", project__description="3b")

    project_update(project=owner.project, actor=owner.user, description="")

    assert Project.objects.values_list("name", "description").get() == ("Curves", "")


def test_reviewer_may_not_change_the_project():
    reviewer = MembershipFactory(role=Role.REVIEWER, project__name="Curves")

    with pytest.raises(PermissionDenied) as raised:
        project_update(project=reviewer.project, actor=reviewer.user, name="Mine")

    assert raised.value.detail == "Your role does not allow project.update."
    assert Project.objects.values_list("name", "version").get() == ("Curves", 1)


def test_blank_name_fails_validation_and_changes_nothing():
    owner = MembershipFactory(role=Role.OWNER, project__name="Curves")

    with pytest.raises(ValidationFailed) as raised:
        project_update(project=owner.project, actor=owner.user, name="")

    assert raised.value.fields == {"name": ["This field cannot be blank."]}
    assert Project.objects.values_list("name", "version").get() == ("Curves", 1)


def test_the_system_may_change_any_project():
    project = ProjectFactory(name="Curves")

    project_update(project=project, actor=None, name="Curve detectors")

    assert Project.objects.values_list("name", flat=True).get() == "Curve detectors"


def test_owner_changes_the_review_policy_at_the_version_read_and_an_event_is_written():
    owner = MembershipFactory(role=Role.OWNER, project__version=3)

    project_update(
        project=owner.project,
        actor=owner.user,
        assignments_need_review=True,
        required_approvals=2,
        expected_version=3,
    )

    assert Project.objects.values_list(
        "assignments_need_review", "required_approvals", "version"
    ).get() == (True, 2, 4)
    assert list(
        Event.objects.values_list("verb", "actor", "target_type", "target_id", "before", "after")
    ) == [
        (
            "project.updated",
            owner.user.pk,
            "project",
            owner.project.pk,
            {"assignments_need_review": False, "required_approvals": 1},
            {"assignments_need_review": True, "required_approvals": 2},
        )
    ]


def test_a_stale_expected_version_is_a_version_conflict_and_changes_nothing():
    owner = MembershipFactory(role=Role.OWNER, project__version=3)

    with pytest.raises(VersionConflict) as raised:
        project_update(
            project=owner.project,
            actor=owner.user,
            assignments_need_review=True,
            expected_version=2,
        )

    assert raised.value.fields == {"current_version": ["3"]}
    assert Project.objects.values_list("assignments_need_review", "version").get() == (False, 3)
    assert not Event.objects.exists()


def test_zero_required_approvals_fails_validation():
    owner = MembershipFactory(role=Role.OWNER)

    with pytest.raises(ValidationFailed) as raised:
        project_update(project=owner.project, actor=owner.user, required_approvals=0)

    assert raised.value.fields == {
        "required_approvals": ["At least one approval accepts a hypothesis."]
    }
    assert Project.objects.values_list("required_approvals", "version").get() == (1, 1)


def test_a_rename_is_recorded_with_before_and_after():
    owner = MembershipFactory(role=Role.OWNER, project__name="Curves")

    project_update(project=owner.project, actor=owner.user, name="Curve detectors")

    assert list(Event.objects.values_list("verb", "before", "after")) == [
        ("project.updated", {"name": "Curves"}, {"name": "Curve detectors"})
    ]
