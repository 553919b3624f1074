"""The kinds of job a worker can run: the parameters each accepts and what it renders.

Each kind's ``run(job, network, artifacts, report)`` takes the claimed job, the loaded network,
an ``ArtifactBatch`` to add its outputs to and a progress reporter; it returns phase timings.
Parameters are validated and completed with their defaults here, at request time, so that two
requests meaning the same thing hash the same and reuse one job.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from server.errors import UnknownReference, Unprocessable, ValidationFailed


@dataclass(frozen=True)
class Param:
    """One job parameter: its type, default and allowed values."""

    kind: type
    default: object
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    help: str = ""

    def clean(self, name, value):
        if isinstance(value, str) and "\x00" in value:
            raise _field_error(name, "no NUL characters")
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if isinstance(value, bool) != (self.kind is bool) or not isinstance(value, self.kind):
            raise _field_error(name, f"must be {self.kind.__name__}; {self.help}".rstrip("; "))
        if self.choices and value not in self.choices:
            raise _field_error(name, f"one of {', '.join(map(str, self.choices))}")
        if self.minimum is not None and value < self.minimum:
            raise _field_error(name, f"at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise _field_error(name, f"at most {self.maximum}")
        return value


@dataclass(frozen=True)
class JobKind:
    name: str
    description: str
    params: dict[str, Param]
    run: Callable
    check: Callable = field(default=lambda params, network, layer: None)
    # Refuses an actor who may not read what the parameters name (another network, a
    # dataset) with the answer a missing one gets; runs before ``check`` looks inside them.
    authorize: Callable = field(default=lambda params, actor: None)
    # False for a job the system creates itself (inspect_network), never POST /jobs/.
    requestable: bool = True
    # False for a job that must not load the network into the worker (inspect_network).
    loads_network: bool = True
    # True for a kind that may be requested without a layer: one job over several layers of
    # the network (those its ``layers`` parameter names, by default every studied layer),
    # writing each layer's artifacts as a job on that layer alone writes them.
    covers_layers: bool = False

    def clean_params(self, params, *, network, layer, actor=None):
        """The parameters typed and completed with defaults, every object they name authorized
        for ``actor`` (None: the system itself), then checked against the network."""
        if not isinstance(params, dict):
            raise ValidationFailed("params must be an object.", fields={"params": ["An object."]})
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            allowed = ", ".join(sorted(self.params))
            raise _field_error(unknown[0], f"unknown parameter; allowed: {allowed}")
        cleaned = {
            name: spec.clean(name, params[name]) if name in params else spec.default
            for name, spec in self.params.items()
        }
        if actor is not None:
            self.authorize(cleaned, actor)
        self.check(cleaned, network, layer)
        return cleaned


def _field_error(name, message, error=Unprocessable):
    # ``params`` is an open object in the API's schema, so a parameter this kind does not take
    # or a value it refuses fits the schema: 422, not 400.
    return error(f"Invalid parameter {name}: {message}", fields={f"params.{name}": [message]})


def _unknown(name, message):
    return _field_error(name, message, error=UnknownReference)


def _first_layer_only(params, network, layer):
    if layer.order != 0:
        raise Unprocessable(
            f"{layer.name} is not the first layer of {network.name}: only a layer computed "
            "directly from the image has RGB weights to show.",
            code="unsupported_layer",
            fields={"layer": ["Choose the network's first layer."]},
        )


def _check_feature_visualization(params, network, layer):
    if params["transforms"] is None:
        # Resolved at request time, so that the job says what it ran and two requests that
        # mean the same render share a job.
        params["transforms"] = layer.order != 0
    if params["objective"] != "diversity":
        params["diversity"] = 0
    elif params["diversity"] < 2:
        raise _field_error("diversity", "at least 2 images per unit for objective diversity")


def _known_dataset(params, network, layer):
    from workers.models import Dataset

    name = params["dataset"]
    if name != "demo" and not Dataset.objects.filter(name=name).exists():
        raise _unknown_dataset(name)


ALL_LAYERS = "all"


def _known_dataset_and_layers(params, network, layer):
    """The dataset exists; ``layers`` spelled one way per choice, so that two requests for the
    same layers are one job. On a job with a layer, ``layers`` may only name that layer and is
    dropped (a job on one layer hashes as before the parameter existed); on a job without one,
    '' and 'all' are every studied layer, and a list is put in the network's layer order."""
    _known_dataset(params, network, layer)
    chosen = [name.strip() for name in params["layers"].split(",") if name.strip()]
    if layer is not None:
        if chosen not in ([], [layer.name]):
            raise _field_error("layers", f"a job on {layer.name} covers that layer only")
        del params["layers"]
        return
    if chosen in ([], [ALL_LAYERS]):
        params["layers"] = ALL_LAYERS
        return
    names = list(network.layers.order_by("order").values_list("name", flat=True))
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise _unknown("layers", f"{network.name} has no layer {unknown[0]!r}")
    ordered = [name for name in names if name in chosen]
    params["layers"] = ALL_LAYERS if len(ordered) == len(names) else ",".join(ordered)


