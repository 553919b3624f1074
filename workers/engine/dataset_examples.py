"""Dataset examples: per unit, the images on which it fires most and least, found in one pass.

Every unit of every chosen layer is ranked by the spatial maximum (top) or minimum (bottom) of
its map on each image, as in the Circuits articles and OpenAI Microscope. Between batches the
pass keeps only the running top-k and bottom-k and per-unit sums, O(units · k), never a map;
and each image's spatial maximum per unit (for the activation distributions): in memory, or
for a large dataset appended to a `MaximaSpool` on disk, so that the pass holds
O(units · (k + batch)) whatever the number of images.
"""

import contextlib
import itertools
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.allocator import keep_freed_memory
from workers.engine.map_statistics import (
    MapStatistics,
    clamped_statistics,
    empty_statistics,
    map_statistics,
)
from workers.engine.networks import LayerInfo, LoadedNetwork
from workers.engine.ranking import Ranked, empty_ranked, merge_ranked
from workers.engine.spool import MaximaSpool

Box = tuple[int, int, int, int]
# What a crop that does not fill its square tile is padded with: white, as the sprite sheets.
CROP_FILL = 1.0
# A crop shows at least this many pixels of the image (each way) around a receptive field
# smaller than that, so that a 3 px field is seen in its surroundings, not as a blurred blob.
CONTEXT_PIXELS = 32
# The colour of the line drawn around the receptive field inside a larger crop: magenta,
# which natural photos seldom hold.
FIELD_OUTLINE = (1.0, 0.0, 1.0)
# Two examples of one unit are near-duplicates when their receptive fields, placed in the file
# they were cut from, overlap in at least this share of the smaller field's area.
DUPLICATE_OVERLAP = 0.5


@dataclass(frozen=True)
class Examples:
    """Per unit, the k images with the most extreme spatial max (top) or min (bottom).

    Most extreme first; equal values keep the image seen first (with batches in dataset order,
    the lower index), and within a map the first position in row-major order.
    """

    values: torch.Tensor  # [C, k]
    images: torch.Tensor  # [C, k] dataset indices
    positions: torch.Tensor  # [C, k, 2] (y, x) in the layer's map


@dataclass(frozen=True)
class UnitStats:
    """Per-unit statistics over every image and position seen; NaN means and -inf maxima
    when no image was seen."""

    mean: torch.Tensor  # [C]
    max: torch.Tensor  # [C]
    fraction_active: torch.Tensor  # [C], the share of positions above 0
    count: int  # activations seen per unit: images × positions
    # [C] int64: on how many images the unit fired (see `fired_on`).
    fired: torch.Tensor


@dataclass(frozen=True)
class LayerExamples:
    """A layer's top and bottom dataset examples and unit statistics, on the CPU."""

    layer: str
    images: int
    top: Examples
    bottom: Examples
    stats: UnitStats
    # [C, images] float: each image's spatial maximum of each unit's map, in the order seen;
    # None when the pass wrote them to a spool (the spool's columns `units`). `seen` [images]
    # holds the images' dataset indices in that order.
    maxima: torch.Tensor | None
    seen: torch.Tensor
    # The layer's units on the pass's joint unit axis (the columns of its spool).
    units: slice


def fired_on(maxima: torch.Tensor) -> torch.Tensor:
    """Per unit, on how many images it fired: [C, N] spatial maxima to [C] counts.

    A unit fired on an image when the spatial maximum of its map there is above 0: some
    position of the layer's output, as the pass reads it, is positive. For a layer whose
    activation is capped (ReLU6) that is the capped activation; a NaN map never fired. A unit
    that fired on no image of a dataset "never fired on" it: its top examples are arbitrary
    (all 0 or below, ties to the earliest images) and say nothing about what it detects.
    """
    return (maxima > 0).sum(dim=1)


