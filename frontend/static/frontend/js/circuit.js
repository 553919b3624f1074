// A circuit: its name, description and diagram; clicking a connection shows its kernel. Its
// units and their roles are edited here; it grows from a unit (or joins two) by the weights a
// connections job stores, which the page waits for, showing the job's progress, before
// sending the change again; a hypothesis about it is proposed here, and it is discussed.
import { ApiError, get, post, projectPaths, request } from "./api.js";
import { $, announce, attempt, h, pageLinks, reportError, when } from "./dom.js";
import { mountThread } from "./thread.js";

const SVG_NS = "http://www.w3.org/2000/svg";
const page = $("#circuit-page");
const { project: slug } = page.dataset;
const id = Number(page.dataset.circuit);
const detail = `${projectPaths(slug).root}circuits/${id}/`;
const links = pageLinks(slug);
const JOB_POLL_MS = 1000;
let network = "";
// The circuit as last read or changed, and its ETag for the next change.
const state = { circuit: null, etag: null };

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

async function showDiagram() {
  const frame = $("#diagram");
  frame.setAttribute("aria-busy", "true");
  const diagram = await attempt("Loading the diagram", fetchDiagram);
  frame.removeAttribute("aria-busy");
  if (!diagram) return false;
  frame.replaceChildren(diagram);
  listenForEdges(diagram);
  return true;
}

// --- editing ------------------------------------------------------------------------------

function nodeOptions(nodes) {
  return nodes.map((node) => h("option", { value: node.id }, node.unit));
}

function nodeRow(node) {
  const role = h("input", { value: node.role, maxlength: 2000, "aria-label": `role of ${node.unit}`, autocomplete: "off" });
  const save = () => change("Saving the role", "PATCH", `${detail}nodes/${node.id}/`, { role: role.value }, `Role of ${node.unit} saved.`);
  return h(
    "tr",
    { dataset: { node: node.id, unit: node.unit } },
    h("td", {}, h("a", { href: links.unit(network, node.unit) }, h("code", {}, node.unit))),
    h("td", {}, role),
    h(
      "td",
      { class: "editor" },
      h("button", { type: "button", onclick: save }, "Save role"),
      " ",
      h("button", { type: "button", onclick: () => change("Removing the unit", "DELETE", `${detail}nodes/${node.id}/`, undefined, `${node.unit} removed.`) }, "Remove"),
    ),
  );
}

function showNodes(circuit) {
  const rows = circuit.nodes.map(nodeRow);
  $("#node-rows").replaceChildren(...(rows.length ? rows : [h("tr", {}, h("td", { colspan: 3, class: "empty" }, "No units yet: add one below, or from a layer's grid or a unit's card."))]));
  for (const selector of ["#grow-node", "#join-source", "#join-target"]) {
    const select = $(selector);
    const chosen = select.value;
    select.replaceChildren(...nodeOptions(circuit.nodes));
    if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
  }
  const chosen = new Set([...document.querySelectorAll("#circuit-hypothesis-units input:not(:checked)")].map((box) => box.value));
  $("#circuit-hypothesis-units").replaceChildren(
    ...circuit.nodes.map((node) =>
      h("label", { class: "unit-choice" }, h("input", { type: "checkbox", value: node.unit, checked: !chosen.has(node.unit) }), " ", h("code", {}, node.unit)),
    ),
  );
  if (page.dataset.role === "viewer") for (const element of document.querySelectorAll(".editor")) element.hidden = true;
}

function showState({ data, etag }) {
  state.circuit = data;
  state.etag = etag;
  showCircuit(data);
  showNodes(data);
}

async function reread() {
  const fresh = await attempt("Loading the circuit", () => request(detail));
  if (fresh) showState(fresh);
  return fresh;
}

/**
 * Send one change with the circuit's ETag; show the circuit it answers with and redraw the
 * diagram. A 412 (someone changed it meanwhile) re-reads it for the user to try again; a 409
 * ``weights_pending`` is handed to ``onPending`` when given. Resolves to the change's answer.
 */
