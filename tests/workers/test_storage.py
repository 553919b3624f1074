import hashlib
import os

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from workers import storage
from workers.storage import sha256_file, stored_file_path


def test_sha256_file_hashes_the_bytes_of_a_file_larger_than_one_chunk(tmp_path):
    path = tmp_path / "blob"
    content = os.urandom(3 << 20)
    path.write_bytes(content)

    assert sha256_file(path) == hashlib.sha256(content).hexdigest()


def test_a_file_system_storage_gives_the_stored_files_own_path(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    stored = default_storage.save("networks/tiny/weights.pt", ContentFile(b"weights"))

    path = stored_file_path(stored, tmp_path / "unused")

    assert path == tmp_path / "media" / stored
    assert not (tmp_path / "unused").exists()


class ObjectStorage:
    """The file-system storage as object storage shows it: files to open, no local paths."""

    def open(self, name, mode="rb"):
        return default_storage.open(name, mode)

    def path(self, name):
        raise NotImplementedError("This backend doesn't support absolute paths.")


def test_a_storage_without_local_paths_gives_a_copy_in_the_folder(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path / "media"
    stored = default_storage.save("networks/tiny/weights.pt", ContentFile(b"weights" * 1000))
    monkeypatch.setattr(storage, "default_storage", ObjectStorage())
    folder = tmp_path / "copies"
    folder.mkdir()

    path = stored_file_path(stored, folder)

    assert path == folder / "weights.pt"
    assert path.read_bytes() == b"weights" * 1000
