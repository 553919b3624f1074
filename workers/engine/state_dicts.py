"""Reading user-supplied weight files safely and fitting them strictly to a module."""

import pickle
import pickletools
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file as load_safetensors
from torch import nn

from workers.engine.errors import (
    ArchitectureMismatch,
    UnsafeWeightsFile,
    WeightsFileCorrupt,
    WeightsFileMissing,
)

# The key under which training scripts commonly nest the weights in a checkpoint.
WRAPPER_KEY = "state_dict"


def existing_file(path: str | Path) -> Path:
    """The path as a Path, or WeightsFileMissing when no regular file is there."""
    path = Path(path)
    if path.is_dir():
        raise WeightsFileMissing(f"{path} is a folder, not a weights file.")
    if not path.is_file():
        raise WeightsFileMissing(f"There is no file at {path}.")
    return path


def _is_pickle_stream(path: Path) -> bool:
    """Whether the file starts with a well-formed pickle, parsed without executing it."""
    try:
        with path.open("rb") as stream:
            for _ in pickletools.genops(stream):
                pass
    except ValueError:
        return False
    return True


def _refused_by_torch(path: Path, error: pickle.UnpicklingError) -> Exception:
    """Tell a pickle torch would not unpickle safely from bytes that are no pickle at all."""
    if "Weights only load failed" in str(error) and (
        zipfile.is_zipfile(path) or _is_pickle_stream(path)
    ):
        return UnsafeWeightsFile(
            f"{path.name} holds Python objects other than tensors (a pickle that could run "
            "code when loaded); it was not loaded. Save only the state dict "
            "(torch.save(model.state_dict(), ...)) or use safetensors."
        )
    return WeightsFileCorrupt(f"{path.name} is not a PyTorch weights file.")


def _is_torchscript_archive(path: Path) -> bool:
    """Whether the file is a zip archive laid out as TorchScript saves it."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith("/constants.pkl") for name in archive.namelist())


def _torch_load(path: Path) -> object:
    """torch.load restricted to tensors and plain containers, with failures typed."""
    if _is_torchscript_archive(path):
        raise WeightsFileCorrupt(
            f"{path.name} is a TorchScript model, not a state dict; register it as TorchScript."
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise _refused_by_torch(path, error) from error
    except RuntimeError as error:
        raise WeightsFileCorrupt(f"{path.name} is damaged or truncated: {error}") from error
    # Garbage input reaches many parsers inside torch.load (zip, legacy tar, pickle), each
    # failing with its own exception type; to the researcher they all mean the same.
    except Exception as error:
        raise WeightsFileCorrupt(
            f"{path.name} is not a readable PyTorch weights file ({type(error).__name__})."
        ) from error


def _safetensors_load(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file, with failures typed."""
    try:
        return load_safetensors(path, device="cpu")
    except SafetensorError as error:
        raise WeightsFileCorrupt(f"{path.name} is not a valid safetensors file: {error}") from error


def _as_state_dict(content: object, path: Path) -> dict[str, torch.Tensor]:
    """The content as a flat mapping of names to tensors, unwrapping {"state_dict": ...}."""
    if isinstance(content, dict) and set(content) == {WRAPPER_KEY}:
        content = content[WRAPPER_KEY]
    if not isinstance(content, dict) or not content:
        raise WeightsFileCorrupt(
            f"{path.name} does not hold a state dict (a mapping of parameter names to tensors)."
        )
    not_tensors = sorted(
        str(key) for key, value in content.items() if not isinstance(value, torch.Tensor)
    )
    if not_tensors:
        raise WeightsFileCorrupt(
            f"{path.name} is not a state dict of tensors: {', '.join(not_tensors[:5])} "
            "are not tensors."
        )
    return content


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Load a state dict from a torch file (weights only) or a .safetensors file."""
    path = existing_file(path)
    if path.stat().st_size == 0:
        raise WeightsFileCorrupt(f"{path.name} is empty.")
    load = _safetensors_load if path.suffix == ".safetensors" else _torch_load
    return _as_state_dict(load(path), path)


def load_strictly(module: nn.Module, state_dict: dict[str, torch.Tensor], architecture: str):
    """Copy the weights into the module, or raise ArchitectureMismatch listing the misfits."""
    expected = module.state_dict()
    wrong_shape = [
        f"{key} (file {tuple(tensor.shape)}, {architecture} {tuple(expected[key].shape)})"
        for key, tensor in state_dict.items()
        if key in expected and tensor.shape != expected[key].shape
    ]
    missing = [key for key in expected if key not in state_dict]
    unexpected = [key for key in state_dict if key not in expected]
    if missing or unexpected or wrong_shape:
        raise ArchitectureMismatch(
            architecture, missing=missing, unexpected=unexpected, wrong_shape=wrong_shape
        )
    module.load_state_dict(state_dict, strict=True)
