"""The circuit diagram as SVG text: standalone, valid XML, laid out in layer rows, edges
coloured by sign and sized by magnitude, kernels drawn with the engine's colours."""

import random
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import torch

from annotations.formats.circuit_diagram import (
    IMAGE,
    MAX_STROKE,
    MIN_STROKE,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    DiagramEdge,
    DiagramNode,
    circuit_diagram_svg,
)
from annotations.formats.kernel_svg import kernel_colours, kernel_heatmap_svg
from annotations.formats.svg_text import text_width
from workers.engine.weight_images import kernel_image

SVG = "{http://www.w3.org/2000/svg}"
PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)


def parse(text):
    # Our own output, parsed to check it is well-formed; nothing untrusted is read here.
    return ET.fromstring(text.encode())  # noqa: S314


def node(layer, order, index, **fields):
    return DiagramNode(layer=layer, layer_order=order, index=index, **fields)


def three_layer_circuit():
    nodes = [
        node("conv2d2", 2, 21, role="early curve", image=PIXEL),
        node("conv2d2", 2, 40, image=PIXEL),
        node("mixed3a", 3, 12, role="curve", image=PIXEL),
        node("mixed3a", 3, 31, image=None),
        node("mixed3b", 4, 379, role="curve detector", image=PIXEL),
    ]
    edges = [
        DiagramEdge(
            source="conv2d2:21",
            target="mixed3a:12",
            magnitude=2.0,
            sign=1,
            kernel=[[0.5, -1.0], [0.0, 1.5]],
        ),
        DiagramEdge(
            source="conv2d2:40",
            target="mixed3a:31",
            magnitude=1.0,
            sign=-1,
            kernel=[[-0.25, 0.0], [0.0, -1.0]],
        ),
        DiagramEdge(
            source="mixed3a:12", target="mixed3b:379", magnitude=4.0, sign=1, kernel=[[1.0]]
        ),
        DiagramEdge(
            source="conv2d2:21",
            target="mixed3b:379",
            magnitude=0.5,
            sign=-1,
            kind="expanded",
            kernel=[[-0.5, 0.1]],
        ),
    ]
    return nodes, edges


def draw(nodes, edges, name="Curves", network="inceptionv1"):
    return circuit_diagram_svg(name=name, network=network, nodes=nodes, edges=edges)


def node_elements(root):
    return {
        element.get("data-address"): element
        for element in root.iter()
        if element.get("class") == "node"
    }


def edge_elements(root):
    return {
        (element.get("data-source"), element.get("data-target")): element
        for element in root.iter(f"{SVG}g")
        if element.get("class") == "edge"
    }


def translation(element):
    x, y = element.get("transform").removeprefix("translate(").removesuffix(")").split()
    return float(x), float(y)


def test_the_diagram_is_a_standalone_svg_document():
    root = parse(draw(*three_layer_circuit()))

    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root.find(f"{SVG}title").text == "Curves (inceptionv1)"


def test_with_data_uri_pictures_the_diagram_loads_nothing_from_elsewhere():
    root = parse(draw(*three_layer_circuit()))

    hrefs = [element.get("href") for element in root.iter() if element.get("href")]
    assert len(hrefs) == 4
    assert all(href.startswith("data:image/png;base64,") for href in hrefs)
    assert not [element for element in root.iter() if element.get("src") or element.get("style")]


def test_layers_are_rows_with_the_earliest_at_the_top():
    root = parse(draw(*three_layer_circuit()))

    rows = {address: translation(element)[1] for address, element in node_elements(root).items()}
    assert rows["conv2d2:21"] == rows["conv2d2:40"]
    assert rows["mixed3a:12"] == rows["mixed3a:31"]
    assert rows["conv2d2:21"] < rows["mixed3a:12"] < rows["mixed3b:379"]
    labels = [text.text for text in root.find(f"{SVG}g[@class='layers']").iter(f"{SVG}text")]
    assert labels == ["conv2d2", "mixed3a", "mixed3b"]


