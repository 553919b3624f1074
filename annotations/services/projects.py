"""Use cases that create and change projects and the networks they study."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from annotations.models import Membership, Project, ProjectNetwork, Role
from annotations.policies import authorize
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from server.concurrency import stale
from server.errors import Conflict, ValidationFailed


def project_create(*, slug, name, description="", actor):
    """Create a project; ``actor`` (a user, not the system) becomes its first owner."""
    if actor is None:
        raise ValueError("a project is created by a user, who becomes its owner")
    authorize(actor=actor, action="project.create", obj=None)
    _validate({"slug": slug, "name": name, "description": description})
    project = Project(slug=slug, name=name, description=description, created_by=actor)
    try:
        with transaction.atomic():
            project.save()
            Membership.objects.create(project=project, user=actor, role=Role.OWNER)
    except IntegrityError as error:
        raise Conflict(
            f"A project with the slug {slug!r} already exists.",
            code="slug_taken",
            fields={"slug": ["This slug is taken."]},
        ) from error
    return project


def project_update(
    *,
    project,
    actor,
    name=None,
    description=None,
    assignments_need_review=None,
    required_approvals=None,
    expected_version=None,
):
    """Change the name, description or review policy of ``project``; None leaves a field as it
    is. With ``expected_version`` (If-Match) the write happens only at that version."""
    authorize(actor=actor, action="project.update", obj=project)
    changes = {
        field: value
        for field, value in (
            ("name", name),
            ("description", description),
            ("assignments_need_review", assignments_need_review),
            ("required_approvals", required_approvals),
        )
        if value is not None
    }
    _validate(changes)
    if expected_version is not None and project.version != expected_version:
        project.refresh_from_db()
        if project.version != expected_version:
            raise stale("project", project.version)
    changed = [field for field, value in changes.items() if getattr(project, field) != value]
    if not changed:
        return project
    before = {field: getattr(project, field) for field in changed}
    rows = Project.objects.filter(pk=project.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    with transaction.atomic():
        if not rows.update(**changes, version=F("version") + 1):
            raise stale(
                "project", Project.objects.values_list("version", flat=True).get(pk=project.pk)
            )
        project.refresh_from_db(fields=[*changes, "version"])
        event_log(
            project,
            "project.updated",
            actor=actor,
            before=before,
            after={field: getattr(project, field) for field in changed},
        )
        project_changed(project_id=project.pk)
    return project


def project_network_link(*, project, network, actor):
    """Make ``network`` part of ``project``; linking it again changes nothing."""
    authorize(actor=actor, action="network.register", obj=project)
    link, _ = ProjectNetwork.objects.get_or_create(
        project=project, network=network, defaults={"added_by": actor}
    )
    return link


def _validate(values):
    """Check ``values`` against the Project fields' own rules (length, blank, slug format)."""
    fields = {}
    for field, value in values.items():
        try:
            Project._meta.get_field(field).clean(value, None)
        except ValidationError as error:
            fields[field] = error.messages
    if values.get("required_approvals", 1) < 1:
        fields["required_approvals"] = ["At least one approval accepts a hypothesis."]
    if fields:
        raise ValidationFailed("The project has invalid fields.", fields=fields)
