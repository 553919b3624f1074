"""Registering a local folder of images as a dataset for dataset-example jobs."""

from pathlib import Path

from django.db import IntegrityError

from server.errors import Conflict, ValidationFailed
from workers.engine import datasets as engine_datasets
from workers.engine.errors import EngineError
from workers.models import Dataset
from workers.services.networks import NAME_PATTERN


def dataset_register(*, name, path, description="", public=False, actor=None):
    """Record ``path`` (a folder of jpg/png/bmp/webp images, searched recursively) as ``name``.

    A ``public`` dataset is open to every signed-in user; another only to the projects it is
    added to (``annotations.services.datasets.project_dataset_register``).
    """
    if not NAME_PATTERN.fullmatch(name or "") or name == "demo":
        raise ValidationFailed(
            "Invalid dataset name.",
            fields={"name": ["Lowercase letters, digits, '-' or '_'; 'demo' is built in."]},
        )
    folder = Path(path).expanduser().resolve()
    try:
        images = engine_datasets.folder_dataset(folder)
    except EngineError as error:
        raise ValidationFailed(
            str(error), code=error.code, fields={"path": [str(error)]}
        ) from error
    try:
        return Dataset.objects.create(
            name=name,
            path=str(folder),
            image_count=len(images),
            description=description,
            public=public,
            created_by=actor,
        )
    except IntegrityError as error:
        raise Conflict(f"A dataset named {name!r} exists.", code="name_taken") from error
