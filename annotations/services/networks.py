"""Bringing a network into a project: register it in the catalog and link it, all or nothing."""

from django.core.files.storage import default_storage
from django.db import transaction

from annotations.policies import authorize
from annotations.services.projects import project_network_link
from workers.services.networks import BUNDLED_PREFIX, network_register, network_register_request


def project_network_register(*, project, actor, **network_fields):
    """Register a network (see ``workers.services.networks.network_register`` for the fields)
    and add it to ``project``; a failure at any step leaves neither rows nor files behind."""
    if project is not None:
        authorize(actor=actor, action="network.register", obj=project)
    with transaction.atomic():
        network = network_register(actor=actor, **network_fields)
        _link(project=project, network=network, actor=actor)
    return network


def project_network_request(*, project, actor, **network_fields):
    """Ask for a network to be registered (see ``workers.services.networks.
    network_register_request``) and add it to ``project`` at once; a worker's job measures its
    layers. Returns ``(network, job)``; a failure leaves neither rows nor files behind."""
    authorize(actor=actor, action="network.register", obj=project)
    with transaction.atomic():
        network, job = network_register_request(actor=actor, **network_fields)
        _link(project=project, network=network, actor=actor)
    return network, job


def _link(*, project, network, actor):
    try:
        if project is not None:
            project_network_link(project=project, network=network, actor=actor)
    except BaseException:
        if network.weights and not network.weights.startswith(BUNDLED_PREFIX):
            default_storage.delete(network.weights)
        raise
