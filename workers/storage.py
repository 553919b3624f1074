"""Stored files (network weights) as local files the engine can read, and their hash."""

import hashlib
from pathlib import Path

from django.core.files.storage import default_storage


def sha256_file(path):
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def stored_file_path(stored_name, folder):
    """A local path to the stored file: its own on a file-system storage; on object storage,
    which has no local paths, a copy fetched into ``folder``."""
    try:
        return Path(default_storage.path(stored_name))
    except NotImplementedError:
        local = Path(folder) / Path(stored_name).name
        with default_storage.open(stored_name, "rb") as remote, local.open("wb") as out:
            for chunk in iter(lambda: remote.read(1 << 20), b""):
                out.write(chunk)
        return local
