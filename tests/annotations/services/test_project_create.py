import pytest

from annotations.models import Membership, Project, Role
from annotations.services.projects import project_create
from server.errors import Conflict, PermissionDenied, ValidationFailed
from tests.factories.annotations import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_creates_the_project_with_the_actor_as_its_only_owner():
    actor = UserFactory()

    project = project_create(
        slug="early-vision", name="Early Vision", description="mixed3a", actor=actor
    )

    project.refresh_from_db()
    assert (project.slug, project.name, project.description) == (
        "early-vision",
        "Early Vision",
        "mixed3a",
    )
    assert (project.created_by, project.version) == (actor, 1)
    assert list(Membership.objects.values_list("project", "user", "role")) == [
        (project.pk, actor.pk, Role.OWNER)
    ]


def test_malformed_slug_and_blank_name_fail_validation_and_create_nothing():
    with pytest.raises(ValidationFailed) as raised:
        project_create(slug="Early Vision!", name="", actor=UserFactory())

    assert raised.value.code == "invalid"
    assert raised.value.fields == {
        "slug": ["Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."],
        "name": ["This field cannot be blank."],
    }
    assert not Project.objects.exists()
    assert not Membership.objects.exists()


def test_taken_slug_is_a_conflict_and_leaves_the_existing_project_alone():
    existing = ProjectFactory(slug="curves", name="Curves")
    actor = UserFactory()

    with pytest.raises(Conflict) as raised:
        project_create(slug="curves", name="Other curves", actor=actor)

    assert (raised.value.code, raised.value.fields) == (
        "slug_taken",
        {"slug": ["This slug is taken."]},
    )
    assert list(Project.objects.values_list("pk", "name")) == [(existing.pk, "Curves")]
    assert not Membership.objects.filter(user=actor).exists()


def test_inactive_user_may_not_create_a_project():
    with pytest.raises(PermissionDenied):
        project_create(slug="curves", name="Curves", actor=UserFactory(is_active=False))

    assert not Project.objects.exists()


def test_the_system_cannot_create_a_project_without_an_owner():
    with pytest.raises(ValueError, match="created by a user"):
        project_create(slug="curves", name="Curves", actor=None)

    assert not Project.objects.exists()
