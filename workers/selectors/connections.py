"""Reading the weights between two layers that a connections job stored (no torch here).

An edge's magnitude is the L2 norm of its kernel; its sign is the sign of the kernel's sum, so
a kernel that excites on balance is positive. The arrays are described in
``workers.renderers.connections``; a row of kernels is read alone, without the rest of the
file.
"""

import io
from dataclasses import dataclass
from math import prod

import numpy as np
from django.db.models import Subquery

from workers.models import Artifact, Job

# Where the stored numbers come from (the connections job runs this engine function).
ENGINE = "workers.engine.weights.unit_weights"
KERNELS = "kernels"
NORMS = "norms"


@dataclass(frozen=True)
class Weight:
    """The kernel from unit ``source`` of ``source_layer`` into ``target`` of ``layer``."""

    source_layer: str
    source: int
    layer: str
    target: int
    magnitude: float
    sign: int
    kind: str
    kernel: list


@dataclass(frozen=True)
class LayerConnections:
    """The stored weights into ``layer`` from ``source_layer`` (``mode``: direct or expanded);
    ``norms[target, source]`` is the L2 norm of each kernel."""

    job: Job
    layer: str
    source_layer: str
    mode: str
    norms: np.ndarray
    kernels: Artifact

    def weight(self, source, target):
        """The weight from unit ``source`` into unit ``target``."""
        return self._weight(target, source, _rows(self.kernels, [target])[0])

    def strongest_into(self, target, *, k, threshold):
        """Up to ``k`` weights into unit ``target``, strongest first, each with a magnitude of
        at least ``threshold``."""
        row = self.norms[target]
        sources = [int(s) for s in _strongest(row, k) if row[s] >= threshold]
        if not sources:
            return []
        kernels = _rows(self.kernels, [target])[0]
        return [self._weight(target, source, kernels) for source in sources]

    def strongest_from(self, source, *, k, threshold):
        """Up to ``k`` weights from unit ``source``, strongest first, each with a magnitude of
        at least ``threshold``."""
        column = self.norms[:, source]
        targets = [int(t) for t in _strongest(column, k) if column[t] >= threshold]
        rows = _rows(self.kernels, targets)
        return [self._weight(target, source, rows[i]) for i, target in enumerate(targets)]

    def _weight(self, target, source, kernels):
        kernel = kernels[source]
        total = float(kernel.sum())
        return Weight(
            source_layer=self.source_layer,
            source=source,
            layer=self.layer,
            target=target,
            magnitude=float(self.norms[target, source]),
            sign=(total > 0) - (total < 0),
            kind=self.mode,
            kernel=kernel.tolist(),
        )


def layer_connections(*, layer, source_layer):
    """The weights into ``layer`` from ``source_layer`` stored by the latest connections job
    that succeeded, or None when no job stored them yet. Two queries."""
    stored = {
        artifact.variant: artifact
        for artifact in Artifact.objects.filter(
            job=Subquery(
                Job.objects.filter(
                    kind=Job.Kind.CONNECTIONS,
                    layer=layer,
                    status=Job.Status.SUCCEEDED,
                    params__source_layer=source_layer.name,
                )
                .order_by("-created_at", "-id")
                .values("id")[:1]
            ),
            unit=None,
            kind=Artifact.Kind.LAYER_DATA,
        ).select_related("job")
    }
    if set(stored) != {KERNELS, NORMS}:
        return None
    with stored[NORMS].file.open("rb") as handle:
        norms = np.load(io.BytesIO(handle.read()), allow_pickle=False)
    return LayerConnections(
        job=stored[KERNELS].job,
        layer=layer.name,
        source_layer=source_layer.name,
        mode=stored[KERNELS].meta["mode"],
        norms=norms,
        kernels=stored[KERNELS],
    )


def _strongest(values, k):
    """Indices of the ``k`` largest values, largest first (ties: the lower index first)."""
    return np.argsort(-values, kind="stable")[:k]


def _rows(artifact, indices):
    """Rows ``indices`` of the C-ordered ``.npy`` array stored as ``artifact``, read alone."""
    with artifact.file.open("rb") as handle:
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(handle)
        else:
            shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(handle)
        if fortran_order:
            raise ValueError(f"{artifact.file.name} is not stored in C order.")
        start, size = handle.tell(), prod(shape[1:]) * dtype.itemsize
        rows = []
        for index in indices:
            handle.seek(start + index * size)
            rows.append(np.frombuffer(handle.read(size), dtype=dtype).reshape(shape[1:]))
    return rows
