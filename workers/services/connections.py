"""The weights between two layers, for a caller in the web process: read from storage, or the
connections job that stores them requested (never computed here: DESIGN keeps torch out of
the web process)."""

from server.errors import Conflict, ValidationFailed
from workers.models import Job
from workers.selectors.connections import layer_connections
from workers.services.jobs import job_request


class WeightsPending(Conflict):
    """The weights are not stored yet; the connections job ``job`` is computing them. Ask
    again once it has finished (``GET /api/v1/jobs/<id>/``)."""

    code = "weights_pending"

    def __init__(self, job):
        super().__init__(
            f"The weights of {job.layer.name} from {job.params['source_layer']} are being "
            f"computed by job {job.pk} ({job.status}); ask again once it has finished.",
            fields={"job": [str(job.pk)]},
        )
        self.job = job


def connections_require(*, network, layer, source_layer=None, actor):
    """The stored weights into ``layer`` from ``source_layer`` (by default the layer before).

    When none are stored, the connections job is requested for ``actor`` (or the identical
    one already queued or running is found) and ``WeightsPending`` names it. A network whose
    weights cannot be located (TorchScript) or a first layer without ``source_layer`` is
    ``ValidationFailed`` with code ``weights_unavailable``, without loading the network.
    """
    if network.source == network.Source.TORCHSCRIPT:
        raise _unavailable(
            "Weights between units are read from built-in architectures only; this is a "
            "TorchScript network."
        )
    if source_layer is None:
        source_layer = network.layers.filter(order__lt=layer.order).order_by("-order").first()
        if source_layer is None:
            raise _unavailable(
                f"{layer.name} is computed from the image: its weights are RGB filters (the "
                "first_layer_weights job draws them)."
            )
    stored = layer_connections(layer=layer, source_layer=source_layer)
    if stored is not None:
        return stored
    job, _ = job_request(
        network=network,
        kind=Job.Kind.CONNECTIONS,
        layer_name=layer.name,
        params={"source_layer": source_layer.name},
        actor=actor,
    )
    if job.status == Job.Status.SUCCEEDED:
        # It finished between the read above and the request.
        stored = layer_connections(layer=layer, source_layer=source_layer)
        if stored is not None:
            return stored
    raise WeightsPending(job)


def _unavailable(reason):
    return ValidationFailed(
        f"The engine cannot compute these weights: {reason}",
        code="weights_unavailable",
        fields={"unit": [reason]},
    )
