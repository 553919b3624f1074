"""The kinds of job a worker can run: how each validates its parameters and what it renders.

Each kind's ``run(job, network, artifacts, report)`` takes the claimed job, the loaded network,
an ``ArtifactBatch`` to add its outputs to and a progress reporter; it returns phase timings.
"""

from collections.abc import Callable
from dataclasses import dataclass

from server.errors import ValidationFailed


@dataclass(frozen=True)
class JobKind:
    name: str
    description: str
    clean_params: Callable
    run: Callable


def _field_error(field, message):
    return ValidationFailed(
        f"Invalid parameter {field}: {message}", fields={f"params.{field}": [message]}
    )


def _clean_first_layer_weights(params, *, network, layer):
    allowed = {"pixels_per_weight", "normalize"}
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise _field_error(unknown[0], f"unknown parameter; allowed: {', '.join(sorted(allowed))}")
    pixels = params.get("pixels_per_weight", 8)
    if isinstance(pixels, bool) or not isinstance(pixels, int) or not 1 <= pixels <= 64:
        raise _field_error("pixels_per_weight", "an integer from 1 to 64")
    normalize = params.get("normalize", "unit")
    if normalize not in {"unit", "layer"}:
        raise _field_error("normalize", "'unit' (each kernel to its own maximum) or 'layer'")
    if layer.order != 0:
        raise ValidationFailed(
            f"{layer.name} is not the first layer of {network.name}: only a layer computed "
            "directly from the image has RGB weights to show.",
            code="unsupported_layer",
            fields={"layer": ["Choose the network's first layer."]},
        )
    return {"pixels_per_weight": pixels, "normalize": normalize}


def _run_first_layer_weights(job, network, artifacts, report):
    from workers.renderers.first_layer import render_first_layer_weights

    return render_first_layer_weights(job, network, artifacts, report)


JOB_KINDS = {
    "first_layer_weights": JobKind(
        name="first_layer_weights",
        description="The first layer's kernels as RGB images, one per unit, and a sprite sheet.",
        clean_params=_clean_first_layer_weights,
        run=_run_first_layer_weights,
    ),
}
