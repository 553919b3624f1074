"""Pieces every renderer shares: thumbnails, the layer's sprite sheet, resuming a job."""

import io
import json

import numpy as np
from PIL import Image

from workers.engine.images import sprite_sheet
from workers.models import Artifact


def thumbnail(rgb, size):
    """``rgb`` (H×W×3 uint8) scaled to fit ``size`` pixels, for a sprite sheet tile."""
    if max(rgb.shape[:2]) <= size:
        return rgb
    image = Image.fromarray(rgb).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(image)


def recorded_images(job, variant):
    """Unit index → RGB image of the ``variant`` images this job recorded in earlier runs."""
    images = {}
    rows = Artifact.objects.filter(
        job=job, kind=Artifact.Kind.UNIT_IMAGE, variant=variant
    ).select_related("unit")
    for row in rows:
        with row.file.open("rb") as handle:
            images[row.unit.index] = np.asarray(
                Image.open(io.BytesIO(handle.read())).convert("RGB")
            )
    return images


def add_layer_sprite(
    job, artifacts, tiles, *, variant="", index_fields=None, unit_fields=None, layer=None
):
    """Add the layer's sprite sheet of ``tiles`` ({unit index: rgb}) and its JSON index.

    index_fields: more entries for the index; unit_fields: {unit index: {name: value}}, more
    entries for each unit's place in the index (what a grid shows beside the tile); layer: the
    layer the sheet shows when it is not the job's (a job over several layers).
    """
    sheet, index = sprite_sheet(sorted(tiles.items()))
    shown = layer or job.layer
    index.update({"layer": shown.name, "network": job.network.name, "kind": job.kind})
    index.update(index_fields or {})
    for place in index["units"]:
        place.update((unit_fields or {}).get(place["index"], {}))
    artifacts.add(
        layer=layer,
        kind=Artifact.Kind.LAYER_SPRITE,
        variant=variant,
        filename=f"sprite{variant}.png",
        content=sheet,
        content_type="image/png",
    )
    artifacts.add(
        layer=layer,
        kind=Artifact.Kind.LAYER_INDEX,
        variant=variant,
        filename=f"sprite{variant}.json",
        content=json.dumps(index, sort_keys=True).encode(),
        content_type="application/json",
    )