def test_each_node_shows_its_picture_address_and_role():
    root = parse(draw(*three_layer_circuit()))

    curve = node_elements(root)["mixed3b:379"]
    assert curve.find(f"{SVG}image").get("href") == PIXEL
    texts = {text.get("class"): text.text for text in curve.iter(f"{SVG}text")}
    assert texts == {"address": "mixed3b:379", "role": "curve detector"}
    assert curve.find(f"{SVG}title").text == "mixed3b:379: curve detector"


def test_a_unit_without_a_picture_gets_a_placeholder():
    root = parse(draw(*three_layer_circuit()))

    unrendered = node_elements(root)["mixed3a:31"]
    assert unrendered.find(f"{SVG}image") is None
    assert unrendered.find(f"{SVG}rect[@class='placeholder']") is not None
    assert "not rendered" in [text.text for text in unrendered.iter(f"{SVG}text")]


def test_nodes_with_a_link_are_anchors_to_it():
    nodes = [node("conv2d2", 2, 1, href="/p/x/units/net/conv2d2:1/"), node("mixed3a", 3, 2)]

    elements = node_elements(parse(draw(nodes, [])))

    assert elements["conv2d2:1"].tag == f"{SVG}a"
    assert elements["conv2d2:1"].get("href") == "/p/x/units/net/conv2d2:1/"
    assert elements["mixed3a:2"].tag == f"{SVG}g"


def test_edges_carry_their_ends_and_signed_weight_with_a_tooltip():
    root = parse(draw(*three_layer_circuit()))

    edges = edge_elements(root)
    assert set(edges) == {
        ("conv2d2:21", "mixed3a:12"),
        ("conv2d2:40", "mixed3a:31"),
        ("mixed3a:12", "mixed3b:379"),
        ("conv2d2:21", "mixed3b:379"),
    }
    inhibiting = edges[("conv2d2:40", "mixed3a:31")]
    assert inhibiting.get("data-weight") == "-1"
    assert inhibiting.get("data-kind") == "direct"
    assert inhibiting.find(f"{SVG}title").text == "conv2d2:40 → mixed3a:31: -1 (direct)"


def test_edges_are_red_when_positive_and_blue_when_negative():
    edges = edge_elements(parse(draw(*three_layer_circuit())))

    colour = {pair: edge.find(f"{SVG}path").get("stroke") for pair, edge in edges.items()}
    assert colour[("conv2d2:21", "mixed3a:12")] == POSITIVE
    assert colour[("mixed3a:12", "mixed3b:379")] == POSITIVE
    assert colour[("conv2d2:40", "mixed3a:31")] == NEGATIVE
    assert colour[("conv2d2:21", "mixed3b:379")] == NEGATIVE


def test_edge_width_scales_with_magnitude_relative_to_the_largest():
    edges = edge_elements(parse(draw(*three_layer_circuit())))

    width = {
        pair: float(edge.find(f"{SVG}path").get("stroke-width")) for pair, edge in edges.items()
    }
    assert width[("mixed3a:12", "mixed3b:379")] == MAX_STROKE
    assert width[("conv2d2:21", "mixed3a:12")] == pytest.approx(
        MIN_STROKE + (MAX_STROKE - MIN_STROKE) / 2, abs=0.005
    )
    assert width[("conv2d2:40", "mixed3a:31")] == pytest.approx(
        MIN_STROKE + (MAX_STROKE - MIN_STROKE) / 4, abs=0.005
    )


def test_expanded_edges_are_dashed_and_direct_ones_solid():
    edges = edge_elements(parse(draw(*three_layer_circuit())))

    assert edges[("conv2d2:21", "mixed3b:379")].find(f"{SVG}path").get("stroke-dasharray")
    assert edges[("conv2d2:21", "mixed3a:12")].find(f"{SVG}path").get("stroke-dasharray") is None


