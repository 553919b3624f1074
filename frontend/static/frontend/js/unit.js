// A unit's card: its renderings, weights and statistics, its group, hypotheses, thread and
// history.
import { get, getBytes, post, projectPaths, request } from "./api.js";
import { $, announce, attempt, h, pageLinks } from "./dom.js";
import { eventItem, fill, hypothesisItem } from "./lists.js";
import { colourScale, kernelGrid } from "./lightbox.js";
import { parseNpy } from "./npy.js";
import { mountThread } from "./thread.js";
import { byKind, exampleCaption, figure, firedText, histogram, images, neverFired, neverFiredMark, summaryOf, tuningFigures } from "./unit_figures.js";

const page = $("#unit-page");
const { project: slug, network, address, role } = page.dataset;
const [layer, indexText] = [address.slice(0, address.lastIndexOf(":")), address.slice(address.lastIndexOf(":") + 1)];
const index = Number(indexText);
const paths = projectPaths(slug);
const links = pageLinks(slug);

function showFigures(container, figures, emptyText) {
  container.replaceChildren(...(figures.length ? figures : [h("p", { class: "empty" }, emptyText)]));
}

function showFeatureVisualizations(renderings) {
  const figures = renderings.flatMap((rendering) =>
    images(rendering).map((artifact) => {
      const caption = `${artifact.variant} · ${rendering.params.objective ?? ""} · job #${rendering.job}`;
      const values = () => ({
        values: [
          ["job", `#${rendering.job} (${rendering.kind.replaceAll("_", " ")})`],
          ...Object.entries(rendering.params).filter(([name]) => ["objective", "steps", "size", "seed", "param"].includes(name)),
          ...(artifact.meta.final_mean === undefined ? [] : [["final mean activation", artifact.meta.final_mean], ["final max activation", artifact.meta.final_max]]),
        ],
      });
      return figure(artifact, { alt: `${address} ${caption}`, caption, width: 160, pixelated: rendering.kind === "first_layer_weights", describe: values });
    }),
  );
  showFigures($("#featurevis"), figures, "Not rendered yet: request a feature visualization of this layer on the Jobs page.");
}

function showTuning(renderings) {
  const shown = renderings.flatMap((rendering) => tuningFigures(rendering, address));
  showFigures($("#tuning"), shown, "No tuning job for this layer yet: request one on the Jobs page.");
}

function exampleValues(summary, variant) {
  return (summary?.[variant] ?? []).map((entry, at) => [`${at + 1}. ${entry.image}`, entry.value]);
}

async function showExamples(renderings, card) {
  const container = $("#examples");
  const summaries = new Map(
    await Promise.all(
      renderings.map(async (rendering) => {
        const artifact = summaryOf(rendering);
        return [rendering.job, artifact ? await get(artifact.download_url).catch(() => null) : null];
      }),
    ),
  );
  const figures = renderings.flatMap((rendering) =>
    images(rendering).map((artifact) => {
      const caption = `${exampleCaption(artifact)} · ${rendering.params.dataset} · job #${rendering.job}`;
      const describe = () => ({
        values: [["dataset", rendering.params.dataset], ...exampleValues(summaries.get(rendering.job), artifact.variant)],
        extra: h("p", { class: "meta" }, "Each crop shows at least 32 px of the image around the unit's receptive field, which is outlined in magenta where it is smaller than the crop."),
      });
      return figure(artifact, { alt: `${address} ${caption}`, caption, describe });
    }),
  );
  const distributions = (card.activation_distributions ?? []).map((distribution) => histogram(distribution));
  const fired = (card.fired_on ?? []).map((entry) => h("li", { class: entry.never_fired ? "never-fired-item" : null }, firedText(entry)));
  container.replaceChildren(
    ...[neverFiredMark(neverFired(card))].filter(Boolean),
    ...(figures.length ? figures : [h("p", { class: "empty" }, "No dataset examples yet.")]),
    fired.length ? h("ul", { class: "fired-on" }, fired) : "",
    ...distributions,
  );
}

