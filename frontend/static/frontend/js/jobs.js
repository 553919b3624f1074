// Jobs: request any job kind with its options, follow progress by polling, cancel.
// Rows are updated in place (never rebuilt), so a click on Cancel always lands on the button
// it was aimed at, however often the table refreshes.
import { get, post } from "./api.js";
import { $, announce, h, pageLinks, reportError } from "./dom.js";

const page = $("#jobs-page");
const slug = page.dataset.project;
const links = pageLinks(slug);
const form = $("#job-form");
const layerOptions = [...$("#job-layer").options].map((option) => ({
  network: option.dataset.network,
  layer: option.dataset.layer,
  order: Number(option.dataset.order),
  rf: option.dataset.rf ? Number(option.dataset.rf) : null,
}));
const networks = new Set(layerOptions.map((option) => option.network));
const POLL_MS = 1000;
const rows = new Map();
let timer = null;

// --- the request form ---------------------------------------------------------------------

function parseUnits(text) {
  if (!text.trim()) return null;
  return text.split(/[\s,]+/).filter(Boolean).flatMap((part) => {
    const [from, to] = part.split("-").map(Number);
    if (Number.isNaN(from) || (to !== undefined && Number.isNaN(to))) throw new Error(`Not a unit index or range: ${part}`);
    return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

function chosenLayer() {
  const [network, layer] = $("#job-layer").value.split("|");
  return layerOptions.find((option) => option.network === network && option.layer === layer);
}

function earlierLayers(target) {
  return layerOptions.filter((option) => option.network === target.network && option.order < target.order).sort((a, b) => b.order - a.order);
}

/** The server's default source of a weights job (workers/jobkinds.py, _spatial_source_layer):
 * the nearest earlier layer with a smaller receptive field, so that the kernels between the
 * two are spatial; the previous layer where the catalog has no receptive fields. */
function spatialSource(target) {
  const earlier = earlierLayers(target);
  if (target.rf === null || earlier.some((layer) => layer.rf === null)) return earlier[0];
  return earlier.find((layer) => layer.rf < target.rf) ?? earlier[0];
}

/** A field is in play when its fieldset and its own data-kinds (if any) include the kind. */
function inPlay(element, kind) {
  for (let node = element; node && node !== form; node = node.parentElement) {
    if (node.dataset.kinds && !node.dataset.kinds.split(" ").includes(kind)) return false;
    if (node.dataset.objective && node.dataset.objective !== $("#job-objective").value) return false;
  }
  return true;
}

function showOptions() {
  const kind = $("#job-kind").value;
  const target = chosenLayer();
  for (const element of form.querySelectorAll("[data-kinds], [data-objective]")) {
    element.hidden = !inPlay(element, kind);
  }
  $("#job-kind-help").textContent = $("#job-kind").selectedOptions[0]?.dataset.description ?? "";
  if (!target) return;
  const source = $("#job-source-layer");
  const chosen = source.value;
  const earlier = earlierLayers(target);
  const fallback = kind === "weights" ? spatialSource(target) : earlier[0];
  const defaultText = kind === "weights" ? "nearest earlier layer with spatial kernels" : "the previous layer";
  source.replaceChildren(
    h("option", { value: "" }, fallback ? `${defaultText} (${fallback.layer})` : defaultText),
    ...earlier.map((layer) => h("option", { value: layer.layer }, layer.layer)),
  );
  if ([...source.options].some((option) => option.value === chosen)) source.value = chosen;
  $("#source-layer-help").textContent =
    kind === "weights"
      ? "Expanded weights reach back through 1×1 convolutions to the nearest layer whose kernels into this one are spatial; choose the previous layer to see the direct weights."
      : "Every weight into this layer from the chosen earlier layer, stored for circuits.";
  showOtherLayers();
}

function showOtherLayers() {
  const target = chosenLayer();
  const otherNetwork = $("#job-other-network");
  if (!otherNetwork.options.length) {
    otherNetwork.append(h("option", { value: "" }, "this network"), ...[...networks].map((name) => h("option", { value: name }, name)));
  }
  const network = otherNetwork.value || target?.network;
  const otherLayer = $("#job-other-layer");
  const chosen = otherLayer.value;
  otherLayer.replaceChildren(
    h("option", { value: "" }, "the same layer"),
    ...layerOptions.filter((option) => option.network === network).map((option) => h("option", { value: option.layer }, option.layer)),
  );
  if ([...otherLayer.options].some((option) => option.value === chosen)) otherLayer.value = chosen;
}

async function loadDatasets() {
  try {
    const datasets = await get("datasets/", { page_size: 200 });
    $("#job-dataset").append(
      ...datasets.results.map((dataset) => h("option", { value: dataset.name }, `${dataset.name} (${dataset.image_count} images)`)),
    );
  } catch (error) {
    reportError(error, "Loading the datasets");
  }
}

function paramsOf(kind) {
  const params = {};
  for (const field of form.querySelectorAll("[data-param]")) {
    if (!inPlay(field, kind) || field.value === "") continue;
    params[field.name] = field.type === "number" || "number" in field.dataset ? Number(field.value) : field.value;
  }
  if (kind === "tuning") {
    const boxes = [...form.querySelectorAll("input[name=families]")];
    const checked = boxes.filter((box) => box.checked).map((box) => box.value);
    params.families = checked.length === boxes.length ? "all" : checked.join(",");
  }
  return params;
}

function clearErrors() {
  for (const slot of form.querySelectorAll(".field-error")) slot.textContent = "";
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
}

/** Where an API error about ``name`` ("layer", "units", "params.objective") is shown. */
function errorSlot(name, kind) {
  const param = name.startsWith("params.") ? name.slice("params.".length) : null;
  const fields = param
    ? [...form.querySelectorAll(`[name="${CSS.escape(param)}"]`)].filter((field) => inPlay(field, kind))
    : [{ network: $("#job-layer"), layer: $("#job-layer"), units: $("#job-units"), kind: $("#job-kind") }[name]].filter(Boolean);
  const field = fields[0];
  if (!field) return { slot: $("#job-form-error") };
  const describedBy = field.getAttribute("aria-describedby") || field.closest("fieldset")?.getAttribute("aria-describedby") || "";
  const slot = describedBy.split(" ").map((id) => document.getElementById(id)).find((element) => element?.classList.contains("field-error"));
  return { slot: slot ?? $("#job-form-error"), field };
}

function showErrors(error, kind) {
  const entries = Object.entries(error.fields || {});
  if (!entries.length) {
    $("#job-form-error").textContent = error.message;
    return;
  }
  let first = null;
  for (const [name, messages] of entries) {
    const { slot, field } = errorSlot(name, kind);
    slot.textContent = [slot.textContent, [].concat(messages).join(" ")].filter(Boolean).join(" ");
    if (field) {
      field.setAttribute("aria-invalid", "true");
      first ??= field;
    }
  }
  $("#job-form-error").textContent = error.message;
  first?.focus();
}

async function requestJob(event) {
  event.preventDefault();
  clearErrors();
  const [network, layer] = $("#job-layer").value.split("|");
  const kind = $("#job-kind").value;
  let units;
  try {
    units = parseUnits($("#job-units").value);
  } catch (error) {
    errorSlot("units", kind).slot.textContent = error.message;
    $("#job-units").setAttribute("aria-invalid", "true");
    return;
  }
  let job;
  try {
    // A dataset-examples job over every layer has no layer and no units: one pass for all.
    const allLayers = kind === "dataset_examples" && $("#job-all-layers").checked;
    job = await post(
      "jobs/",
      allLayers
        ? { network, layer: null, kind, params: { ...paramsOf(kind), layers: "all" } }
        : { network, layer, kind, units, params: paramsOf(kind) },
    );
  } catch (error) {
    showErrors(error, kind);
    return;
  }
  announce(`Job ${job.id} ${job.status}.`);
  show([job], { partial: true });
  refresh();
}

// --- the table ----------------------------------------------------------------------------

const active = (job) => job.status === "queued" || job.status === "running";

function duration(seconds) {
  if (seconds === null || !Number.isFinite(seconds)) return "";
  const whole = Math.max(0, Math.round(seconds));
  if (whole < 60) return `${whole} s`;
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${whole % 60} s`;
  return `${Math.floor(whole / 3600)} h ${Math.round((whole % 3600) / 60)} min`;
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }) : "—";
}

function elapsedSeconds(job) {
  if (!job.started_at) return null;
  const end = job.finished_at ? new Date(job.finished_at) : new Date();
  return (end - new Date(job.started_at)) / 1000;
}

/** The time left, from the share done so far at the pace so far. */
function etaSeconds(job) {
  const elapsed = elapsedSeconds(job);
  if (job.status !== "running" || elapsed === null || job.progress <= 0 || job.progress >= 1) return null;
  return (elapsed * (1 - job.progress)) / job.progress;
}

/** The given parameters only, each written its own way: [value, (value) => text] pairs. */
function described(...parts) {
  return parts
    .filter(([value]) => value !== undefined && value !== null && value !== "")
    .map(([value, text]) => text(value))
    .join(" · ");
}

function paramsSummary(job) {
  const p = job.params || {};
  switch (job.kind) {
    case "feature_visualization":
      return described(
        [p.objective, (v) => v],
        [p.steps, (v) => `${v} steps`],
        [p.size, (v) => `${v} px`],
        [p.seed, (v) => `seed ${v}`],
      );
    case "dataset_examples":
      return described(
        [p.dataset, (v) => `dataset ${v}`],
        [p.k, (v) => `${v} per unit`],
        [p.layers, (v) => (v === "all" ? "every layer" : `layers ${v}`)],
      );
    case "weights":
    case "connections":
      return `from ${p.source_layer || "the previous layer"}`;
    case "universality":
      return `vs ${p.other_network || job.network}/${p.other_layer || job.layer} on ${p.dataset || "demo"}`;
    case "tuning":
      return described(
        [p.families, (v) => (Array.isArray(v) ? v.join(", ") : v)],
        [p.angle_step, (v) => `${v}° steps`],
      );
    default:
      return "";
  }
}

/** A layer's grid; a job on a whole network (its inspection) has no layer and no grid yet. */
function target(job) {
  if (job.layer === null) return h("code", {}, job.network);
  return h("a", { href: links.grid(job.network, job.layer) }, h("code", {}, `${job.network}/${job.layer}`));
}

/** A row's cells, built once; ``update`` fills them. */
function jobRow(job) {
  const cells = {
    id: h("td", { class: "num" }, job.id),
    kind: h("td", {}),
    target: h("td", {}, target(job), job.units ? h("small", {}, ` ${job.units.length} units`) : null),
    status: h("td", {}, h("span", { class: "pill" }), h("div", { class: "error", hidden: true })),
    progress: h(
      "td",
      {},
      h("span", { class: "progress", role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-label": `job ${job.id} progress` }, h("span")),
      " ",
      h("small", { class: "progress-text" }),
    ),
    times: h("td", { class: "times" }),
    device: h("td", { class: "device" }),
    by: h("td", {}, job.created_by ?? "system"),
    actions: h("td", {}),
  };
  const cancelButton = h("button", { type: "button", class: "danger", "aria-label": `Cancel job ${job.id}` }, "Cancel");
  cancelButton.addEventListener("click", () => cancel(row, cancelButton));
  cells.actions.append(cancelButton);
  const row = h("tr", { dataset: { job: job.id } }, ...Object.values(cells));
  row.cells_ = cells;
  row.cancelButton = cancelButton;
  return row;
}

function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

function setAttribute(element, name, value) {
  if (element.getAttribute(name) !== value) element.setAttribute(name, value);
}

function update(row, job) {
  const cells = row.cells_;
  row.job = job;
  setAttribute(row, "data-status", job.status);
  const kindText = job.kind.replaceAll("_", " ");
  if (cells.kind.dataset.text !== `${kindText}|${paramsSummary(job)}`) {
    cells.kind.dataset.text = `${kindText}|${paramsSummary(job)}`;
    cells.kind.replaceChildren(kindText, h("br"), h("small", { class: "meta" }, paramsSummary(job)));
  }
  const pill = cells.status.firstChild;
  setAttribute(pill, "class", `pill ${job.status}`);
  setText(pill, job.status);
  const error = cells.status.lastChild;
  error.hidden = !job.error;
  setText(error, job.error || "");
  const percent = Math.round(job.progress * 100);
  const bar = cells.progress.querySelector("[role=progressbar]");
  setAttribute(bar, "class", `progress ${job.status}`);
  setAttribute(bar, "aria-valuenow", String(percent));
  bar.firstChild.style.width = `${percent}%`;
  setText(cells.progress.querySelector(".progress-text"), `${percent}% ${job.progress_message || ""}`.trim());
  const elapsed = elapsedSeconds(job);
  const eta = etaSeconds(job);
  const times = [
    `created ${clock(job.created_at)}`,
    `started ${clock(job.started_at)}`,
    job.finished_at ? `finished ${clock(job.finished_at)}` : null,
    elapsed === null ? null : `${job.finished_at ? "took" : "elapsed"} ${duration(elapsed)}`,
    eta === null ? null : `about ${duration(eta)} left`,
  ].filter(Boolean);
  if (cells.times.dataset.text !== times.join("|")) {
    cells.times.dataset.text = times.join("|");
    cells.times.replaceChildren(...times.flatMap((line, at) => (at ? [h("br"), line] : [line])));
  }
  setText(cells.device, job.device || (job.status === "queued" ? "waiting for a worker" : "—"));
  const button = row.cancelButton;
  const cancelling = job.cancel_requested || row.cancelSent;
  button.hidden = !(job.can_cancel && active(job));
  button.disabled = Boolean(cancelling);
  setText(button, cancelling ? "Cancelling…" : "Cancel");
}

/** Put ``jobs`` (newest first) in the table: existing rows updated, new ones inserted where
 * they belong, nothing moved that is already in place. ``partial``: keep the rows not listed. */
function show(jobs, { partial = false } = {}) {
  const body = $("#job-rows");
  body.querySelector("tr.placeholder")?.remove();
  const listed = new Set(jobs.map((job) => job.id));
  if (!partial) {
    for (const [id, row] of rows) {
      if (!listed.has(id)) {
        row.remove();
        rows.delete(id);
      }
    }
  }
  let expected = partial ? null : body.firstElementChild;
  for (const job of jobs) {
    let row = rows.get(job.id);
    if (!row) {
      row = jobRow(job);
      rows.set(job.id, row);
    }
    update(row, job);
    if (partial) {
      if (!row.isConnected) body.prepend(row);
      continue;
    }
    if (row !== expected) body.insertBefore(row, expected);
    else expected = expected.nextElementSibling;
  }
  if (!rows.size) body.replaceChildren(h("tr", { class: "placeholder" }, h("td", { colspan: 9, class: "empty" }, "No jobs yet.")));
}

async function refresh() {
  clearTimeout(timer);
  let jobs;
  try {
    const network = networks.size === 1 ? [...networks][0] : undefined;
    jobs = (await get("jobs/", { network, page_size: 50 })).results.filter((job) => networks.has(job.network));
  } catch (error) {
    reportError(error, "Loading jobs");
    timer = setTimeout(refresh, POLL_MS * 5);
    return;
  }
  show(jobs);
  page.dataset.ready = "true";
  if (jobs.some(active)) timer = setTimeout(refresh, POLL_MS);
}

async function cancel(row, button) {
  const job = row.job;
  row.cancelSent = true;
  button.disabled = true;
  button.textContent = "Cancelling…";
  try {
    const cancelled = await post(`jobs/${job.id}/cancel/`);
    update(row, cancelled);
    announce(`Job ${job.id}: ${cancelled.status === "cancelled" ? "cancelled" : "cancel requested"}.`);
  } catch (error) {
    row.cancelSent = false;
    reportError(error, `Cancelling job ${job.id}`);
  }
  refresh();
}

// Viewers follow the jobs; the policy lets owners, reviewers and annotators request them.
if (page.dataset.role === "viewer") {
  for (const control of form.elements) control.disabled = true;
  form.prepend(h("p", { class: "meta" }, "As a viewer you follow the jobs; owners, reviewers and annotators request them."));
}
form.addEventListener("submit", requestJob);
form.addEventListener("input", (event) => {
  event.target.removeAttribute("aria-invalid");
});
$("#job-kind").addEventListener("change", showOptions);
$("#job-layer").addEventListener("change", showOptions);
$("#job-objective").addEventListener("change", showOptions);
$("#job-other-network").addEventListener("change", showOtherLayers);
showOptions();
loadDatasets();
refresh();
