"""Feature visualization as Lucid does it, batched over units: see `render_units`.

The algorithm reads in param.py, transforms.py, objectives.py, relu.py, batch.py and
render.py; what only makes it fast is in speedups/, chosen by a `RenderOptions`.
"""

from workers.engine.featurevis.batch import MapStats, UnitRender
from workers.engine.featurevis.options import RenderOptions
from workers.engine.featurevis.render import render_units

__all__ = ["MapStats", "RenderOptions", "UnitRender", "render_units"]
