"""Typed engine failures, each with a stable code and a message a researcher can act on."""

from collections.abc import Sequence

# How many example names a message lists before summarising the rest as a count.
_EXAMPLES = 5


def _examples(names: Sequence[str]) -> str:
    """Join the first few names and say how many more there are."""
    shown = ", ".join(names[:_EXAMPLES])
    hidden = len(names) - _EXAMPLES
    return f"{shown}, … and {hidden} more" if hidden > 0 else shown


class EngineError(Exception):
    """Base of every failure the engine reports to a researcher."""

    code = "engine_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WeightsFileMissing(EngineError):
    """The weights (or TorchScript) file is not there."""

    code = "missing_file"


class WeightsFileCorrupt(EngineError):
    """The file is not a readable state dict of tensors."""

    code = "corrupt_file"


class UnsafeWeightsFile(EngineError):
    """torch refused to unpickle the file without running code from it."""

    code = "unsafe_file"


class ArchitectureMismatch(EngineError):
    """A state dict whose keys or shapes do not fit the architecture."""

    code = "architecture_mismatch"

    def __init__(
        self,
        architecture: str,
        *,
        missing: Sequence[str],
        unexpected: Sequence[str],
        wrong_shape: Sequence[str],
    ):
        problems = [
            f"{len(names)} {label} ({_examples(names)})"
            for label, names in (
                ("missing keys", missing),
                ("unexpected keys", unexpected),
                ("tensors of the wrong shape", wrong_shape),
            )
            if names
        ]
        super().__init__(f"These weights do not fit {architecture}: " + "; ".join(problems) + ".")
        self.architecture = architecture
        self.missing = list(missing)
        self.unexpected = list(unexpected)
        self.wrong_shape = list(wrong_shape)


class UnknownArchitecture(EngineError):
    """No built-in architecture has this name."""

    code = "unknown_architecture"

    def __init__(self, name: str, known: Sequence[str]):
        super().__init__(f"Unknown architecture {name!r}; built-in ones are {', '.join(known)}.")


class UnknownLayer(EngineError):
    """The network has no studied layer with this name."""

    code = "unknown_layer"

    def __init__(self, name: str, known: Sequence[str]):
        super().__init__(f"The network has no layer {name!r}; layers include {_examples(known)}.")


class InvalidTorchScript(EngineError):
    """The file is not TorchScript, or its forward breaks the engine's contract."""

    code = "invalid_torchscript"


class UnsupportedLayer(EngineError):
    """The layer exists but the requested analysis does not apply to it."""

    code = "unsupported_layer"


class DeviceUnavailable(EngineError):
    """The requested compute device is not present on this machine."""

    code = "device_unavailable"


class DatasetMissing(EngineError):
    """The dataset's folder, or a file it needs, is not there."""

    code = "dataset_missing"


class DatasetEmpty(EngineError):
    """The dataset has no image that can be read."""

    code = "dataset_empty"
