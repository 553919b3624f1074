"""Text in SVG drawn without a browser: how wide a label is at most, lines fitted and wrapped
to a width, and XML that carries any text.

Widths come from tables, not a font file, so that the web process lays out labels without
rendering anything: a label fitted here fits whichever of the named fonts draws it.
"""

import re
import xml.etree.ElementTree as ET

SVG_NAMESPACE = "http://www.w3.org/2000/svg"
ELLIPSIS = "…"

# Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Advance widths, in thousandths of an em, of ASCII 32-126 in DejaVu Sans: the widest of the
# fonts the diagram names or falls back to (Helvetica and Arial are narrower; "_" takes
# Helvetica's wider one). Labels are fitted by these, so they fit whichever font draws them.
_REGULAR_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
    770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732,
    684, 989, 685, 611, 685, 390, 337, 390, 838, 556, 500, 613, 635, 550, 635, 615, 352, 635,
    634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,
    525, 636, 337, 636, 838,
)  # fmt: skip
_BOLD_WIDTHS = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696,
    696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734,
    830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812,
    774, 1103, 771, 724, 725, 457, 365, 457, 838, 556, 500, 675, 716, 593, 716, 678, 435, 716,
    712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652,
    582, 712, 365, 712, 838,
)  # fmt: skip
# A line may break after these (a layer name breaks at its dots) or at a space.
_BREAKS = " ._:/-"


def text_width(text: str, font_size: float, *, bold: bool = False) -> float:
    """The width ``text`` takes at ``font_size`` pixels, at most: by DejaVu Sans's advances
    for ASCII, a whole em for any other character."""
    table = _BOLD_WIDTHS if bold else _REGULAR_WIDTHS
    thousandths = sum(table[ord(c) - 32] if 32 <= ord(c) < 127 else 1000 for c in text)
    return font_size * thousandths / 1000


def fit_line(text: str, font_size: float, width: float, *, bold: bool = False) -> str:
    """``text`` if it fits ``width``; else its longest beginning that fits with "…" after it."""
    if text_width(text, font_size, bold=bold) <= width:
        return text
    for end in range(len(text) - 1, -1, -1):
        cut = text[:end].rstrip() + ELLIPSIS
        if text_width(cut, font_size, bold=bold) <= width:
            return cut
    return ""


def wrap_lines(text: str, font_size: float, width: float, *, lines: int, bold=False) -> list[str]:
    """``text`` in at most ``lines`` lines each fitting ``width``: broken after a dot,
    underscore, colon, slash or hyphen or at a space where one is near, inside a word
    otherwise; what is left over ends the last line with "…"."""
    rest = " ".join(text.split())
    wrapped = []
    while rest:
        if text_width(rest, font_size, bold=bold) <= width:
            return [*wrapped, rest]
        if len(wrapped) == lines - 1:
            return [*wrapped, fit_line(rest, font_size, width, bold=bold)]
        fits = 1
        while text_width(rest[: fits + 1], font_size, bold=bold) <= width:
            fits += 1
        breaks = [at + 1 for at in range(fits) if rest[at] in _BREAKS]
        end = breaks[-1] if breaks and breaks[-1] > fits // 3 else fits
        wrapped.append(rest[:end].rstrip())
        rest = rest[end:].lstrip()
    return wrapped


def clean_text(text) -> str:
    """``text`` as a string without the characters XML 1.0 cannot carry."""
    return _NOT_XML.sub("", str(text))


def text_child(parent, tag, text, attributes=None):
    """A new ``tag`` element under ``parent`` holding ``text`` (cleaned)."""
    child = ET.SubElement(parent, tag, attributes or {})
    child.text = clean_text(text)
    return child


def svg_document(svg) -> str:
    """A standalone SVG document of the element tree."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(svg, encoding="unicode") + "\n"
