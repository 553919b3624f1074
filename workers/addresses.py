"""A unit's address as the papers write it, ``mixed3b:379``: parsed and formatted here only.

Pure Python (no Django, no torch), so the engine, the workers, the annotations and the
client-facing code share one spelling.
"""

from dataclasses import dataclass


class MalformedAddress(ValueError):
    """Text that is not ``<layer>:<index>``."""


@dataclass(frozen=True, order=True)
class UnitAddress:
    """Unit ``index`` of layer ``layer``; ``str()`` gives ``"layer:index"``."""

    layer: str
    index: int

    def __str__(self):
        return f"{self.layer}:{self.index}"

    @classmethod
    def parse(cls, text):
        """``"mixed3b:379"`` → ``UnitAddress("mixed3b", 379)``; the layer is what comes before
        the last colon (layer names may hold colons), the index ASCII digits only."""
        layer, separator, index = str(text).rpartition(":")
        if not separator or not layer or not (index.isascii() and index.isdigit()):
            raise MalformedAddress(
                f"{text!r} is not a unit address; write it like the papers: 'mixed3b:379'."
            )
        return cls(layer, int(index))

    @classmethod
    def of(cls, unit):
        """The address of a catalog ``Unit`` (its layer already loaded, to spare a query)."""
        return cls(unit.layer.name, unit.index)