class _RunningExamples:
    """Top-k, bottom-k and sums for every unit of the chosen layers, kept on the device.

    The units of all layers share one axis, so that one merge per batch serves every layer.
    """

    def __init__(
        self,
        layers: Sequence[LayerInfo],
        k: int,
        device: torch.device,
        spool: MaximaSpool | None = None,
    ):
        units = sum(layer.channels for layer in layers)
        ends = itertools.accumulate(layer.channels for layer in layers)
        # Each layer's units on the joint axis.
        self.unit_slices = {
            layer.name: slice(end - layer.channels, end)
            for end, layer in zip(ends, layers, strict=True)
        }
        self.layers = layers
        self.k = k
        self.top = empty_ranked(units, device)
        self.bottom = empty_ranked(units, device)
        self.sums = torch.zeros(units, dtype=torch.float64, device=device)
        self.active = torch.zeros(units, dtype=torch.float64, device=device)
        self.maximum = torch.full((units,), float("-inf"), device=device)
        self.fired = torch.zeros(units, dtype=torch.long, device=device)
        # Per batch, every unit's spatial maxima [U, B] (on the CPU, or in the spool) and the
        # batch's dataset indices [B]: the distributions need every image's value.
        if spool is not None and spool.units != units:
            raise ValueError(f"the spool is of {spool.units} units; the layers have {units}.")
        self.spool = spool
        self.maxima: list[torch.Tensor] = []
        # Python ints, not a small tensor per batch: blocks kept for the whole pass among a
        # batch's large freed ones fragment the heap while freed memory is kept (allocator.py),
        # which made a 2,560-image pass's RSS creep by ~70 KB an image.
        self.seen: list[int] = []
        self.images = 0
        self.map_sizes: dict[str, tuple[int, int]] = {}

        # The map each layer's activation reduced itself (see `_ActivationWithStatistics`),
        # by layer, for its hook to recognise; and this batch's statistics of every unit.
        self.made: dict[str, torch.Tensor] = {}
        self._bars: tuple[torch.Tensor, torch.Tensor] | None = None
        self._joint: MapStatistics | None = None

    def bars_of(self, name: str) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The layer's units' k-th kept max and min in this batch; None while not yet full."""
        if self._bars is None:
            return None
        units = self.unit_slices[name]
        return self._bars[0][units], self._bars[1][units]

    def out_of(self, name: str) -> MapStatistics:
        """Where this batch's statistics of the layer's units go: [C, B] views of the joint."""
        units = self.unit_slices[name]
        return MapStatistics(*(field[units] for field in self._joint))

    def add(self, network: LoadedNetwork, images: torch.Tensor, indices: torch.Tensor):
        """Run one batch of images (dataset indices `indices`) and fold its maps in.

        Each layer's map is reduced as soon as the forward makes it, and then dropped: the
        pass holds per-map statistics, never the batch's maps. Layers that are a ReLU or
        ReLU6 are reduced while the activation writes them (`_ActivationWithStatistics`),
        others from their hook, right after they are made. Every layer writes its units'
        rows of one joint [U, B] set of statistics, which one merge then takes in.
        """
        # Once a unit's top-k is full, only a map that beats its k-th can enter.
        full = self.top.values.shape[1] == self.k
        self._bars = (self.top.values[:, -1], self.bottom.values[:, -1]) if full else None
        self._joint = empty_statistics(
            self.sums.shape[0], len(indices), self.top.values.dtype, self.sums.device
        )
        self.made.clear()
        reduced: set[str] = set()

        def reduce(name: str, maps: torch.Tensor):
            if self.made.pop(name, None) is not maps:
                map_statistics(maps, bars=self.bars_of(name), out=self.out_of(name))
            reduced.add(name)
            self.map_sizes[name] = tuple(maps.shape[2:])

        network.stream_activations(images, [layer.name for layer in self.layers], reduce)
        missing = [layer.name for layer in self.layers if layer.name not in reduced]
        if missing:
            raise RuntimeError(f"the forward made no map for {', '.join(missing)}.")
        joint = self._joint
        seen = indices.expand_as(joint.argmax)
        top = Ranked(joint.maximum, seen, joint.argmax)
        bottom = Ranked(joint.minimum, seen, joint.argmin)
        # In place once full (on the CPU kernel): the kept tensors are this object's alone.
        self.top = merge_ranked(self.top, top, self.k, descending=True, in_place=True)
        self.bottom = merge_ranked(self.bottom, bottom, self.k, descending=False, in_place=True)
        self.sums += joint.sum.sum(dim=1)
        self.active += joint.active.sum(dim=1)
        self.maximum = torch.maximum(self.maximum, joint.maximum.amax(dim=1))
        self.fired += fired_on(joint.maximum)
        if self.spool is not None:
            self.spool.append(joint.maximum)
        else:
            # The joint statistics are new for every batch: kept as they are on the CPU.
            self.maxima.append(joint.maximum.cpu())
        self.seen.extend(indices.tolist())
        self.images += len(indices)

    def state(self) -> dict:
        """Everything the pass has gathered so far, on the CPU: what `restore` takes to go on
        from here in another process (a checkpoint). The per-batch maxima stay a list, one
        [U, B] tensor per batch, so that a store can write only those it has not yet; with a
        spool they are not in the state (the store keeps the spool's segments)."""
        state = {
            "layers": [layer.name for layer in self.layers],
            "k": self.k,
            "images": self.images,
            # Copies: the CPU merge updates the kept tensors in place.
            "top": [tensor.cpu().clone() for tensor in self.top],
            "bottom": [tensor.cpu().clone() for tensor in self.bottom],
            "sums": self.sums.cpu().clone(),
            "active": self.active.cpu().clone(),
            "maximum": self.maximum.cpu().clone(),
            "fired": self.fired.cpu().clone(),
            "seen": list(self.seen),
            "map_sizes": dict(self.map_sizes),
        }
        if self.spool is None:
            state["maxima"] = list(self.maxima)
        return state

    def restore(self, state: dict):
        """Go on from `state` (see `state`), taken of a pass over the same layers and k; with
        a spool, the spool must hold the state's images' maxima already."""
        layers = [layer.name for layer in self.layers]
        if state["layers"] != layers or state["k"] != self.k:
            raise ValueError("the saved state is of another pass (other layers or k).")
        if self.spool is not None and self.spool.images != state["images"]:
            raise ValueError(
                f"the spool holds {self.spool.images} images' maxima; the state has seen "
                f"{state['images']}."
            )
        device = self.sums.device
        self.top = Ranked(*(tensor.to(device).contiguous() for tensor in state["top"]))
        self.bottom = Ranked(*(tensor.to(device).contiguous() for tensor in state["bottom"]))
        self.sums = state["sums"].to(device)
        self.active = state["active"].to(device)
        self.maximum = state["maximum"].to(device)
        self.fired = state["fired"].to(device)
        if self.spool is None:
            self.maxima = list(state["maxima"])
        self.seen = list(state["seen"])
        self.images = state["images"]
        self.map_sizes = {name: tuple(size) for name, size in state["map_sizes"].items()}

    def results(self) -> dict[str, LayerExamples]:
        """Every layer's examples and statistics, moved to the CPU."""
        channels = [layer.channels for layer in self.layers]
        units = sum(channels)
        if self.spool is None:
            maxima = torch.cat(self.maxima, dim=1) if self.maxima else torch.empty(units, 0)
            layer_maxima = maxima.split(channels)
        else:
            layer_maxima = [None] * len(channels)
        self.maxima = []
        per_layer = zip(
            self.layers,
            _per_layer(self.top, channels),
            _per_layer(self.bottom, channels),
            *(
                tensor.cpu().split(channels)
                for tensor in (self.sums, self.active, self.maximum, self.fired)
            ),
            layer_maxima,
            strict=True,
        )
        return {parts[0].name: self._layer_results(*parts) for parts in per_layer}

    def _layer_results(
        self,
        layer: LayerInfo,
        top: Ranked,
        bottom: Ranked,
        sums: torch.Tensor,
        active: torch.Tensor,
        maximum: torch.Tensor,
        fired: torch.Tensor,
        maxima: torch.Tensor | None,
    ) -> LayerExamples:
        height, width = self.map_sizes.get(layer.name, (layer.height, layer.width))
        count = self.images * height * width
        return LayerExamples(
            layer=layer.name,
            images=self.images,
            top=_examples(top, width),
            bottom=_examples(bottom, width),
            stats=UnitStats(
                mean=(sums / count).float(),
                max=maximum,
                fraction_active=(active / count).float(),
                count=count,
                fired=fired,
            ),
            maxima=maxima,
            seen=torch.tensor(self.seen, dtype=torch.long),
            units=self.unit_slices[layer.name],
        )


class _ActivationWithStatistics(nn.Module):
    """Stands in for a studied layer's ReLU or ReLU6 during a CPU pass: computes the
    activation and its map's statistics in one read of its input (`clamped_statistics`), so
    the map is reduced as it is written, not read again from memory by the layer's hook. The
    statistics go straight into the batch's joint statistics, and the hook, seeing the map
    in `running.made`, leaves them. Maps the kernel does not apply to (not float32 on the
    CPU, or holding a NaN) are left to the original activation and the hook, as usual."""

    def __init__(self, activation: nn.Module, bounds, layer: str, running: _RunningExamples):
        super().__init__()
        self.activation = activation
        self.bounds = bounds
        self.layer = layer
        self.running = running

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        made = None
        if inputs.dim() == 4 and inputs.shape[2] * inputs.shape[3] > 0:
            made = clamped_statistics(
                inputs,
                *self.bounds,
                bars=self.running.bars_of(self.layer),
                out=self.running.out_of(self.layer),
            )
        if made is None:
            return self.activation(inputs)
        self.running.made[self.layer] = made[0]
        return made[0]


def _clamp_bounds(module: nn.Module) -> tuple[float, float] | None:
    """(lower, upper) of an activation that is a clamp (ReLU, ReLU6, Hardtanh), not in place."""
    if getattr(module, "inplace", False):
        return None
    if type(module) is nn.ReLU:
        return 0.0, math.inf
    if isinstance(module, nn.Hardtanh):  # ReLU6 is Hardtanh(0, 6)
        return float(module.min_val), float(module.max_val)
    return None


def _activation_of(module: nn.Module, path: str) -> tuple[nn.Module, str, tuple] | None:
    """(parent, attribute name, bounds) of the clamp activation whose output is the module at
    `path`'s output: that module itself, or the last child of a Sequential."""
    owner, _, name = path.rpartition(".")
    parent = module.get_submodule(owner)
    target = getattr(parent, name)
    if isinstance(target, nn.Sequential) and len(target) > 0:
        parent, name, target = target, str(len(target) - 1), target[-1]
    bounds = _clamp_bounds(target)
    return None if bounds is None else (parent, name, bounds)


@contextlib.contextmanager
def _activations_with_statistics(
    network: LoadedNetwork, layers: Sequence[LayerInfo], running: _RunningExamples
) -> Iterator[None]:
    """The studied layers' clamp activations replaced by `_ActivationWithStatistics` for the
    duration of the pass and put back whatever happens. Only on CPU (the kernel's)."""
    if network.module_paths is None or network.device.type != "cpu":
        yield
        return
    swapped = []
    try:
        for layer in layers:
            found = _activation_of(network.module, network.module_paths[layer.name])
            if found is None:
                continue
            parent, name, bounds = found
            original = getattr(parent, name)
            stand_in = _ActivationWithStatistics(original, bounds, layer.name, running)
            setattr(parent, name, stand_in)
            swapped.append((parent, name, original))
        yield
    finally:
        for parent, name, original in reversed(swapped):
            setattr(parent, name, original)


def _per_layer(ranked: Ranked, channels: Sequence[int]) -> list[Ranked]:
    """Candidates on the joint unit axis split back into one Ranked per layer, on the CPU."""
    splits = (tensor.cpu().split(channels) for tensor in ranked)
    return [Ranked(*fields) for fields in zip(*splits, strict=True)]


def _examples(ranked: Ranked, width: int) -> Examples:
    """Ranked candidates with flat map positions turned into (y, x)."""
    positions = torch.stack([ranked.positions // width, ranked.positions % width], dim=-1)
    return Examples(values=ranked.values, images=ranked.images, positions=positions)


def dataset_examples(
    network: LoadedNetwork,
    layer_names: Sequence[str],
    batches: Iterable[tuple[torch.Tensor, torch.Tensor]],
    *,
    k: int = 10,
    device: torch.device | str | None = None,
    progress: Callable[[int], None] | None = None,
    resume: dict | None = None,
    checkpoint: Callable[[dict], None] | None = None,
    checkpoint_every: int | None = None,
    spool: MaximaSpool | None = None,
) -> dict[str, LayerExamples]:
    """Each unit's top-k and bottom-k dataset examples and statistics, by layer name.

    Resumable: checkpoint(state) is called with the pass's state (`_RunningExamples.state`)
    after the first batch that reaches each multiple of `checkpoint_every` images, and when
    `progress` raises (a cancel), before the error goes on. resume: such a state to go on
    from; `batches` must then hold the images after those the state has seen, as the
    uninterrupted pass would have had them: the result is the same, bit for bit.

    spool: where each image's spatial maxima go (`LayerExamples.maxima` is then None and the
    distributions read the spool), so that memory does not grow with the dataset; a spool
    of every chosen layer's units (in `layer_names` order), holding the maxima of the images
    `resume` has seen, none when not resuming.

    batches: (dataset indices [B], images [B, 3, H, W] in [0, 1]), e.g. `datasets.batches`.
    Runs one forward pass per batch, in inference mode, only as deep as the deepest layer.
    device: where to run and keep the running top-k (the network moves there); default the
    network's device. progress(images seen) is called after each batch (a job cancels the
    pass by raising from it). On CPU, the process's malloc keeps freed
    memory from then on (see allocator.py), and while the pass runs the studied layers' ReLU
    and ReLU6 modules are stand-ins that reduce their own maps (`_activations_with_statistics`):
    the network must not be used by anything else (another thread) until it returns.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}.")
    if isinstance(layer_names, str) or not layer_names:
        raise ValueError("layer_names must be a non-empty list of layer names.")
    layers = [network.layer(name) for name in dict.fromkeys(layer_names)]
    if device is not None:
        network.to(device)
    if network.device.type == "cpu":
        keep_freed_memory()
    if checkpoint_every is not None and checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be at least 1; got {checkpoint_every}.")
    running = _RunningExamples(layers, k, network.device, spool)
    if resume is not None:
        running.restore(resume)
    elif spool is not None and spool.images:
        raise ValueError(f"the spool holds {spool.images} images' maxima already; no resume.")
    saved = running.images
    with torch.inference_mode(), _activations_with_statistics(network, layers, running):
        for indices, images in batches:
            running.add(network, images, torch.as_tensor(indices, device=network.device))
            if progress is not None:
                try:
                    progress(running.images)
                except BaseException:
                    if checkpoint is not None and running.images > saved:
                        checkpoint(running.state())
                    raise
            if (
                checkpoint is not None
                and checkpoint_every is not None
                and running.images // checkpoint_every > saved // checkpoint_every
            ):
                checkpoint(running.state())
                saved = running.images
    return running.results()


def receptive_field_crop(image_size: int, layer: LayerInfo, position: Sequence[int]) -> Box:
    """The image region (top, left, bottom, right), bottom and right exclusive, that the unit
    at map position (y, x) sees: its receptive field, clipped to the image.

    The field is centred on pixel p · stride for map index p. That is exact for networks whose
    layers pad symmetrically ("same" padding k // 2 with odd kernels, as MobileNetV2), where
    the padding cancels the (RF - 1) / 2 offset a valid convolution would have. Networks
    padded more on the bottom and right (InceptionV1's TensorFlow-style "same") centre their
    fields a little lower and further right: up to 7 px at mixed3b and 31 px at mixed5b.
    Without a known receptive field (TorchScript networks) the whole image is returned.
    """
    if layer.receptive_field is None or layer.stride is None:
        return 0, 0, image_size, image_size
    reach = (layer.receptive_field - 1) // 2
    top, left = (int(index) * layer.stride - reach for index in position)
    return (
        max(top, 0),
        max(left, 0),
        min(top + layer.receptive_field, image_size),
        min(left + layer.receptive_field, image_size),
    )


def crop_image(image: torch.Tensor, box: Box, *, out_size: int | None = None) -> torch.Tensor:
    """The box's region of a [3, H, W] image.

    out_size: scale the region (one factor, bilinear with antialiasing) so that its longer
    side is out_size, centred on a white out_size × out_size square; a box clipped at the
    image border keeps its shape instead of being stretched.
    """
    top, left, bottom, right = box
    region = image[:, top:bottom, left:right]
    if out_size is None:
        return region
    scale = out_size / max(region.shape[1:])
    height, width = (max(1, round(side * scale)) for side in region.shape[1:])
    resized = F.interpolate(
        region[None], size=(height, width), mode="bilinear", antialias=True, align_corners=False
    )[0]
    tile = torch.full(
        (image.shape[0], out_size, out_size), CROP_FILL, dtype=image.dtype, device=image.device
    )
    y, x = (out_size - height) // 2, (out_size - width) // 2
    tile[:, y : y + height, x : x + width] = resized.clamp(0, 1)
    return tile


def context_box(image_size: int, field: Box, *, context: int = CONTEXT_PIXELS) -> Box:
    """The region a crop shows for the receptive field `field` (top, left, bottom, right,
    clipped to the image): along each axis, the field where it spans at least `context`
    pixels, otherwise `context` pixels (at most the image) centred on the field and moved
    inside the image."""
    sides = []
    for start, end in ((field[0], field[2]), (field[1], field[3])):
        side = max(end - start, min(context, image_size))
        first = round((start + end - side) / 2)
        first = min(max(first, 0), image_size - side)
        sides.append((first, first + side))
    (top, bottom), (left, right) = sides
    return top, left, bottom, right


def field_in_tile(crop: Box, field: Box, out_size: int) -> Box:
    """Where `field` lies (top, left, bottom, right, in tile pixels) in the tile that
    `crop_image(image, crop, out_size=out_size)` makes: the same scale and centring."""
    height, width = crop[2] - crop[0], crop[3] - crop[1]
    scale = out_size / max(height, width)
    offset_y = (out_size - max(1, round(height * scale))) // 2
    offset_x = (out_size - max(1, round(width * scale))) // 2
    return (
        offset_y + round((field[0] - crop[0]) * scale),
        offset_x + round((field[1] - crop[1]) * scale),
        offset_y + round((field[2] - crop[0]) * scale),
        offset_x + round((field[3] - crop[1]) * scale),
    )


def outline_field(tile: torch.Tensor, field: Box, *, colour=FIELD_OUTLINE) -> torch.Tensor:
    """`tile` [3, S, S] with a 1 px line in `colour` just outside `field` (tile pixels), so
    that the field's own pixels stay visible; the parts of the line outside the tile are left
    out. Changes and returns `tile`."""
    size = tile.shape[1]
    top, left, bottom, right = field[0] - 1, field[1] - 1, field[2], field[3]
    paint = torch.tensor(colour, dtype=tile.dtype, device=tile.device)[:, None]
    rows = slice(max(top, 0), min(bottom + 1, size))
    columns = slice(max(left, 0), min(right + 1, size))
    for row in (top, bottom):
        if 0 <= row < size:
            tile[:, row, columns] = paint
    for column in (left, right):
        if 0 <= column < size:
            tile[:, rows, column] = paint
    return tile


def distinct_examples(
    fields: Sequence[tuple[str, tuple[float, float, float, float]]], k: int
) -> list[int]:
    """The positions of the examples to show among a unit's candidates, strongest first:
    up to k, near-duplicates suppressed.

    fields: each candidate's receptive field placed in its source (a file name and the box,
    top, left, bottom, right, in that file's pixels; `ImageDataset.source_field`), strongest
    candidate first. Walking them in that order, a candidate is kept unless its field and a
    kept one's come from the same source and overlap in at least `DUPLICATE_OVERLAP` of the
    smaller field's area (the same place, seen through two overlapping, rescaled or mirrored
    crops of one photo): of near-duplicates, the strongest stays.
    """
    kept: list[int] = []
    for position, (source, box) in enumerate(fields):
        if len(kept) == k:
            break
        if not any(
            fields[other][0] == source
            and _overlap_share(fields[other][1], box) >= DUPLICATE_OVERLAP
            for other in kept
        ):
            kept.append(position)
    return kept


def _overlap_share(first, second) -> float:
    """The area two boxes share, as a share of the smaller box's area."""
    height = min(first[2], second[2]) - max(first[0], second[0])
    width = min(first[3], second[3]) - max(first[1], second[1])
    smaller = min(
        (first[2] - first[0]) * (first[3] - first[1]),
        (second[2] - second[0]) * (second[3] - second[1]),
    )
    if height <= 0 or width <= 0 or smaller <= 0:
        return 0.0
    return height * width / smaller
