"""Feature visualization as Lucid does it, batched over units: see `render_units`."""

from workers.engine.featurevis.batch import MapStats, UnitRender
from workers.engine.featurevis.render import render_units

__all__ = ["MapStats", "UnitRender", "render_units"]