def test_each_edge_names_its_kernel_drawn_in_the_definitions():
    root = parse(draw(*three_layer_circuit()))

    edge = edge_elements(root)[("conv2d2:21", "mixed3a:12")]
    symbol = root.find(f"{SVG}defs/{SVG}symbol[@id='{edge.get('data-kernel')[1:]}']")
    fills = [rect.get("fill") for rect in symbol.iter(f"{SVG}rect")]
    assert symbol.get("viewBox") == "0 0 24 24"
    assert fills == ["#ffaaaa", "#5555ff", "#ffffff", "#ff0000"]
    assert edge.get("data-kernel-values") == "[[0.5,-1.0],[0.0,1.5]]"


def test_the_legend_explains_colour_dashes_and_width():
    root = parse(draw(*three_layer_circuit()))

    legend = root.find(f"{SVG}g[@class='legend']")
    assert [text.text for text in legend.iter(f"{SVG}text")] == [
        "positive weight",
        "negative weight",
        "expanded (across layers)",
        "width ∝ |weight|:",
        "0.4",
        "2",
        "4",
    ]


def test_markup_in_names_and_notes_is_escaped():
    name = 'Curves <b>& "friends"</b>'
    nodes = [node("conv2d2", 2, 1, role='<script>alert("x")</script> & more'), node("m3", 3, 1)]
    edges = [DiagramEdge(source="conv2d2:1", target="m3:1", magnitude=1, sign=1, kind='<"&>')]

    text = draw(nodes, edges, name=name, network='net "a" & <b>')
    root = parse(text)

    assert "<script>" not in text
    assert root.find(f"{SVG}title").text == 'Curves <b>& "friends"</b> (net "a" & <b>)'
    role = node_elements(root)["conv2d2:1"].find(f"{SVG}title").text
    assert role == 'conv2d2:1: <script>alert("x")</script> & more'
    assert edge_elements(root)[("conv2d2:1", "m3:1")].get("data-kind") == '<"&>'


def test_characters_xml_cannot_carry_are_dropped():
    nodes = [node("conv2d2", 2, 1, role="bell\x07 and nul\x00 here")]

    root = parse(draw(nodes, [], name="form\x0cfeed"))

    assert node_elements(root)["conv2d2:1"].find(f"{SVG}title").text == (
        "conv2d2:1: bell and nul here"
    )
    assert root.find(f"{SVG}title").text == "formfeed (inceptionv1)"


def test_long_roles_are_cut_to_two_lines_with_the_whole_note_in_the_tooltip():
    role = "responds to curves facing left at many scales, and to some circles too"
    root = parse(draw([node("mixed3b", 4, 379, role=role)], []))

    curve = node_elements(root)["mixed3b:379"]
    lines = [text.text for text in curve.iter(f"{SVG}text") if text.get("class") == "role"]
    assert len(lines) == 2
    assert lines[1].endswith("…")
    assert curve.find(f"{SVG}title").text == f"mixed3b:379: {role}"


def test_the_same_circuit_in_any_order_gives_the_same_text():
    nodes, edges = three_layer_circuit()
    shuffled_nodes, shuffled_edges = list(nodes), list(edges)
    random.Random(3).shuffle(shuffled_nodes)
    random.Random(4).shuffle(shuffled_edges)

    assert draw(shuffled_nodes, shuffled_edges) == draw(nodes, edges)


def test_units_in_a_row_are_ordered_to_avoid_crossings():
    nodes = [node("a", 1, 0), node("a", 1, 1), node("b", 2, 0), node("b", 2, 1)]
    edges = [
        DiagramEdge(source="a:0", target="b:1", magnitude=1, sign=1),
        DiagramEdge(source="a:1", target="b:0", magnitude=1, sign=1),
    ]

    elements = node_elements(parse(draw(nodes, edges)))

    x = {address: translation(element)[0] for address, element in elements.items()}
    assert x["a:0"] < x["a:1"]
    assert x["b:1"] < x["b:0"]


def test_an_edge_to_a_unit_outside_the_circuit_is_refused():
    with pytest.raises(ValueError, match="mixed4a:1"):
        draw([node("mixed3b", 4, 1)], [DiagramEdge("mixed3b:1", "mixed4a:1", 1.0, 1)])


