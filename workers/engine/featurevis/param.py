"""Image parameterizations: the tensor Adam optimises and how it becomes RGB in [0, 1]."""

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

INIT_STD = 0.01
# The irfft2 of 1/f-scaled coefficients has a wide range; Lucid divides it by 4 before the
# colour transform and the sigmoid.
FFT_DIVISOR = 4.0
# Square root of the colour correlation of ImageNet photos (Lucid), rows = output channels.
COLOUR_CORRELATION_SQRT = ((0.26, 0.09, 0.02), (0.27, 0.00, -0.05), (0.27, -0.09, 0.03))
PARAMS = ("fft", "pixel")


def colour_matrix() -> torch.Tensor:
    """Lucid's colour correlation square root divided by its largest column L2 norm."""
    matrix = torch.tensor(COLOUR_CORRELATION_SQRT)
    return matrix / matrix.norm(dim=0).max()


def decorrelate_colour(images: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] from decorrelated to correlated colour space (`t @ M.T` on channels)."""
    if images.device.type == "cpu":
        # A 1×1 convolution is that product, and on CPU twice as fast as einsum's batched
        # matmul.
        return F.conv2d(images, matrix[:, :, None, None])
    return colour_sums(images, matrix)


def colour_sums(images: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """`decorrelate_colour` as weighted sums of the channels, as it runs off the CPU.

    On the GPU a 3-channel 1×1 convolution runs as a general matrix kernel, forward and
    backward (0.26 ms of a 7.6 ms step on an H200); weighted sums are elementwise work that
    a compiled render step fuses with the sigmoid after it.
    """
    return (matrix[None, :, :, None, None] * images[:, None]).sum(dim=2)


def finish_images(images: torch.Tensor, colour: torch.Tensor | None) -> torch.Tensor:
    """RGB in [0, 1] from a parameterization's images: colour (unless None), then sigmoid."""
    return torch.sigmoid(images if colour is None else decorrelate_colour(images, colour))


def spectrum_scale(size: int) -> torch.Tensor:
    """1/f scale [size, size // 2 + 1] of rFFT coefficients, capped at the lowest frequency."""
    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    frequencies = torch.sqrt(fx * fx + fy * fy)
    return 1.0 / torch.clamp(frequencies, min=1.0 / size)


def fft_coefficients(generators: Sequence[torch.Generator], size: int) -> torch.Tensor:
    """Real and imaginary rFFT coefficients [B, 3, size, size // 2 + 1, 2], N(0, 0.01).

    Image b draws from generators[b] alone, so it does not depend on its batch.
    """
    shape = (3, size, size // 2 + 1, 2)
    return torch.stack([torch.randn(shape, generator=g) * INIT_STD for g in generators])


def fft_images(coefficients: torch.Tensor, scale: torch.Tensor, size: int) -> torch.Tensor:
    """[B, 3, size, size] images (before colour and sigmoid) from scaled rFFT coefficients."""
    spectrum = torch.view_as_complex(coefficients) * scale
    return torch.fft.irfft2(spectrum, s=(size, size), norm="ortho") / FFT_DIVISOR


def pixel_values(generators: Sequence[torch.Generator], size: int) -> torch.Tensor:
    """Pixel parameters [B, 3, size, size], N(0, 0.01), image b from generators[b]."""
    return torch.stack([torch.randn((3, size, size), generator=g) * INIT_STD for g in generators])


def image_source(
    kind: str, generators: Sequence[torch.Generator], size: int, *, device: torch.device
) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """The leaf tensor to optimise for a batch and the function mapping it to raw images.

    kind: "fft" (1/f spectrum, Lucid's default) or "pixel". Raw images become RGB through
    `finish_images`.
    """
    if kind == "fft":
        values = fft_coefficients(generators, size)
        scale = spectrum_scale(size).to(device)

        def raw(tensor: torch.Tensor) -> torch.Tensor:
            return fft_images(tensor, scale, size)

    elif kind == "pixel":
        values = pixel_values(generators, size)

        def raw(tensor: torch.Tensor) -> torch.Tensor:
            return tensor

    else:
        raise ValueError(f"param must be one of {', '.join(PARAMS)}; got {kind!r}.")
    return values.to(device).requires_grad_(True), raw
