"""InceptionV1 (GoogLeNet) as Lucid's "inception5h", the network of the Circuits articles.

Parameter names follow the state-dict layout of the PyTorch port `inception5h.pth` (flat
`<layer>_<branch>_pre_relu_conv` modules and a `softmax2_pre_activation_matmul` classifier, no
auxiliary heads), so that file loads strictly. Paddings reproduce TensorFlow's "same" padding
at even input sizes as that port does.
"""

import torch
import torch.nn.functional as F
from torch import nn

from workers.engine.architectures.spec import Architecture, StudiedLayer

# Lucid's inception5h takes pixels in [0, 255] minus this constant.
PIXEL_SHIFT = 117.0
CLASSES = 1008

# Local response normalisation as the PyTorch port computes it. torch divides alpha by the
# window size where TensorFlow does not; the port keeps TensorFlow's alpha, and so do we, so
# that activations match the renders made with Lucent.
LRN_SIZE = 9
LRN_ALPHA = 9.99999974738e-05
LRN_BETA = 0.5
LRN_K = 1.0

# Output channels of the branches of each mixed layer, in concatenation (= unit) order:
# 1×1, 3×3 bottleneck → 3×3, 5×5 bottleneck → 5×5, 3×3 max-pool → projection.
MIXED_BRANCHES = {
    "mixed3a": (64, 96, 128, 16, 32, 32),
    "mixed3b": (128, 128, 192, 32, 96, 64),
    "mixed4a": (192, 96, 204, 16, 48, 64),
    "mixed4b": (160, 112, 224, 24, 64, 64),
    "mixed4c": (128, 128, 256, 24, 64, 64),
    "mixed4d": (112, 144, 288, 32, 64, 64),
    "mixed4e": (256, 160, 320, 32, 128, 128),
    "mixed5a": (256, 160, 320, 48, 128, 128),
    "mixed5b": (384, 192, 384, 48, 128, 128),
}
# A 3×3 stride-2 max-pool precedes these mixed layers.
POOLED_BEFORE = {"mixed3a", "mixed4a", "mixed5a"}


def mixed_channels(name: str) -> int:
    """Number of units of a mixed layer: the sum of its four branch outputs."""
    one, _, three, _, five, pool = MIXED_BRANCHES[name]
    return one + three + five + pool


class BranchConcat(nn.Module):
    """Concatenates branch outputs on the channel axis; its output is a mixed layer."""

    def forward(self, *branches: torch.Tensor) -> torch.Tensor:
        return torch.cat(branches, dim=1)


def _max_pool_stride_2(x: torch.Tensor, *, linear: bool = False) -> torch.Tensor:
    """3×3 stride-2 max-pool padded on the bottom and right only, as TensorFlow's "same".

    linear: average over the same zero-padded windows instead.
    """
    if linear:
        return F.avg_pool2d(F.pad(x, (0, 1, 0, 1)), 3, stride=2)
    # ceil_mode takes the same windows, the last one cut short at the edge, without a
    # padded copy of the maps (the window count is ceil((n - 3) / 2) + 1 either way).
    return F.max_pool2d(x, 3, stride=2, ceil_mode=True)


