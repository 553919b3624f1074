// A circuit: its name, description and diagram; clicking a connection shows its kernel.
import { ApiError, get, projectPaths } from "./api.js";
import { $, attempt, h, pageLinks, when } from "./dom.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const page = $("#circuit-page");
const { project: slug } = page.dataset;
const id = Number(page.dataset.circuit);
const detail = `${projectPaths(slug).root}circuits/${id}/`;
const links = pageLinks(slug);
let network = "";

/** The diagram as an SVG element, from the API's standalone document. */
async function fetchDiagram() {
  let response;
  try {
    response = await fetch(`/api/v1/${detail}diagram.svg`, { credentials: "same-origin" });
  } catch (failure) {
    throw new ApiError(0, { detail: `The server could not be reached (${failure.message}).`, code: "network" });
  }
  const text = await response.text();
  if (!response.ok) {
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = { detail: response.statusText };
    }
    throw new ApiError(response.status, body);
  }
  const document_ = new DOMParser().parseFromString(text, "image/svg+xml");
  if (document_.querySelector("parsererror")) {
    throw new ApiError(response.status, { detail: "The diagram is not valid SVG.", code: "bad_svg" });
  }
  return document.importNode(document_.documentElement, true);
}

function showCircuit(circuit) {
  network = circuit.network;
  document.title = `${circuit.name} · circuit`;
  $("#circuit-name").textContent = circuit.name;
  $("#circuit-meta").textContent =
    `${circuit.network} · ${circuit.node_count} units · ${circuit.edge_count} connections · version ${circuit.version} · updated ${when(circuit.updated_at)}`;
  $("#circuit-description").innerHTML = circuit.description_html || "<p class='empty'>No description.</p>"; // sanitized by the server
}

function kernelPicture(edge, diagram) {
  const symbol = diagram.querySelector(edge.dataset.kernel);
  if (!symbol) return h("p", { class: "empty" }, "No kernel stored.");
  const picture = document.createElementNS(SVG_NS, "svg");
  picture.setAttribute("viewBox", symbol.getAttribute("viewBox"));
  picture.setAttribute("role", "img");
  picture.setAttribute("aria-label", `kernel of ${edge.dataset.source} to ${edge.dataset.target}`);
  picture.append(...[...symbol.children].map((cell) => cell.cloneNode(true)));
  return picture;
}

function kernelTable(values) {
  return values.map((row) =>
    h("tr", {}, row.map((value) => h("td", { class: value > 0 ? "positive" : value < 0 ? "negative" : "" }, value.toFixed(3)))),
  );
}

function showEdge(edge, diagram) {
  for (const other of diagram.querySelectorAll("g.edge.selected")) other.classList.remove("selected");
  edge.classList.add("selected");
  const { source, target, weight, kind } = edge.dataset;
  const values = JSON.parse(edge.dataset.kernelValues || "[]");
  $("#edge-empty").hidden = true;
  $("#edge-detail").hidden = false;
  for (const [selector, address] of [["#edge-source", source], ["#edge-target", target]]) {
    const link = $(selector);
    link.textContent = address;
    link.href = links.unit(network, address);
  }
  const signed = Number(weight);
  const effect = signed > 0 ? "excites" : signed < 0 ? "inhibits" : "neither";
  $("#edge-weight").textContent = `${signed > 0 ? "+" : ""}${weight} (${effect})`;
  $("#edge-kind").textContent = kind;
  $("#edge-size").textContent = values.length ? `${values.length} × ${values[0].length}` : "none";
  $("#edge-kernel").replaceChildren(kernelPicture(edge, diagram));
  $("#edge-values").replaceChildren(...kernelTable(values));
}

function listenForEdges(diagram) {
  const pick = (event) => {
    const edge = event.target.closest("g.edge");
    if (edge) showEdge(edge, diagram);
  };
  diagram.addEventListener("click", pick);
  diagram.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      const edge = event.target.closest("g.edge");
      if (!edge) return;
      event.preventDefault();
      showEdge(edge, diagram);
    }
  });
}

async function start() {
  const [circuit, diagram] = await Promise.all([
    attempt("Loading the circuit", () => get(detail)),
    attempt("Loading the diagram", fetchDiagram),
  ]);
  if (circuit) showCircuit(circuit);
  const frame = $("#diagram");
  frame.removeAttribute("aria-busy");
  if (diagram) {
    frame.replaceChildren(diagram);
    listenForEdges(diagram);
  }
  if (circuit && diagram) page.dataset.ready = "true";
}

start();