def layers_of_job(job):
    """The catalog layers a job covers, in network order: its layer, or for a job without one
    (``covers_layers``) those its ``layers`` parameter names."""
    if job.layer is not None:
        return [job.layer]
    layers = job.network.layers.order_by("order")
    if job.params.get("layers", ALL_LAYERS) != ALL_LAYERS:
        layers = layers.filter(name__in=job.params["layers"].split(","))
    return list(layers)


def _unknown_dataset(name):
    # One answer for a dataset that does not exist and one the actor may not use.
    return _unknown("dataset", f"no dataset {name!r}; use 'demo' or register a folder")


def _earlier_source_layer(params, network, layer):
    if layer.order == 0:
        raise Unprocessable(
            f"{layer.name} reads the image: its weights are RGB filters; use the "
            "first_layer_weights job.",
            code="unsupported_layer",
            fields={"layer": ["The first layer has no previous layer."]},
        )
    source = params["source_layer"]
    if source and not network.layers.filter(name=source, order__lt=layer.order).exists():
        raise _unknown("source_layer", f"no layer {source!r} before {layer.name}")


def _spatial_source_layer(params, network, layer):
    """A weights job reads, by default, the nearest earlier layer whose kernels into this one
    are spatial: its receptive field is smaller than this layer's. Between layers of one
    receptive field (a 1×1 convolution) every kernel is a single weight, drawn as one solid
    square; the expanded weights reach back through such layers to where the kernels have
    extent (a block's output: to the layer before its 3×3 depthwise convolution). Without
    receptive fields in the catalog (TorchScript), the previous layer."""
    _earlier_source_layer(params, network, layer)
    if params["source_layer"]:
        return
    earlier = list(network.layers.filter(order__lt=layer.order).order_by("-order"))
    fields_known = layer.receptive_field is not None and all(
        candidate.receptive_field is not None for candidate in earlier
    )
    spatial = [
        candidate
        for candidate in earlier
        if fields_known and candidate.receptive_field < layer.receptive_field
    ]
    # Named in full, so that asking for that layer by name or by default is one job.
    params["source_layer"] = (spatial or earlier)[0].name


def _built_in_with_an_earlier_source_layer(params, network, layer):
    if network.source == network.Source.TORCHSCRIPT:
        # Without the architecture's module paths the engine cannot locate the kernels.
        raise Unprocessable(
            f"{network.name} is a TorchScript network: weights between units are read from "
            "built-in architectures only.",
            code="weights_unavailable",
            fields={"network": ["A built-in architecture."]},
        )
    _earlier_source_layer(params, network, layer)
    # Named in full, so that asking for the previous layer by name or by default is one job.
    if not params["source_layer"]:
        previous = network.layers.filter(order__lt=layer.order).order_by("-order").first()
        params["source_layer"] = previous.name


def _other_layer_exists(params, network, layer):
    from workers.models import Network

    _known_dataset(params, network, layer)
    other_name = params["other_network"] or network.name
    other = Network.objects.filter(name=other_name).first()
    if other is None:
        raise _unknown("other_network", f"no network {other_name!r}")
    other_layer = params["other_layer"] or layer.name
    if not other.layers.filter(name=other_layer).exists():
        raise _unknown("other_layer", f"{other_name} has no layer {other_layer!r}")


def _dataset_visible(params, actor):
    from workers import access

    name = params["dataset"]
    if name != "demo" and not access.datasets_visible_to(actor).filter(name=name).exists():
        raise _unknown_dataset(name)


def _other_network_and_dataset_visible(params, actor):
    from workers import access

    name = params["other_network"]
    if name and not access.networks_visible_to(actor).filter(name=name).exists():
        # The same answer as for a network that does not exist.
        raise _unknown("other_network", f"no network {name!r}")
    _dataset_visible(params, actor)


