"""The diverging colour map of "Visualizing Weights": red positive, blue negative, white zero.

NumPy only (no torch, no Django), so the web side draws kernels in circuit diagrams with the
very colours the engine's weight images use; the engine imports it as it imports NumPy.
"""

import numpy as np


def diverging_rgb(signed) -> np.ndarray:
    """uint8 RGB, shape ``[..., 3]``, of values in [-1, 1] (clipped): blue at −1, white at 0,
    red at +1, each channel rounded to the nearest integer (half to even)."""
    signed = np.clip(np.asarray(signed), -1, 1)
    red = 1 - np.abs(np.minimum(signed, 0))
    green = 1 - np.abs(signed)
    blue = 1 - np.maximum(signed, 0)
    return np.rint(np.stack([red, green, blue], axis=-1) * 255).astype(np.uint8)
