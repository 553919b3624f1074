// Evidence on hypotheses: choosing it (renders of the units, circuits of the network) in the
// propose and revise forms, and showing it beside the units' own pictures.
import { get, projectPaths } from "./api.js";
import { h, reportError } from "./dom.js";

// The renders a reviewer weighs a claim by, in the order the Circuits articles argue from.
const KIND_ORDER = ["feature_visualization", "dataset_examples", "weights", "first_layer_weights"];
const KIND_NAMES = {
  feature_visualization: "feature visualization",
  dataset_examples: "dataset examples",
  weights: "weights",
  first_layer_weights: "first-layer weights",
  circuit: "circuit",
};
// How many units a picker reads the renders of (one request each).
const MAX_UNITS = 24;

const unitPath = (network, address) => `networks/${network}/units/${encodeURIComponent(address)}/`;
const kindName = (kind) => KIND_NAMES[kind] ?? kind.replaceAll("_", " ");
const isImage = (contentType) => (contentType || "").startsWith("image/");

/** The renders of one unit from its card: [{id, kind, variant, url, content_type}], newest job first. */
async function unitRenders(network, address) {
  const card = await get(`${unitPath(network, address)}card/`);
  return card.renderings
    .filter((rendering) => rendering.status === "succeeded" || rendering.artifacts.length)
    .flatMap((rendering) =>
      rendering.artifacts.map((artifact) => ({
        id: artifact.id,
        kind: rendering.kind,
        variant: artifact.variant,
        unit: address,
        url: artifact.download_url,
        content_type: artifact.content_type,
      })),
    )
    .sort((a, b) => rank(a.kind) - rank(b.kind));
}

function rank(kind) {
  const position = KIND_ORDER.indexOf(kind);
  return position < 0 ? KIND_ORDER.length : position;
}

function caption(item) {
  return `${item.unit} · ${kindName(item.kind)}${item.variant ? ` (${item.variant})` : ""}`;
}

function choice(name, value, checked, label, picture) {
  return h(
    "label",
    { class: "evidence-choice" },
    h("input", { type: "checkbox", name, value: String(value), checked }),
    picture ? h("img", { src: picture, alt: "", loading: "lazy", width: 64, height: 64 }) : null,
    h("span", {}, label),
  );
}

/**
 * An evidence chooser in ``container`` (a fieldset): "Find evidence" reads the renders of the
 * units ``units()`` names and the circuits of ``network``, offered as checkboxes; ``chosen``
 * ({evidence, evidence_circuits}) starts ticked. Read the choice with ``evidenceChosen``.
 */
export function mountEvidencePicker(container, { slug, network, units, chosen = {} }) {
  const picked = {
    evidence: new Set(chosen.evidence || []),
    evidence_circuits: new Set(chosen.evidence_circuits || []),
  };
  const list = h("div", { class: "evidence-choices", role: "group", "aria-label": "Evidence to attach" });
  const status = h("p", { class: "meta", role: "status" });
  const find = h("button", { type: "button", dataset: { action: "find-evidence" } }, "Find evidence for these units");
  container.replaceChildren(h("legend", {}, "Evidence"), find, status, list);
  container.evidenceState = picked;
  list.addEventListener("change", (event) => {
    const box = event.target;
    const set = picked[box.name];
    if (!set) return;
    if (box.checked) set.add(Number(box.value));
    else set.delete(Number(box.value));
  });
  find.addEventListener("click", async () => {
    const addresses = units().slice(0, MAX_UNITS);
    if (!addresses.length) {
      status.textContent = "Choose the units first.";
      return;
    }
    status.textContent = "Looking for renders…";
    try {
      const [renders, circuits] = await Promise.all([
        Promise.all(addresses.map((address) => unitRenders(network, address))),
        get(`${projectPaths(slug).root}circuits/`, { page_size: 200 }),
      ]);
      const items = renders.flat();
      const ofNetwork = circuits.results.filter((circuit) => circuit.network === network);
      list.replaceChildren(
        ...items.map((item) =>
          choice("evidence", item.id, picked.evidence.has(item.id), caption(item), isImage(item.content_type) ? item.url : null),
        ),
        ...ofNetwork.map((circuit) =>
          choice("evidence_circuits", circuit.id, picked.evidence_circuits.has(circuit.id), `circuit ${circuit.name}`, null),
        ),
      );
      status.textContent = items.length || ofNetwork.length
        ? `${items.length} render(s) and ${ofNetwork.length} circuit(s) to choose from.`
        : "No renders of these units yet: render them from the grid first.";
      container.dataset.ready = "true";
    } catch (error) {
      status.textContent = "";
      reportError(error, "Finding evidence");
    }
  });
}

/** The evidence chosen in a picker: {evidence: [artifact ids], evidence_circuits: [ids]}. */
export function evidenceChosen(container) {
  const picked = container.evidenceState;
  return { evidence: [...picked.evidence], evidence_circuits: [...picked.evidence_circuits] };
}

/** An evidence item of the API (``evidence_items``) as a captioned figure. */
export function evidenceFigure(item, links) {
  const target = item.kind === "circuit" ? `${links.project}circuits/${item.circuit}/` : item.url;
  const picture = item.url && (isImage(item.content_type) || item.kind === "circuit")
    ? h("img", { src: item.url, alt: item.caption, loading: "lazy" })
    : h("span", { class: "evidence-file" }, item.kind === "missing" ? "gone" : "data");
  return h(
    "figure",
    { class: `evidence-item ${item.kind}`, dataset: { kind: item.kind } },
    target ? h("a", { href: target }, picture) : picture,
    h("figcaption", {}, item.caption),
  );
}

/** One unit's own pictures beside the evidence: its feature visualization and top examples. */
export async function unitFigures(network, address) {
  const renders = await unitRenders(network, address);
  const first = (kind, variants) => renders.find((item) => item.kind === kind && variants.includes(item.variant));
  return [first("feature_visualization", ["positive", ""]), first("dataset_examples", ["top"])]
    .filter((item) => item && isImage(item.content_type))
    .map((item) =>
      h("figure", { class: "unit-picture" }, h("img", { src: item.url, alt: caption(item), loading: "lazy" }), h("figcaption", {}, caption(item))),
    );
}
