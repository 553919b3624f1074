"""Use cases that create and change projects and the networks they study."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from annotations.models import Membership, Project, ProjectNetwork, Role
from annotations.policies import authorize
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


def project_update(*, project, actor, name=None, description=None):
    """Change the name or description of ``project``; None leaves a field as it is."""
    authorize(actor=actor, action="project.update", obj=project)
    changes = {
        field: value
        for field, value in (("name", name), ("description", description))
        if value is not None
    }
    _validate(changes)
    Project.objects.filter(pk=project.pk).update(**changes, version=F("version") + 1)
    project.refresh_from_db(fields=[*changes, "version"])
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
    if fields:
        raise ValidationFailed("The project has invalid fields.", fields=fields)