def test_a_unit_listed_twice_is_refused():
    with pytest.raises(ValueError, match="once"):
        draw([node("mixed3b", 4, 1), node("mixed3b", 4, 1, role="again")], [])


def test_kernel_colours_match_the_engine_weight_images():
    kernel = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)

    engine = kernel_image(torch.from_numpy(kernel), pixels_per_weight=1)

    assert np.array_equal(np.array(kernel_colours(kernel.tolist()), dtype=np.uint8), engine)


def test_an_all_zero_kernel_is_white():
    assert kernel_colours([[0.0, 0.0]]) == [[(255, 255, 255), (255, 255, 255)]]


def test_the_kernel_heatmap_is_a_standalone_svg_with_a_square_per_weight():
    root = parse(kernel_heatmap_svg([[1.0, -2.0, 0.0], [0.5, 0.0, 2.0]], cell=10))

    squares = list(root.iter(f"{SVG}rect"))
    assert (root.get("width"), root.get("height")) == ("30", "20")
    assert [(square.get("x"), square.get("y")) for square in squares] == [
        ("0", "0"),
        ("10", "0"),
        ("20", "0"),
        ("0", "10"),
        ("10", "10"),
        ("20", "10"),
    ]
    assert [square.get("fill") for square in squares] == [
        "#ff8080",
        "#0000ff",
        "#ffffff",
        "#ffbfbf",
        "#ffffff",
        "#ff0000",
    ]
    assert [square.find(f"{SVG}title").text for square in squares] == [
        "+1",
        "-2",
        "+0",
        "+0.5",
        "+0",
        "+2",
    ]


def test_an_edge_across_two_rows_passes_between_the_pictures_of_the_row_between():
    nodes = [node("a", 1, 0), node("b", 2, 0), node("b", 2, 1), node("b", 2, 2), node("c", 3, 0)]
    edges = [DiagramEdge(source="a:0", target="c:0", magnitude=1, sign=1, kind="expanded")]

    root = parse(draw(nodes, edges))

    path = edge_elements(root)[("a:0", "c:0")].find(f"{SVG}path").get("d")
    via_x = float(path.split(" S ")[0].split()[-2])
    middle_row = [translation(element)[0] for address, element in node_elements(root).items()
                  if address.startswith("b:")]  # fmt: skip
    assert [left for left in middle_row if left <= via_x <= left + IMAGE] == []


def test_a_connection_whose_kernel_sums_to_zero_is_grey():
    nodes = [node("a", 1, 0), node("b", 2, 0)]
    edges = [DiagramEdge(source="a:0", target="b:0", magnitude=1, sign=0, kernel=[[1, -1]])]

    edge = edge_elements(parse(draw(nodes, edges)))[("a:0", "b:0")]

    assert edge.find(f"{SVG}path").get("stroke") == NEUTRAL
    assert edge.get("data-weight") == "0"


def test_an_empty_circuit_draws_its_title_and_legend():
    root = parse(draw([], [], name="Not started"))

    assert root.find(f"{SVG}title").text == "Not started (inceptionv1)"
    assert node_elements(root) == {}
    assert root.find(f"{SVG}g[@class='legend']") is not None


LONG_LAYERS = [
    ("features.2.conv.0.depthwise_separable", 3),
    ("features.2.conv.1.pointwise_linear_bottleneck", 4),
    ("features.3.conv.0.expand", 5),
]
LONG_ROLE = "responds to curves facing left at many scales, and some circles too"


def long_named_circuit():
    nodes = [
        node(layer, order, index, role=LONG_ROLE if index % 2 else "edge", image=PIXEL)
        for layer, order in LONG_LAYERS
        for index in (15, 127, 383, 1000, 2047)
    ]
    edges = [
        DiagramEdge(f"{LONG_LAYERS[0][0]}:15", f"{LONG_LAYERS[1][0]}:383", 1.0, 1),
        DiagramEdge(f"{LONG_LAYERS[1][0]}:1000", f"{LONG_LAYERS[2][0]}:15", 2.0, -1, "expanded"),
    ]
    return nodes, edges


