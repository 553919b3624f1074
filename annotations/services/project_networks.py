"""Adding a network that is already in the catalog to a project, so that a second team can
study it without registering it again under another name."""

from django.db import IntegrityError, transaction
from django.db.models import Q

from annotations.models import ProjectNetwork
from annotations.policies import authorize, networks_visible_to
from annotations.services.events import event_log
from annotations.services.grid_changes import project_changed
from server.errors import Conflict, UnknownReference, Unprocessable
from workers.models import Network


def project_network_add(*, project, network_name, actor):
    """Make the registered network called ``network_name`` part of ``project``. Owners only
    (a project setting). The network must be one ``actor`` may see: one of a project they
    belong to, or one they registered; any network for a superuser or the system
    (``actor=None``). Returns the new ``ProjectNetwork``."""
    authorize(actor=actor, action="project.update", obj=project)
    network = _visible_network(actor, network_name)
    try:
        with transaction.atomic():
            link = ProjectNetwork.objects.create(project=project, network=network, added_by=actor)
            event_log(
                project, "project.network_added", actor=actor, after={"network": network.name}
            )
            project_changed(project_id=project.pk)
    except IntegrityError as error:
        raise Conflict(
            f"The project already studies {network.name!r}.",
            code="already_linked",
            fields={"network": ["Already in this project."]},
        ) from error
    return link


def _visible_network(actor, name):
    networks = Network.objects.all()
    if actor is not None and not actor.is_superuser:
        networks = Network.objects.filter(
            Q(pk__in=networks_visible_to(actor).values("pk")) | Q(created_by=actor)
        )
    network = networks.filter(name=name).first()
    if network is None:
        # A network the actor may not see reads as no network at all.
        raise UnknownReference(
            f"No registered network {name!r} that you may add.",
            fields={"network": ["Unknown network."]},
        )
    if network.status == Network.Status.FAILED:
        raise Unprocessable(
            f"The network {name!r} failed its inspection; register it again first.",
            code="network_failed",
            fields={"network": ["Failed its inspection."]},
        )
    return network