async function change(context, method, path, body, done, onPending) {
  try {
    const answer = await request(path, { method, body, etag: state.etag });
    showState(answer);
    await showDiagram();
    announce(done);
    return answer;
  } catch (error) {
    if (error.status === 409 && error.code === "weights_pending" && onPending) return onPending(error);
    if (error.status === 412) {
      await reread();
      await showDiagram();
      error.message = "The circuit changed since you read it; the page now shows it as it is. Make your change again.";
    }
    reportError(error, context);
    return undefined;
  }
}

function jobText(job) {
  const what = `Job #${job.id} computes the weights into ${job.layer} from ${job.params.source_layer}`;
  return `${what}: ${job.status}${job.status === "running" ? `, ${Math.round(job.progress * 100)}%` : ""}${job.progress_message ? ` (${job.progress_message})` : ""}.`;
}

/** Follow the job ``id`` on the page until it ends; resolves to the ended job. */
async function watchJob(id) {
  const panel = $("#weights-job");
  panel.hidden = false;
  panel.dataset.job = id;
  for (;;) {
    let job;
    try {
      job = await get(`jobs/${id}/`);
    } catch (error) {
      reportError(error, "Following the weights job");
      panel.dataset.status = "unknown";
      return null;
    }
    panel.dataset.status = job.status;
    $("#weights-job-text").textContent = jobText(job);
    $("#weights-job-progress").value = Math.round(job.progress * 100);
    if (!["queued", "running"].includes(job.status)) return job;
    await new Promise((resolve) => setTimeout(resolve, JOB_POLL_MS));
  }
}

/** A change that reads weights: while they are being computed, wait for the job and send the
 * same change again; a job that failed or was cancelled is shown with its error. */
async function weighed(context, path, body, done) {
  const form = path.endsWith("grow/") ? $("#grow-form") : $("#join-form");
  form.setAttribute("aria-busy", "true");
  try {
    return await change(context, "POST", path, body, done, async (pending) => {
      const [id] = pending.fields.job || [];
      const job = await watchJob(id);
      if (!job) return undefined;
      if (job.status !== "succeeded") {
        const failure = `Job #${job.id}, computing the weights, ${job.status}${job.error ? `: ${job.error}` : "."}`;
        $("#weights-job-text").textContent = failure;
        reportError(new Error(failure), context);
        return undefined;
      }
      $("#weights-job-text").textContent = `${jobText(job)} Sending the change again…`;
      return change(context, "POST", path, body, done);
    });
  } finally {
    form.removeAttribute("aria-busy");
  }
}

function grow(event) {
  event.preventDefault();
  const body = {
    node: Number($("#grow-node").value),
    direction: $("#grow-direction").value,
    k: Number($("#grow-k").value),
    threshold: Number($("#grow-threshold").value),
  };
  const from = $("#grow-node").selectedOptions[0]?.textContent;
  weighed("Growing the circuit", `${detail}grow/`, body, `Grown from ${from}.`);
}

function join(event) {
  event.preventDefault();
  const body = { source: Number($("#join-source").value), target: Number($("#join-target").value) };
  weighed("Joining two units", `${detail}edges/`, body, "Connection added.");
}

async function addNode(event) {
  event.preventDefault();
  const unit = $("#node-unit").value.trim();
  const added = await change("Adding the unit", "POST", `${detail}nodes/`, { unit, role: $("#node-role").value }, `${unit} added.`);
  if (added) event.target.reset();
}

async function proposeHypothesis(event) {
  event.preventDefault();
  const units = [...document.querySelectorAll("#circuit-hypothesis-units input:checked")].map((box) => box.value);
  const body = { network, circuit: id, units, title: $("#circuit-hypothesis-title").value, text: $("#circuit-hypothesis-text").value };
  const hypothesis = await attempt("Open hypothesis", () => post(projectPaths(slug).hypotheses, body));
  if (hypothesis) location.href = links.hypothesis(hypothesis.id);
}

async function start() {
  $("#node-add").addEventListener("submit", addNode);
  $("#grow-form").addEventListener("submit", grow);
  $("#join-form").addEventListener("submit", join);
  $("#circuit-hypothesis-form").addEventListener("submit", proposeHypothesis);
  const role = page.dataset.role;
  const [circuit, drawn] = await Promise.all([
    reread(),
    showDiagram(),
    mountThread($("#thread"), { slug, targetType: "circuit", targetId: id, canPost: role !== "viewer" }),
  ]);
  if (circuit && drawn) page.dataset.ready = "true";
}

start();