async function showWeights(rendering) {
  const container = $("#weights");
  if (!rendering) {
    container.replaceChildren(h("p", { class: "empty" }, "No weights job for this layer yet."));
    return;
  }
  const summary = await attempt("Loading the weights", () => get(summaryOf(rendering).download_url));
  if (!summary) return;
  const strip = images(rendering)[0];
  const max = Math.max(1e-12, ...summary.incoming.flatMap((entry) => entry.kernel.flat().map(Math.abs)));
  const describe = () => ({
    caption: `${address}: incoming kernels from ${summary.source_layer} (${summary.mode}), strongest first`,
    values: [["source layer", summary.source_layer], ["weights", summary.mode], ["kernels", summary.incoming.length], ["largest |w|", max]],
    extra: h("div", {}, colourScale(max), kernelGrid(summary.incoming, max)),
  });
  container.replaceChildren(
    ...[
      strip ? figure(strip, { alt: `${address} incoming kernels from ${summary.source_layer}`, caption: "kernels, strongest first (select to enlarge with values)", pixelated: true, describe }) : null,
      strip ? colourScale(max) : null,
      weightsTable(`Strongest incoming from ${summary.source_layer} (${summary.mode}), job #${rendering.job}:`, summary.incoming),
    ].filter(Boolean),
  );
}

function weightsTable(caption, entries) {
  const strongest = entries[0]?.norm || 1;
  return h(
    "table",
    { class: "weights" },
    h("caption", { class: "meta" }, caption),
    h("thead", {}, h("tr", {}, h("th", {}, "unit"), h("th", { class: "num" }, "norm"), h("th", {}, ""))),
    h(
      "tbody",
      {},
      entries.map((entry) =>
        h(
          "tr",
          {},
          h("td", {}, h("a", { href: links.unit(network, entry.unit) }, entry.unit)),
          h("td", { class: "num" }, entry.norm.toFixed(3)),
          h("td", { class: "bar-cell" }, h("span", { style: { width: `${(100 * entry.norm) / strongest}%` } })),
        ),
      ),
    ),
  );
}

/** The strongest weights out of this unit: from the newest weights job of a layer that reads
 * this one, the column of its norm matrix (norms.npy) that belongs to this unit. */
async function showOutgoing() {
  const container = $("#outgoing");
  const [layers, jobs] = await Promise.all([
    get(`networks/${network}/layers/`),
    get("jobs/", { network, kind: "weights", status: "succeeded", page_size: 100 }),
  ]);
  const ordered = [...layers].sort((a, b) => a.order - b.order);
  const previous = (name) => ordered[ordered.findIndex((candidate) => candidate.name === name) - 1]?.name;
  const reader = jobs.results.find((job) => (job.params.source_layer || previous(job.layer)) === layer);
  if (!reader) {
    container.replaceChildren(h("p", { class: "empty" }, "No weights job reads from this layer yet."));
    return;
  }
  const artifacts = await get(`jobs/${reader.id}/artifacts/`);
  const data = artifacts.find((artifact) => artifact.kind === "layer_data");
  const { shape, values } = parseNpy(await getBytes(data.download_url));
  const columns = shape[1];
  const entries = data.meta.rows
    .map((row, at) => ({ unit: `${reader.layer}:${row}`, norm: values[at * columns + index] }))
    .sort((a, b) => b.norm - a.norm)
    .slice(0, 8);
  container.replaceChildren(weightsTable(`Strongest outgoing to ${reader.layer} (${data.meta.mode}), job #${reader.id}:`, entries));
}

