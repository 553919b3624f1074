"""Bringing a network into a project: register it in the catalog and link it, all or nothing."""

from django.core.files.storage import default_storage
from django.db import transaction

from annotations.policies import authorize
from annotations.services.projects import project_network_link
from workers.services.networks import BUNDLED_PREFIX, network_register


def project_network_register(*, project, actor, **network_fields):
    """Register a network (see ``workers.services.networks.network_register`` for the fields)
    and add it to ``project``; a failure at any step leaves neither rows nor files behind."""
    if project is not None:
        authorize(actor=actor, action="network.register", obj=project)
    with transaction.atomic():
        network = network_register(actor=actor, **network_fields)
        try:
            if project is not None:
                project_network_link(project=project, network=network, actor=actor)
        except BaseException:
            if network.weights and not network.weights.startswith(BUNDLED_PREFIX):
                default_storage.delete(network.weights)
            raise
    return network
