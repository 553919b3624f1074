"""Checkpoints of a dataset pass, kept through Django's storage so that any worker can resume.

A job's checkpoints live under ``checkpoints/<kind>/<request hash>/``: the same request (kind,
network, layer, units, parameters) finds them again, whether its job was requeued after its
worker was lost or it is a new job asked for after a cancel. Each checkpoint is two files
written once: ``maxima-<images>.f32``, the per-image maxima of the images since the previous
checkpoint (the pass's spool segment, `engine.spool`, copied as it is: writing them all costs
one pass, not one per checkpoint, and no more memory than a copy buffer), and then
``state-<images>.pt``, the rest of the running state with the names of every maxima file it
needs and a fingerprint of what the pass reads (dataset, batch size, code). A checkpoint counts
only once its state file is complete; older state files are removed after a newer is written.
A checkpoint whose fingerprint differs from the job's is ignored (and removed).
"""

import hashlib
import io
import logging
import re

import torch
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage

from workers.provenance import code_version

logger = logging.getLogger(__name__)

_STATE = re.compile(r"^state-(\d{12})\.pt$")


def _load(name):
    with default_storage.open(name, "rb") as handle:
        return torch.load(io.BytesIO(handle.read()), weights_only=True)


def _save(name, content):
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, content)
    if saved != name:  # another writer raced us to the name: theirs is the same content
        default_storage.delete(saved)


def dataset_fingerprint(dataset, batch_size):
    """What a resumed pass must share with the interrupted one to give the same result."""
    names = hashlib.sha256("\n".join(dataset.names).encode()).hexdigest()
    return {
        "images": len(dataset),
        "names": names,
        "size": dataset.size,
        "batch_size": batch_size,
        "code": code_version(),
    }


def _save_payload(name, payload):
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    _save(name, ContentFile(buffer.getvalue()))


class PassCheckpoints:
    """Save and find the checkpoints of one job's dataset pass, whose per-image maxima go to
    ``spool`` (an `engine.spool.MaximaSpool`)."""

    def __init__(self, job, fingerprint, spool):
        self.folder = f"checkpoints/{job.kind}/{job.request_hash}"
        self.fingerprint = fingerprint
        self.spool = spool
        # The maxima files the last saved or loaded state holds.
        self.chunks: list[str] = []
        self.saves = 0

    def _states(self):
        try:
            _, files = default_storage.listdir(self.folder)
        except FileNotFoundError:
            return []
        found = sorted((int(match[1]), name) for name in files if (match := _STATE.match(name)))
        return [f"{self.folder}/{name}" for _, name in reversed(found)]

    def latest(self):
        """(engine state, extra) of the newest usable checkpoint, or None; its maxima are
        copied into the spool (left empty when there is none)."""
        for name in self._states():
            self.spool.clear()
            try:
                saved = _load(name)
                if saved["fingerprint"] != self.fingerprint:
                    logger.info("checkpoint %s is of another dataset or code; ignored", name)
                    continue
                for chunk in saved["chunks"]:
                    with default_storage.open(chunk, "rb") as handle:
                        self.spool.add_segment(handle)
                if self.spool.images != saved["state"]["images"]:
                    raise ValueError(
                        f"{self.spool.images} images' maxima for {saved['state']['images']}"
                    )
            except (OSError, RuntimeError, KeyError, EOFError, ValueError) as error:
                logger.warning("checkpoint %s unreadable (%r); trying an older one", name, error)
                continue
            self.chunks = list(saved["chunks"])
            return saved["state"], saved["extra"]
        self.spool.clear()
        return None

    def save(self, state, extra):
        """Write a checkpoint of engine ``state`` (``_RunningExamples.state``) and ``extra``
        (what the renderer needs besides: JSON-like values), the spool's maxima since the
        previous checkpoint streamed from its segment file."""
        images = state["images"]
        chunks = list(self.chunks)
        segment = self.spool.cut()
        if segment is not None:
            chunk = f"{self.folder}/maxima-{images:012d}.f32"
            with open(segment, "rb") as handle:
                _save(chunk, File(handle))
            chunks.append(chunk)
        name = f"{self.folder}/state-{images:012d}.pt"
        _save_payload(
            name,
            {"fingerprint": self.fingerprint, "state": state, "chunks": chunks, "extra": extra},
        )
        older = self._states()[1:]
        for stale in older:
            default_storage.delete(stale)
        self.chunks = chunks
        self.saves += 1

    def clear(self):
        """Remove every file of the job's checkpoints (the pass finished)."""
        try:
            _, files = default_storage.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in files:
            default_storage.delete(f"{self.folder}/{name}")
