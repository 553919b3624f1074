"""Reading the catalog, always through what the user may see."""

from django.db.models import Count

from server.errors import NotFound, ValidationFailed
from workers import access
from workers.addresses import MalformedAddress, UnitAddress
from workers.models import Layer, Unit


def networks_for_user(*, user):
    return (
        access.networks_visible_to(user)
        .annotate(layer_count=Count("layers", distinct=True))
        .order_by("name")
    )


def network_get_for_user(*, user, name, action="network.view"):
    """The network called ``name`` if the user may ``action`` it; 404 when missing or hidden."""
    network = access.networks_visible_to(user).filter(name=name).first()
    if network is None or not access.can(user, action, network):
        raise NotFound(f"No network named {name!r}.")
    return network


def layers_of(*, network):
    return Layer.objects.filter(network=network).order_by("order")


def layer_get(*, network, name):
    layer = Layer.objects.filter(network=network, name=name).first()
    if layer is None:
        raise NotFound(f"Network {network.name} has no layer {name!r}.", code="unknown_layer")
    return layer


def units_of(*, network):
    # Layers are created in forward order, so their ids sort like their order; sorting by the
    # id lets the (layer, index) index serve a page instead of sorting every unit of the net.
    return (
        Unit.objects.filter(network=network).select_related("layer").order_by("layer_id", "index")
    )


def parse_unit_address(address):
    """``"mixed3b:379"`` → ``("mixed3b", 379)``, as the papers write units."""
    try:
        parsed = UnitAddress.parse(address)
    except MalformedAddress as error:
        raise ValidationFailed(
            str(error), fields={"address": ["Expected '<layer>:<index>'."]}
        ) from None
    return parsed.layer, parsed.index


def unit_get(*, network, address):
    """The unit a URL names; an address that names no unit, malformed or not, is a 404."""
    try:
        layer_name, index = parse_unit_address(address)
    except ValidationFailed:
        raise NotFound(
            f"{address!r} names no unit of {network.name}; write a unit like 'mixed3b:379'.",
            code="unknown_unit",
        ) from None
    unit = (
        Unit.objects.select_related("layer")
        .filter(network=network, layer__name=layer_name, index=index)
        .first()
    )
    if unit is None:
        raise NotFound(f"Network {network.name} has no unit {address}.", code="unknown_unit")
    return unit
