"""Dataset examples: per unit, the images on which it fires most and least, found in one pass.

Every unit of every chosen layer is ranked by the spatial maximum (top) or minimum (bottom) of
its map on each image, as in the Circuits articles and OpenAI Microscope. Between batches the
pass keeps only the running top-k and bottom-k and per-unit sums: O(units · k), never a map.
"""

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from workers.engine.allocator import keep_freed_memory
from workers.engine.map_statistics import MapStatistics, map_statistics
from workers.engine.networks import LayerInfo, LoadedNetwork
from workers.engine.ranking import Ranked, empty_ranked, merge_ranked

Box = tuple[int, int, int, int]
# What a crop that does not fill its square tile is padded with: white, as the sprite sheets.
CROP_FILL = 1.0


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


@dataclass(frozen=True)
class LayerExamples:
    """A layer's top and bottom dataset examples and unit statistics, on the CPU."""

    layer: str
    images: int
    top: Examples
    bottom: Examples
    stats: UnitStats


class _RunningExamples:
    """Top-k, bottom-k and sums for every unit of the chosen layers, kept on the device.

    The units of all layers share one axis, so that one merge per batch serves every layer.
    """

    def __init__(self, layers: Sequence[LayerInfo], k: int, device: torch.device):
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
        self.images = 0
        self.map_sizes: dict[str, tuple[int, int]] = {}

    def add(self, network: LoadedNetwork, images: torch.Tensor, indices: torch.Tensor):
        """Run one batch of images (dataset indices `indices`) and fold its maps in.

        Each layer's map is reduced as soon as the forward makes it, while it is still in
        cache, and then dropped: the pass holds per-map statistics, never the batch's maps.
        """
        # Once a unit's top-k is full, only a map that beats its k-th can enter.
        full = self.top.values.shape[1] == self.k
        bars = (self.top.values[:, -1], self.bottom.values[:, -1]) if full else None
        per_layer: dict[str, MapStatistics] = {}

        def reduce(name: str, maps: torch.Tensor):
            units = self.unit_slices[name]
            per_layer[name] = map_statistics(
                maps, bars=None if bars is None else (bars[0][units], bars[1][units])
            )
            self.map_sizes[name] = tuple(maps.shape[2:])

        network.stream_activations(images, [layer.name for layer in self.layers], reduce)
        # [U, B]: every layer's units on one axis, the batch's images along dim 1.
        ordered = (per_layer[layer.name] for layer in self.layers)
        joint = MapStatistics(*(torch.cat(fields) for fields in zip(*ordered, strict=True)))
        seen = indices.expand_as(joint.argmax)
        top = Ranked(joint.maximum, seen, joint.argmax)
        bottom = Ranked(joint.minimum, seen, joint.argmin)
        self.top = merge_ranked(self.top, top, self.k, descending=True)
        self.bottom = merge_ranked(self.bottom, bottom, self.k, descending=False)
        self.sums += joint.sum.sum(dim=1)
        self.active += joint.active.sum(dim=1)
        self.maximum = torch.maximum(self.maximum, joint.maximum.amax(dim=1))
        self.images += len(indices)

    def results(self) -> dict[str, LayerExamples]:
        """Every layer's examples and statistics, moved to the CPU."""
        channels = [layer.channels for layer in self.layers]
        per_layer = zip(
            self.layers,
            _per_layer(self.top, channels),
            _per_layer(self.bottom, channels),
            *(tensor.cpu().split(channels) for tensor in (self.sums, self.active, self.maximum)),
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
            ),
        )


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
    should_stop: Callable[[], bool] | None = None,
) -> dict[str, LayerExamples]:
    """Each unit's top-k and bottom-k dataset examples and statistics, by layer name.

    batches: (dataset indices [B], images [B, 3, H, W] in [0, 1]), e.g. `datasets.batches`.
    Runs one forward pass per batch, in inference mode, only as deep as the deepest layer.
    device: where to run and keep the running top-k (the network moves there); default the
    network's device. progress(images seen) is called after each batch. should_stop() is
    asked before each batch; when it says True the pass ends and returns what it has found
    (`LayerExamples.images` tells how far it got). On CPU, the process's malloc keeps freed
    memory from then on (see allocator.py).
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
    running = _RunningExamples(layers, k, network.device)
    with torch.inference_mode():
        for indices, images in batches:
            if should_stop is not None and should_stop():
                break
            running.add(network, images, torch.as_tensor(indices, device=network.device))
            if progress is not None:
                progress(running.images)
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