async function showStats(renderings) {
  const rows = [];
  for (const rendering of renderings) {
    const artifact = summaryOf(rendering);
    if (!artifact || rendering.kind === "weights") continue;
    const summary = await attempt("Loading statistics", () => get(artifact.download_url));
    if (!summary) continue;
    if (summary.stats) {
      rows.push(["mean activation", summary.stats.mean], ["max activation", summary.stats.max], ["fraction active", summary.stats.fraction_active]);
      rows.push(["images seen", summary.images_seen]);
    }
    for (const [variant, values] of Object.entries(summary.variants || {})) {
      rows.push([`${variant} visualization: final mean`, values.final_activation.mean], [`${variant} visualization: final max`, values.final_activation.max]);
    }
  }
  const format = (value) => (typeof value === "number" && !Number.isInteger(value) ? value.toFixed(3) : value);
  $("#stats").replaceChildren(
    h("tbody", {}, rows.length ? rows.map(([name, value]) => h("tr", {}, h("th", {}, name), h("td", { class: "num" }, format(value)))) : h("tr", {}, h("td", { class: "empty" }, "No statistics yet."))),
  );
}

async function showGroup(row, groups) {
  const pill = $("#unit-group");
  pill.textContent = row?.group ? row.group.name : "no group";
  pill.style.background = row?.group ? row.group.color : "";
  pill.style.color = row?.group ? "#fff" : "";
  const select = $("#group-select");
  select.replaceChildren(h("option", { value: "" }, "no group"), ...groups.map((group) => h("option", { value: group.id }, group.name)));
  select.value = row?.group ? String(row.group.id) : "";
  const canAssign = ["owner", "reviewer", "annotator"].includes(role);
  for (const control of $("#group-form").elements) control.disabled = !canAssign;
}

async function setGroup(event) {
  event.preventDefault();
  const value = $("#group-select").value;
  const saved = await attempt("Setting the group", () =>
    request(`${paths.root}units/${network}/${encodeURIComponent(address)}/group/`, {
      method: "PUT",
      body: { group: value ? Number(value) : null, note: $("#group-note").value },
    }),
  );
  if (saved) {
    announce("Group saved.");
    loadSummary();
  }
}

async function loadSummary() {
  const [grid, groups] = await Promise.all([
    attempt("Loading the unit's group", () => get(paths.grid(network, layer), { page_size: 2048 })),
    attempt("Loading the groups", () => get(paths.groups, { page_size: 1000 })),
  ]);
  if (!grid || !groups) return;
  const row = grid.results.find((unit) => unit.index === index);
  const scoped = groups.results.filter((group) => !group.layer || (group.layer.network === network && group.layer.layer === layer));
  await showGroup(row, scoped);
  const indices = grid.results.map((unit) => unit.index);
  const at = indices.indexOf(index);
  const step = (link, to) => {
    if (to === undefined) link.removeAttribute("href");
    else link.href = links.unit(network, `${layer}:${to}`);
  };
  step($("#previous-unit"), indices[at - 1]);
  step($("#next-unit"), indices[at + 1]);
  $("#layer-grid").href = links.grid(network, layer);
  $("#unit-meta").textContent = `unit ${index} of ${grid.count} · ${row?.open_hypotheses ?? 0} open hypotheses · ${row?.comments ?? 0} comments`;
}

const unitLabel = (side) => (side ? `${side.network} ${side.unit}` : "");

/** What the universality jobs found this unit resembles, each proposable as a link. */
function showResembles(resembles) {
  const canPropose = role && role !== "viewer";
  const items = resembles.map((match) => {
    const item = h(
      "li",
      {},
      h("a", { href: links.unit(match.network, match.address) }, `${match.network} ${match.address}`),
      ` r = ${match.r.toFixed(2)} `,
      h("span", { class: "meta" }, `· ${match.dataset} · job #${match.job}`),
    );
    if (canPropose) {
      const button = h("button", { type: "button", class: "link-button" }, "Propose link");
      button.addEventListener("click", async () => {
        const body = { unit_a: { network, unit: address }, unit_b: { network: match.network, unit: match.address }, correlation: match.r, note: `r = ${match.r.toFixed(3)} on ${match.dataset}` };
        const link = await attempt("Proposing the link", () => post(`${paths.root}links/`, body));
        if (link) {
          button.replaceWith(h("span", { class: "meta" }, ` link #${link.id} proposed, awaiting review`));
          announce("Link proposed; a reviewer confirms it.");
        }
      });
      item.append(" ", button);
    }
    return item;
  });
  fill($("#resembles-list"), items, "No universality job has compared this layer yet.");
}