def _channel_band(channels: int, like: torch.Tensor) -> torch.Tensor:
    """[C, C] matrix with ones where two channels are at most LRN_SIZE // 2 apart."""
    index = torch.arange(channels, device=like.device)
    return ((index[:, None] - index[None, :]).abs() <= LRN_SIZE // 2).to(like.dtype)


def _lrn(x: torch.Tensor, *, linear: bool = False) -> torch.Tensor:
    """Local response normalisation across channels; the identity when linear.

    x / (k + alpha / size * the sum of x² over the size channels around each one) ** beta,
    as F.local_response_norm computes it. The window sums are one matrix product with a
    band matrix over the channel axis (contiguous in channels-last maps), which runs forward
    and backward several times faster than torch's padded three-dimensional average pool,
    on CPU and GPU alike.
    """
    if linear:
        return x
    # In the maps' own precision: under bf16 autocast, pow would write float32 maps and the
    # layers after it would read them and cast them back.
    with torch.autocast(x.device.type, enabled=False):
        band = _channel_band(x.shape[1], x)
        sums = torch.matmul(x.square().movedim(1, -1), band).movedim(-1, 1)
        return x * (sums * (LRN_ALPHA / LRN_SIZE) + LRN_K).pow(-LRN_BETA)


# One opaque call when torch.fx traces the network (engine/truncated.py): its autocast block
# reads the device of its input, which a trace does not know.
torch.fx.wrap("_lrn")


class InceptionV1(nn.Module):
    """InceptionV1 whose studied layers are the outputs of modules named like the papers."""

    # Set by the engine's `linearised` context: the ReLUs, max-pools and LRNs applied in
    # forward become identity, average pools and identity, as expanded weights need.
    linear = False

    def __init__(self):
        super().__init__()
        self.conv2d0_pre_relu_conv = nn.Conv2d(3, 64, 7, stride=2)
        self.conv2d1_pre_relu_conv = nn.Conv2d(64, 64, 1)
        self.conv2d2_pre_relu_conv = nn.Conv2d(64, 192, 3)
        self.conv2d0, self.conv2d1, self.conv2d2 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        in_channels = 192
        for name, (one, three_in, three, five_in, five, pool) in MIXED_BRANCHES.items():
            self.add_module(f"{name}_1x1_pre_relu_conv", nn.Conv2d(in_channels, one, 1))
            self.add_module(
                f"{name}_3x3_bottleneck_pre_relu_conv", nn.Conv2d(in_channels, three_in, 1)
            )
            self.add_module(f"{name}_3x3_pre_relu_conv", nn.Conv2d(three_in, three, 3, padding=1))
            self.add_module(
                f"{name}_5x5_bottleneck_pre_relu_conv", nn.Conv2d(in_channels, five_in, 1)
            )
            self.add_module(f"{name}_5x5_pre_relu_conv", nn.Conv2d(five_in, five, 5, padding=2))
            self.add_module(f"{name}_pool_reduce_pre_relu_conv", nn.Conv2d(in_channels, pool, 1))
            self.add_module(name, BranchConcat())
            in_channels = mixed_channels(name)
        self.softmax2_pre_activation_matmul = nn.Linear(in_channels, CLASSES)

    def _conv(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """One of the port's pre-ReLU convolutions followed by ReLU."""
        x = self.get_submodule(f"{name}_pre_relu_conv")(x)
        return x if self.linear else F.relu(x)

    def _pool_same(self, x: torch.Tensor) -> torch.Tensor:
        """3×3 stride-1 max-pool of the pool-projection branch (average when linear)."""
        pool = F.avg_pool2d if self.linear else F.max_pool2d
        return pool(x, 3, stride=1, padding=1)

    def _mixed(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """An inception module: four branches concatenated in unit order."""
        one = self._conv(f"{name}_1x1", x)
        three = self._conv(f"{name}_3x3", self._conv(f"{name}_3x3_bottleneck", x))
        five = self._conv(f"{name}_5x5", self._conv(f"{name}_5x5_bottleneck", x))
        pool = self._conv(f"{name}_pool_reduce", self._pool_same(x))
        return self.get_submodule(name)(one, three, five, pool)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of preprocessed images; the studied layers are reached on the way."""
        x = self.conv2d0(self.conv2d0_pre_relu_conv(F.pad(x, (2, 3, 2, 3))))
        x = _lrn(_max_pool_stride_2(x, linear=self.linear), linear=self.linear)
        x = self.conv2d1(self.conv2d1_pre_relu_conv(x))
        x = self.conv2d2(self.conv2d2_pre_relu_conv(F.pad(x, (1, 1, 1, 1))))
        x = _lrn(x, linear=self.linear)
        for name in MIXED_BRANCHES:
            if name in POOLED_BEFORE:
                x = _max_pool_stride_2(x, linear=self.linear)
            x = self._mixed(name, x)
        # The port averages a 7×7 map at 224 px; a global mean is the same there and also
        # works at other input sizes.
        return self.softmax2_pre_activation_matmul(x.mean(dim=(2, 3)))


def preprocess(images: torch.Tensor) -> torch.Tensor:
    """Map [0, 1] RGB images to the [-117, 138] range the Lucid weights expect."""
    return images * 255.0 - PIXEL_SHIFT


def studied_layers() -> tuple[StudiedLayer, ...]:
    """conv2d0 … mixed5b with their paths: a mixed layer widens most through its 5×5 branch."""
    layers = [
        StudiedLayer("conv2d0", "conv", "conv2d0", ((7, 2),)),
        StudiedLayer("conv2d1", "conv", "conv2d1", ((3, 2), (1, 1))),
        StudiedLayer("conv2d2", "conv", "conv2d2", ((3, 1),)),
    ]
    for name in MIXED_BRANCHES:
        pool = ((3, 2),) if name in POOLED_BEFORE else ()
        layers.append(StudiedLayer(name, "mixed", name, (*pool, (1, 1), (5, 1))))
    return tuple(layers)


def stem_input_filters(model: nn.Module) -> torch.Tensor:
    """Effective [64, 3, 7, 7] filters of conv2d0 on [0, 1] RGB pixels, before ReLU.

    Preprocessing scales pixels by 255; its shift of -117 and the bias add a constant.
    """
    return model.conv2d0_pre_relu_conv.weight * 255.0


INCEPTION_V1 = Architecture(
    name="inception_v1",
    build=InceptionV1,
    preprocess=preprocess,
    layers=studied_layers(),
    input_filters={"conv2d0": stem_input_filters},
)
