"""A unit's tuning curves as one figure, PNG and SVG, drawn with matplotlib's Agg canvas.

Pure: a unit's tuning summary (the tuning job's JSON, see workers/renderers/tuning.py) in,
file bytes out. Only workers import it: matplotlib never loads in the web process.
"""

import colorsys
import io

import numpy as np
from matplotlib.figure import Figure

COLUMNS = 4
PANEL_INCHES = (2.6, 2.2)
DPI = 80
RESPONSE_COLOUR = "#1f4e9c"
DARK_COLOUR = "#b0401c"
BASELINE_STYLE = {"color": "#888888", "linestyle": "--", "linewidth": 0.8}
TITLES = {
    "edge": "Edges",
    "line": "Lines",
    "grating": "Gabor gratings",
    "curve": "Curves",
    "colour": "Colour fields",
    "colour_contrast": "Colour contrast",
    "dot": "Centre-surround dots",
}
INDEX_LABELS = {"circular_variance": "CV", "peak_selectivity": "peak sel."}


def _hue_colour(hue, value=1.0):
    return colorsys.hsv_to_rgb(hue / 360, 1.0, value)


def _index_text(family):
    if family["selectivity"] is None:
        return "no response above blank"
    return f"{INDEX_LABELS[family['index']]} {family['selectivity']:.2f}"


def _curve_panel(axes, family, baseline):
    axes.plot(family["curve_values"], family["curve"], color=RESPONSE_COLOUR, marker=".")
    axes.axhline(baseline, **BASELINE_STYLE)
    fixed = ", ".join(
        f"{name} {value:g}"
        for name, value in family["preferred"].items()
        if name != family["curve_axis"] and name not in family["pooled"]
    )
    axes.set_xlabel(f"{family['curve_axis']} ({fixed})" if fixed else family["curve_axis"])


def _colour_panel(axes, family, baseline):
    value = family["preferred"]["value"]
    hues = family["curve_values"]
    width = 0.8 * (hues[1] - hues[0]) if len(hues) > 1 else 20
    axes.bar(hues, family["curve"], width=width, color=[_hue_colour(h, value) for h in hues])
    axes.axhline(baseline, **BASELINE_STYLE)
    axes.set_xlabel(f"hue (value {value:g})")


def _contrast_panel(axes, family, baseline):
    grid = np.asarray(family["responses"]).max(axis=2)
    hues = family["axes"]["hue_left"]
    image = axes.imshow(grid, cmap="viridis", origin="lower", aspect="auto")
    ticks = range(0, len(hues), max(1, len(hues) // 4))
    axes.set_xticks(list(ticks), [f"{hues[i]:g}" for i in ticks])
    axes.set_yticks(list(ticks), [f"{hues[i]:g}" for i in ticks])
    axes.set_xlabel("hue right")
    axes.set_ylabel("hue left")
    axes.figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)


def _dot_panel(axes, family, baseline):
    grid = np.asarray(family["responses"])
    radii = family["axes"]["radius"]
    for column, polarity in enumerate(family["axes"]["polarity"]):
        light = polarity > 0
        axes.plot(
            radii,
            grid[:, column],
            color=RESPONSE_COLOUR if light else DARK_COLOUR,
            marker=".",
            label="light" if light else "dark",
        )
    axes.axhline(baseline, **BASELINE_STYLE)
    axes.set_xlabel("radius / field diameter")
    axes.legend(fontsize=6, frameon=False)


PANELS = {"colour": _colour_panel, "colour_contrast": _contrast_panel, "dot": _dot_panel}


def tuning_figure(summary):
    """The figure of one unit's ``summary``: a panel per family, the last one in words."""
    families = summary["families"]
    rows = -(-(len(families) + 1) // COLUMNS)
    figure = Figure(figsize=(PANEL_INCHES[0] * COLUMNS, PANEL_INCHES[1] * rows), dpi=DPI)
    grid = figure.subplots(rows, COLUMNS, squeeze=False).flatten()
    baseline = summary["baseline"]
    for axes, (name, family) in zip(grid, families.items(), strict=False):
        PANELS.get(name, _curve_panel)(axes, family, baseline)
        axes.set_title(f"{TITLES[name]} · {_index_text(family)}", fontsize=8)
        axes.tick_params(labelsize=6)
        axes.xaxis.label.set_size(7)
        axes.yaxis.label.set_size(7)
    words = grid[len(families)]
    words.axis("off")
    lines = [summary["unit"], f"blank: {baseline:.3g}"] + [
        f"{name}: " + ", ".join(f"{key} {value:g}" for key, value in family["preferred"].items())
        for name, family in families.items()
    ]
    words.text(0, 1, "\n".join(lines), va="top", fontsize=6, family="monospace", wrap=True)
    for axes in grid[len(families) + 1 :]:
        axes.axis("off")
    figure.suptitle(f"{summary['unit']} — responses at the receptive-field centre", fontsize=9)
    figure.tight_layout()
    return figure


def tuning_plot(summary):
    """``(png_bytes, svg_bytes)`` of one unit's tuning figure."""
    figure = tuning_figure(summary)
    png, svg = io.BytesIO(), io.BytesIO()
    figure.savefig(png, format="png", dpi=DPI)
    # No date in the SVG, so the same curves give the same file.
    figure.savefig(svg, format="svg", metadata={"Date": None})
    return png.getvalue(), svg.getvalue()