def label_boxes(root):
    """(text, left, top, right, bottom) of every label the diagram draws, from its x, y,
    anchor, font size and weight (inherited as SVG inherits them) and the translations of
    its ancestors; glyphs reach 0.93 em above the baseline and 0.24 em below."""
    parents = {child: parent for parent in root.iter() for child in parent}

    def inherited(element, name, default):
        while element is not None:
            if element.get(name) is not None:
                return element.get(name)
            element = parents.get(element)
        return default

    boxes = []
    for text in root.iter(f"{SVG}text"):
        if not text.text:
            continue
        x, y = float(text.get("x")), float(text.get("y"))
        ancestor = parents[text]
        while ancestor is not None:
            if ancestor.get("transform"):
                dx, dy = translation(ancestor)
                x, y = x + dx, y + dy
            ancestor = parents.get(ancestor)
        size = float(inherited(text, "font-size", "16"))
        bold = inherited(text, "font-weight", "normal") == "bold"
        width = text_width(text.text, size, bold=bold)
        anchor = inherited(text, "text-anchor", "start")
        left = x - {"start": 0, "middle": width / 2, "end": width}[anchor]
        boxes.append((text.text, left, y - 0.93 * size, left + width, y + 0.24 * size))
    return boxes


def test_no_two_labels_overlap_however_long_the_names():
    root = parse(draw(*long_named_circuit(), name="Curve detectors " * 8, network="mobilenet_v2"))

    boxes = label_boxes(root)
    overlapping = [
        (a[0], b[0])
        for number, a in enumerate(boxes)
        for b in boxes[number + 1 :]
        if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]
    ]
    assert len(boxes) > 40
    assert overlapping == []
    assert min(box[1] for box in boxes) >= 0
    assert max(box[3] for box in boxes) <= float(root.get("width"))


def test_a_long_address_keeps_its_index_and_gives_the_whole_in_the_tooltip():
    root = parse(draw(*long_named_circuit()))

    unit = node_elements(root)["features.2.conv.1.pointwise_linear_bottleneck:383"]
    label = next(text.text for text in unit.iter(f"{SVG}text") if text.get("class") == "address")
    assert label.startswith("features.2.conv.1.")
    assert label.endswith("…:383")
    assert unit.find(f"{SVG}title").text.startswith(
        "features.2.conv.1.pointwise_linear_bottleneck:383: "
    )


def test_a_long_layer_name_wraps_at_its_dots_with_the_whole_name_in_the_tooltip():
    root = parse(draw(*long_named_circuit()))

    [label] = [
        element
        for element in root.iter(f"{SVG}g")
        if element.get("class") == "layer"
        and element.get("data-layer") == "features.2.conv.0.depthwise_separable"
    ]
    lines = [text.text for text in label.iter(f"{SVG}text")]
    assert len(lines) > 1
    assert all(line.endswith(".") for line in lines[:-1])
    assert "".join(lines) == "features.2.conv.0.depthwise_separable"
    assert label.find(f"{SVG}title").text == "features.2.conv.0.depthwise_separable"


def test_a_short_address_is_drawn_whole_at_the_usual_pitch():
    root = parse(draw(*three_layer_circuit()))

    elements = node_elements(root)
    first, second = translation(elements["conv2d2:21"]), translation(elements["conv2d2:40"])
    assert abs(second[0] - first[0]) == 156
    labels = [text.text for text in root.iter(f"{SVG}text") if text.get("class") == "address"]
    assert sorted(labels) == sorted(elements)


def test_the_diagram_is_a_group_not_an_image_since_its_edges_and_units_take_focus():
    root = parse(draw(*three_layer_circuit()))

    assert root.get("role") == "group"
    assert root.get("aria-label") == "Circuit Curves"
