// The grid's "add to circuit" form: the units selected in the grid (selection.js announces
// every change) join a circuit of this network.
import { mountCircuitPicker } from "./circuit_picker.js";
import { $ } from "./dom.js";

const { project: slug, network, layer } = $("#grid-page").dataset;
let selected = [];

const picker = mountCircuitPicker($("#circuit-form"), { slug, network, units: () => selected.map((index) => `${layer}:${index}`) });
// The circuits are read once something is selected, not while the grid loads.
document.addEventListener("atlas:selection", (event) => {
  selected = event.detail.indices;
  if (selected.length) picker.load();
});
