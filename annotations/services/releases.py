"""Freezing the taxonomy as a release: a named, immutable snapshot with notes."""

import itertools
import re

from django.db import transaction
from django.urls import reverse

from annotations.models import (
    Assignment,
    Group,
    Project,
    Release,
    ReleaseAssignment,
    ReleaseGroup,
    Webhook,
)
from annotations.policies import authorize
from annotations.selectors.export_documents import circuit_documents, link_documents
from annotations.selectors.exports import CHUNK_SIZE, hypothesis_documents
from annotations.selectors.notifications import site_url
from annotations.selectors.rounds import round_documents
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from annotations.services.webhooks import webhooks_emit
from server.errors import Conflict, ValidationFailed
from workers.models import Network

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$")


def release_create(*, project, actor, name, notes=""):
    """Freeze the project's groups, every unit's group, the hypotheses, the circuits, the
    confirmed universality links and the closed labelling rounds' agreement as release ``name``
    (letters, digits, ``.``, ``_``, ``-``; unique in the project)."""
    authorize(actor=actor, action="release.create", obj=project)
    name = str(name).strip()
    if not NAME.fullmatch(name):
        raise ValidationFailed(
            "A release name is 1-60 letters, digits, '.', '_' or '-', starting with a letter "
            "or digit (like v1 or 2026-11.1).",
            fields={"name": ["Not a release name."]},
        )
    with transaction.atomic():
        # The tree lock: no group appears or disappears while the snapshot is taken.
        Project.objects.select_for_update().get(pk=project.pk)
        if Release.objects.filter(project=project, name=name).exists():
            raise Conflict(
                f"This project already has a release {name!r}; releases never change, so pick "
                "another name.",
                code="name_taken",
                fields={"name": ["Taken."]},
            )
        networks = Network.objects.filter(project_links__project=project).order_by("name")
        release = Release.objects.create(
            project=project,
            name=name,
            notes=notes,
            created_by=actor,
            hypotheses={
                network.name: hypothesis_documents(project=project, network=network)
                for network in networks
            },
            circuits={
                network.name: circuit_documents(project=project, network=network)
                for network in networks
            },
            links=link_documents(project=project),
            rounds={
                network.name: round_documents(project=project, network=network)
                for network in networks
            },
        )
        groups = ReleaseGroup.objects.bulk_create(
            ReleaseGroup(
                release=release,
                key=group.pk,
                parent_key=group.parent_id,
                name=group.name,
                description=group.description,
                color=group.color,
                order=group.order,
                layer_id=group.layer_id,
            )
            for group in Group.objects.filter(project=project).order_by("pk")
        )
        rows = (
            Assignment.objects.filter(project=project)
            .order_by("unit_id")
            .values_list("unit_id", "group_id", "note", "assigned_by__username", "assigned_at")
            .iterator(chunk_size=CHUNK_SIZE)
        )
        units = 0
        while batch := list(itertools.islice(rows, CHUNK_SIZE)):
            ReleaseAssignment.objects.bulk_create(
                ReleaseAssignment(
                    release=release,
                    unit_id=unit_id,
                    group_key=group_id,
                    note=note,
                    assigned_by=username or "",
                    assigned_at=assigned_at,
                )
                for unit_id, group_id, note, username, assigned_at in batch
            )
            units += len(batch)
        event_log(
            release,
            "release.created",
            actor=actor,
            project=project,
            after={"name": release.name, "groups": len(groups), "units": units},
        )
        project_changed(project_id=project.pk)
        webhooks_emit(
            project=project,
            event_type=Webhook.EventType.RELEASE_MADE,
            data={
                "release": {
                    "name": release.name,
                    "notes": release.notes,
                    "created_by": actor.username if actor is not None else None,
                    "groups": len(groups),
                    "units": units,
                    "api_url": site_url(
                        reverse(
                            "annotations-api:release-detail",
                            kwargs={"slug": project.slug, "name": release.name},
                        )
                    ),
                }
            },
        )
    return release