# The engine's stimulus families (workers/engine/stimuli.py FAMILY_NAMES), named here without
# importing torch: the web process validates job parameters.
TUNING_FAMILIES = ("edge", "line", "grating", "curve", "colour", "colour_contrast", "dot")


def _known_families(params, network, layer):
    names = [name.strip() for name in params["families"].split(",")]
    unknown = [name for name in names if name not in (*TUNING_FAMILIES, "all")]
    if unknown:
        raise _field_error(
            "families", f"'all' or names from {', '.join(TUNING_FAMILIES)}, comma-separated"
        )
    # One spelling per choice, so that two requests for the same families are one job.
    chosen = [name for name in TUNING_FAMILIES if name in names or "all" in names]
    params["families"] = "all" if len(chosen) == len(TUNING_FAMILIES) else ",".join(chosen)


def _run_first_layer_weights(job, network, artifacts, report):
    from workers.renderers.first_layer import render_first_layer_weights

    return render_first_layer_weights(job, network, artifacts, report)


def _run_feature_visualization(job, network, artifacts, report):
    from workers.renderers.featurevis import render_feature_visualization

    return render_feature_visualization(job, network, artifacts, report)


def _run_dataset_examples(job, network, artifacts, report):
    from workers.renderers.dataset_examples import render_dataset_examples

    return render_dataset_examples(job, network, artifacts, report)


def _run_universality(job, network, artifacts, report):
    from workers.renderers.universality import render_universality

    return render_universality(job, network, artifacts, report)


def _run_inspect_network(job, network, artifacts, report):
    from workers.services.network_inspection import network_inspect

    return network_inspect(job=job, report=report)


def _run_weights(job, network, artifacts, report):
    from workers.renderers.weights import render_weights

    return render_weights(job, network, artifacts, report)


def _run_tuning(job, network, artifacts, report):
    from workers.renderers.tuning import render_tuning

    return render_tuning(job, network, artifacts, report)


def _run_connections(job, network, artifacts, report):
    from workers.renderers.connections import render_connections

    return render_connections(job, network, artifacts, report)


