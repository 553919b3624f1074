"""A Python client for the Neuron Atlas REST API, for notebooks and scripts.

Standard library only::

    from atlas_client import Atlas

    atlas = Atlas.login("http://atlas.example.org", "ada", "secret")
    curves = atlas.create_group("early-vision", "Curves")
    units = [u for u in atlas.units("inceptionv1", layer="mixed3b") if u["index"] in picks]
    atlas.propose("early-vision", "inceptionv1", "Curve detectors", "…", units, group=curves)
    atlas.create_release("early-vision", "v1", notes="Early vision, first cut.")
    atlas.export("early-vision", "html", release="v1", path="early-vision-v1.html")
"""

from atlas_client.client import Atlas
from atlas_client.errors import AtlasError, StaleVersion

__all__ = ["Atlas", "AtlasError", "StaleVersion"]
__version__ = "0.1.0"
