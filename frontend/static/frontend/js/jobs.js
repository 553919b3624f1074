// Jobs: request a layer render, follow progress by polling, cancel.
import { get, post } from "./api.js";
import { $, announce, attempt, h, pageLinks, reportError } from "./dom.js";

const page = $("#jobs-page");
const slug = page.dataset.project;
const links = pageLinks(slug);
const networks = new Set([...$("#job-layer").options].map((option) => option.value.split("|")[0]));
const POLL_MS = 500;
let timer = null;

function parseUnits(text) {
  if (!text.trim()) return null;
  return text.split(/[\s,]+/).filter(Boolean).flatMap((part) => {
    const [from, to] = part.split("-").map(Number);
    if (Number.isNaN(from) || (to !== undefined && Number.isNaN(to))) throw new Error(`Not a unit index or range: ${part}`);
    return to === undefined ? [from] : Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

function progressBar(job) {
  const percent = Math.round(job.progress * 100);
  return h(
    "span",
    { class: `progress ${job.status}`, role: "progressbar", "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": percent, "aria-label": `job ${job.id} progress` },
    h("span", { style: { width: `${percent}%` } }),
  );
}

/** A layer's grid; a job on a whole network (its inspection) has no layer and no grid yet. */
function target(job) {
  if (job.layer === null) return h("code", {}, job.network);
  return h("a", { href: links.grid(job.network, job.layer) }, h("code", {}, `${job.network}/${job.layer}`));
}

function jobRow(job) {
  const active = job.status === "queued" || job.status === "running";
  return h(
    "tr",
    { dataset: { job: job.id, status: job.status } },
    h("td", { class: "num" }, job.id),
    h("td", {}, job.kind.replaceAll("_", " ")),
    h("td", {}, target(job), job.units ? h("small", {}, ` ${job.units.length} units`) : null),
    h("td", {}, h("span", { class: `pill ${job.status}` }, job.status), job.error ? h("div", { class: "error" }, job.error) : null),
    h("td", {}, progressBar(job), " ", h("small", { class: "progress-text" }, `${Math.round(job.progress * 100)}% ${job.progress_message || ""}`)),
    h("td", {}, job.created_by ?? ""),
    h("td", {}, active ? h("button", { type: "button", class: "danger", disabled: job.cancel_requested, onclick: () => cancel(job) }, job.cancel_requested ? "Cancelling…" : "Cancel") : null),
  );
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
  $("#job-rows").replaceChildren(...(jobs.length ? jobs.map(jobRow) : [h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No jobs yet."))]));
  if (jobs.some((job) => job.status === "queued" || job.status === "running")) timer = setTimeout(refresh, POLL_MS);
}

async function cancel(job) {
  const cancelled = await attempt(`Cancelling job ${job.id}`, () => post(`jobs/${job.id}/cancel/`));
  if (cancelled) announce(`Job ${job.id}: cancel requested.`);
  refresh();
}

async function requestRender(event) {
  event.preventDefault();
  const [network, layer] = $("#job-layer").value.split("|");
  const params = {};
  if ($("#job-kind").value === "feature_visualization") {
    for (const name of ["steps", "size"]) {
      const value = $(`#job-${name}`).value;
      if (value) params[name] = Number(value);
    }
  }
  let units;
  try {
    units = parseUnits($("#job-units").value);
  } catch (error) {
    reportError(error, "Request render");
    return;
  }
  const job = await attempt("Request render", () => post("jobs/", { network, layer, kind: $("#job-kind").value, units, params }));
  if (!job) return;
  announce(`Job ${job.id} ${job.status}.`);
  refresh();
}

$("#job-form").addEventListener("submit", requestRender);
refresh();
