// Units side by side: one column per unit, one row per aspect (group, visualizations,
// dataset examples, activation histogram, incoming weights, statistics).
import { get, projectPaths } from "./api.js";
import { $, attempt, h } from "./dom.js";
import { colourScale, kernelGrid } from "./lightbox.js";
import { byKind, exampleCaption, figure, firedText, histogram, images, neverFired, neverFiredMark, summaryOf } from "./unit_figures.js";

const page = $("#compare-page");
const { project: slug, network } = page.dataset;
const units = page.dataset.units ? page.dataset.units.split(",") : [];
const paths = projectPaths(slug);

const layerOf = (address) => address.slice(0, address.lastIndexOf(":"));
const indexOf = (address) => Number(address.slice(address.lastIndexOf(":") + 1));

function cell(row, unit) {
  return page.querySelector(`tr[data-row="${row}"] td[data-unit="${CSS.escape(unit)}"]`);
}

function fill(row, unit, ...content) {
  const nodes = content.flat().filter(Boolean);
  cell(row, unit).replaceChildren(...(nodes.length ? nodes : [h("span", { class: "empty" }, "none yet")]));
}

const json = (artifact) => (artifact ? get(artifact.download_url).catch(() => null) : Promise.resolve(null));

async function showUnit(unit, gridRows) {
  const card = await attempt(`Loading ${unit}`, () => get(`networks/${network}/units/${encodeURIComponent(unit)}/card/`));
  const row = gridRows.get(layerOf(unit))?.get(indexOf(unit));
  const group = row?.group;
  fill(
    "group",
    unit,
    group ? h("span", { class: "pill group-pill", style: { background: group.color, color: "#fff" } }, group.name) : h("span", { class: "meta" }, "no group"),
    row?.fired_on?.never_fired ? [" ", h("span", { class: "pill never-fired-pill" }, `never fired on ${row.fired_on.dataset}`)] : null,
  );
  if (!card) return;
  const visualizations = [...byKind(card, "feature_visualization"), ...byKind(card, "first_layer_weights")].slice(0, 1);
  fill(
    "featurevis",
    unit,
    visualizations.flatMap((rendering) =>
      images(rendering)
        .slice(0, 2)
        .map((artifact) => {
          const caption = `${artifact.variant} · job #${rendering.job}`;
          return figure(artifact, { alt: `${unit} ${caption}`, caption, width: 160, describe: () => ({ values: Object.entries(rendering.params).filter(([name]) => ["objective", "steps", "size", "seed"].includes(name)) }) });
        }),
    ),
  );
  const examples = byKind(card, "dataset_examples")[0];
  const [exampleSummary, weightSummary] = await Promise.all([json(summaryOf(examples)), json(summaryOf(byKind(card, "weights")[0]))]);
  fill(
    "examples",
    unit,
    neverFiredMark(neverFired(card)),
    examples
      ? images(examples).map((artifact) => {
          const caption = exampleCaption(artifact);
          return figure(artifact, {
            alt: `${unit} ${caption}`,
            caption,
            describe: () => ({ values: (exampleSummary?.[artifact.variant] ?? []).map((entry, at) => [`${at + 1}. ${entry.image}`, entry.value]) }),
          });
        })
      : [],
  );
  fill("distribution", unit, (card.activation_distributions ?? []).slice(0, 1).map((distribution) => histogram(distribution, { width: 240, height: 100 })));
  if (weightSummary) {
    const strip = images(byKind(card, "weights")[0])[0];
    const max = Math.max(1e-12, ...weightSummary.incoming.flatMap((entry) => entry.kernel.flat().map(Math.abs)));
    fill(
      "weights",
      unit,
      strip
        ? figure(strip, {
            alt: `${unit} incoming kernels from ${weightSummary.source_layer}`,
            caption: `from ${weightSummary.source_layer} (${weightSummary.mode}); strongest ${weightSummary.incoming[0]?.unit ?? ""}`,
            pixelated: true,
            describe: () => ({ extra: h("div", {}, colourScale(max), kernelGrid(weightSummary.incoming, max)) }),
          })
        : null,
    );
  } else {
    fill("weights", unit);
  }
  const stats = [];
  for (const entry of card.fired_on ?? []) stats.push(["", firedText(entry)]);
  if (exampleSummary?.stats) {
    stats.push(["mean activation", exampleSummary.stats.mean], ["max activation", exampleSummary.stats.max], ["fraction active", exampleSummary.stats.fraction_active]);
  }
  for (const match of (card.resembles ?? []).slice(0, 2)) stats.push(["resembles", match.text]);
  const format = (value) => (typeof value === "number" && !Number.isInteger(value) ? value.toFixed(3) : String(value));
  fill(
    "stats",
    unit,
    stats.length ? h("dl", { class: "compact-stats" }, stats.flatMap(([name, value]) => (name ? [h("dt", {}, name), h("dd", {}, format(value))] : [h("dd", { class: "wide" }, value)]))) : null,
  );
}

async function start() {
  const layers = [...new Set(units.map(layerOf))];
  const grids = await Promise.all(layers.map((layer) => attempt(`Loading ${layer}`, () => get(paths.grid(network, layer), { page_size: 2048 }))));
  const gridRows = new Map(layers.map((layer, at) => [layer, new Map((grids[at]?.results ?? []).map((row) => [row.index, row]))]));
  await Promise.all(units.map((unit) => showUnit(unit, gridRows)));
  page.dataset.ready = "true";
}

start();