JOB_KINDS = {
    "first_layer_weights": JobKind(
        name="first_layer_weights",
        description="The first layer's kernels as RGB images, one per unit, and a sprite sheet.",
        params={
            "pixels_per_weight": Param(int, 8, 1, 64),
            "normalize": Param(
                str,
                "unit",
                choices=("unit", "layer"),
                help="'unit' scales each kernel to its own maximum, 'layer' to the layer's",
            ),
        },
        run=_run_first_layer_weights,
        check=_first_layer_only,
    ),
    "feature_visualization": JobKind(
        name="feature_visualization",
        description="Lucid-style feature visualizations, many units per optimisation.",
        params={
            "objective": Param(
                str, "channel", choices=("channel", "neuron", "negative", "diversity")
            ),
            "steps": Param(int, 512, 1, 4096),
            "size": Param(int, 128, 32, 512),
            "lr": Param(float, 0.05, 1e-5, 1.0),
            "param": Param(str, "fft", choices=("fft", "pixel")),
            "decorrelate": Param(bool, True),
            "transforms": Param(
                bool,
                None,
                help="Lucid's random jitter, scale and rotation; omitted: on, except on the "
                "network's first layer, whose few-pixel patterns resampling would blur",
            ),
            "diversity": Param(int, 4, 0, 8, help="images per unit for objective diversity"),
            "seed": Param(int, 0, 0, 2**31 - 1),
            "thumbnail": Param(int, 64, 16, 256, help="tile size in the layer's sprite sheet"),
        },
        run=_run_feature_visualization,
        check=_check_feature_visualization,
    ),
    "dataset_examples": JobKind(
        name="dataset_examples",
        description="Each unit's top and bottom dataset examples (receptive-field crops) and "
        "activation statistics, from one pass over a dataset.",
        params={
            "dataset": Param(str, "demo", help="'demo' or the name of a registered dataset"),
            "k": Param(int, 10, 1, 50),
            "crop_size": Param(int, 64, 16, 224, help="pixels per crop in the strips"),
            "layers": Param(
                str,
                "",
                help="for a job requested without a layer: 'all' (the default: every studied "
                "layer, in one pass) or a comma-separated list of layer names",
            ),
        },
        run=_run_dataset_examples,
        check=_known_dataset_and_layers,
        authorize=_dataset_visible,
        covers_layers=True,
    ),
    "weights": JobKind(
        name="weights",
        description="Each unit's strongest incoming weights from an earlier layer (by default "
        "the nearest one whose kernels into this layer are spatial, i.e. whose receptive field "
        "is smaller): direct kernels, or expanded through non-linear paths.",
        params={
            "k": Param(int, 50, 1, 500),
            "source_layer": Param(
                str,
                "",
                help="an earlier layer; empty for the nearest earlier layer with spatial kernels",
            ),
            "pixels_per_weight": Param(int, 6, 1, 32),
            "columns": Param(int, 10, 1, 100, help="kernels per row in a unit's strip"),
        },
        run=_run_weights,
        check=_spatial_source_layer,
    ),
    "connections": JobKind(
        name="connections",
        description="Every weight into the layer's units from every unit of an earlier layer "
        "(the previous one by default), direct or expanded, stored as arrays: what circuits "
        "read to join two units and to grow.",
        params={
            "source_layer": Param(str, "", help="an earlier layer; empty for the previous one"),
        },
        run=_run_connections,
        check=_built_in_with_an_earlier_source_layer,
    ),
    "universality": JobKind(
        name="universality",
        description="The correlation, over a dataset, of each unit's spatially pooled "
        "activation with every unit of another layer (of this or another network), and each "
        "unit's best matches there.",
        params={
            "other_network": Param(str, "", help="a network's name; empty for this network"),
            "other_layer": Param(str, "", help="a layer of the other network; empty: this one"),
            "dataset": Param(str, "demo", help="'demo' or the name of a registered dataset"),
            "k": Param(int, 5, 1, 50, help="best matches kept per unit"),
            "batch_size": Param(int, 32, 1, 256, help="images per forward pass"),
        },
        run=_run_universality,
        check=_other_layer_exists,
        authorize=_other_network_and_dataset_visible,
    ),
    "tuning": JobKind(
        name="tuning",
        description="Tuning curves from synthetic stimuli drawn at each unit's receptive "
        "field (edges, lines, Gabor gratings, curves, colour fields, colour-contrast pairs, "
        "centre-surround dots): per unit the responses, preferred parameters, a selectivity "
        "index per family and a plot (PNG and SVG).",
        params={
            "families": Param(
                str, "all", help="'all' or a comma-separated list of " + ", ".join(TUNING_FAMILIES)
            ),
            "angle_step": Param(
                float,
                15.0,
                choices=(5.0, 7.5, 10.0, 15.0, 22.5, 30.0, 45.0),
                help="degrees between sampled orientations",
            ),
            "hue_step": Param(
                float,
                30.0,
                choices=(15.0, 30.0, 45.0, 60.0, 90.0),
                help="degrees between sampled hues",
            ),
            "scale": Param(float, 1.0, 0.125, 4.0, help="stimulus diameter in receptive fields"),
            "batch_size": Param(int, 64, 1, 1024, help="stimuli per forward pass"),
        },
        run=_run_tuning,
        check=_known_families,
    ),
    "inspect_network": JobKind(
        name="inspect_network",
        description="A newly registered network's layers, measured from one forward pass "
        "(a TorchScript file's in a child process under time and memory limits), and its "
        "layer and unit rows.",
        params={},
        run=_run_inspect_network,
        requestable=False,
        loads_network=False,
    ),
}

REQUESTABLE_KINDS = sorted(name for name, kind in JOB_KINDS.items() if kind.requestable)


def _param_text(name, spec):
    bounds = []
    if spec.choices:
        bounds.append("one of " + "/".join(map(str, spec.choices)))
    if spec.minimum is not None:
        bounds.append(f"{spec.minimum}–{spec.maximum}")
    if spec.help:
        bounds.append(spec.help)
    details = "; ".join([f"{spec.kind.__name__}, default {spec.default!r}", *bounds])
    return f"{name} ({details})"


def params_help():
    """Every requestable kind's parameters in words, for the API schema's ``params``."""
    kinds = [
        f"{name}: " + (", ".join(_param_text(p, spec) for p, spec in kind.params.items()) or "none")
        for name, kind in sorted(JOB_KINDS.items())
        if kind.requestable
    ]
    return "The kind's parameters, each optional (omitted: its default). " + ". ".join(kinds) + "."