async function showLinks() {
  const confirmed = await attempt("Loading links", () => get(`${paths.root}units/${network}/${encodeURIComponent(address)}/links/`));
  if (!confirmed) return;
  const items = confirmed.map((link) => {
    const [self, other] = link.unit_a && link.unit_a.network === network && link.unit_a.unit === address ? [link.unit_a, link.unit_b] : [link.unit_b, link.unit_a];
    const target = other ?? self;
    return h(
      "li",
      {},
      h("a", { href: links.unit(target.network, target.unit) }, unitLabel(target)),
      link.correlation === null ? "" : ` r = ${link.correlation.toFixed(2)}`,
      link.note ? h("span", { class: "meta" }, ` · ${link.note}`) : "",
      h("span", { class: "meta" }, ` · confirmed by ${link.reviewed_by ?? "?"}`),
    );
  });
  fill($("#links-list"), items, "No confirmed links.");
}

/** A unit that never fired says so at the top of its card, beside its group. */
function markNeverFired(card) {
  const datasets = neverFired(card).map((entry) => entry.dataset);
  if (!datasets.length) return;
  $("#unit-group").after(
    " ",
    h("span", { class: "pill never-fired-pill", id: "never-fired", title: datasets.map((name) => firedText({ never_fired: true, dataset: name, of: card.fired_on.find((entry) => entry.dataset === name).of })).join("; ") }, `never fired on ${datasets.join(", ")}`),
  );
}

async function showCard(card) {
  if (!card) return;
  markNeverFired(card);
  showFeatureVisualizations([...byKind(card, "feature_visualization"), ...byKind(card, "first_layer_weights")]);
  showTuning(byKind(card, "tuning"));
  await Promise.all([
    attempt("Loading the dataset examples", () => showExamples(byKind(card, "dataset_examples"), card)),
    showWeights(byKind(card, "weights")[0]),
    showStats(card.renderings),
  ]);
  showResembles(card.resembles ?? []);
}

function showHypotheses(hypotheses) {
  if (hypotheses) fill($("#hypothesis-list"), hypotheses.results.map((hypothesis) => hypothesisItem(slug, hypothesis)), "No hypotheses about this unit.");
}

async function showHistory(unit) {
  if (!unit) return;
  const history = await attempt("Loading history", () => get(paths.history("unit", unit.id), { page_size: 30 }));
  if (history) fill($("#history-list"), history.results.map(eventItem), "No changes yet.");
}

async function start() {
  $("#group-form").addEventListener("submit", setGroup);
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select")) return;
    if (event.key === "ArrowLeft" && $("#previous-unit").href) location.href = $("#previous-unit").href;
    if (event.key === "ArrowRight" && $("#next-unit").href) location.href = $("#next-unit").href;
  });
  const unitPath = `networks/${network}/units/${encodeURIComponent(address)}/`;
  // Every section asks for its data at once; the page is ready when the last one is shown.
  await Promise.all([
    attempt("Loading the unit's renderings", () => get(`${unitPath}card/`)).then(showCard),
    attempt("Loading outgoing weights", showOutgoing),
    showLinks(),
    attempt("Loading hypotheses", () => get(paths.hypotheses, { unit: address, network, page_size: 50 })).then(showHypotheses),
    attempt("Loading the unit", () => get(unitPath)).then(showHistory),
    mountThread($("#thread"), { slug, targetType: "unit", targetId: `${network}/${address}`, canPost: role && role !== "viewer" }),
    loadSummary(),
  ]);
  page.dataset.ready = "true";
}

start();

// Adding this unit to one of the project's circuits, in a card after the group's.
import { circuitCard } from "./circuit_picker.js";
if (role !== "viewer") $("#group-form").closest("section").after(circuitCard({ slug, network, units: () => [address] }));
