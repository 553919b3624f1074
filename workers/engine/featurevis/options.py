"""How a render runs, as opposed to what it renders: the speed-ups its caller turns on."""

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class RenderOptions:
    """The speed-ups a feature-visualization render uses; none changes its images beyond
    rounding.

    compile: run the forward of the steps that do not redirect compiled by torch.compile
    (speedups/compiled.py); off by default, since each layer and batch shape first spends
    10-40 s compiling, which pays only in a long-lived GPU worker.
    cuda_graphs: on CUDA, replay one captured step after the redirected ones (batch.py).
    space_to_depth_stem: compute a strided first convolution space-to-depth
    (speedups/stem.py); the GPU's choice, where its input gradient is otherwise slow.
    """

    compile: bool = False
    cuda_graphs: bool = True
    space_to_depth_stem: bool = False

    @classmethod
    def for_device(cls, device: torch.device | str, *, compile: bool = False) -> "RenderOptions":
        """The default options on `device`: the stem space-to-depth on CUDA only (CPUs have
        the oneDNN path of speedups/fused.py), CUDA graphs on, compiling as asked."""
        return cls(compile=compile, space_to_depth_stem=torch.device(device).type == "cuda")
