// What a unit card and the compare view both draw from a unit's card (GET …/units/<a>/card/):
// its pictures in a fixed order, whether it ever fired, and its activation histogram.
import { h } from "./dom.js";
import { zoomable } from "./lightbox.js";

const VARIANT_ORDER = ["positive", "neuron", "negative", "top", "bottom"];

function rank(variant) {
  const at = VARIANT_ORDER.indexOf(variant);
  return at === -1 ? VARIANT_ORDER.length : at;
}

/** A rendering's pictures: visualizations positive first, dataset examples strongest first. */
export function images(rendering) {
  return rendering.artifacts
    .filter((artifact) => artifact.kind === "unit_image")
    .sort((a, b) => rank(a.variant) - rank(b.variant) || a.variant.localeCompare(b.variant));
}

/** The rendering's JSON summary (not its distribution or other variants). */
export const summaryOf = (rendering) => rendering?.artifacts.find((artifact) => artifact.kind === "unit_json" && !artifact.variant);

export const byKind = (card, kind) => card.renderings.filter((rendering) => rendering.kind === kind);

/** A figure whose picture opens enlarged; ``describe()`` adds values to the enlarged view. */
export function figure(artifact, { alt, caption, pixelated = false, width, describe = () => ({}) }) {
  const image = h("img", { src: artifact.download_url, alt, loading: "lazy", class: pixelated ? "pixelated" : null, width });
  return h("figure", {}, zoomable(image, () => ({ caption: alt, pixelated, ...describe() })), h("figcaption", {}, caption));
}

export function exampleCaption(artifact) {
  const side = artifact.variant === "top" ? "strongest" : "weakest";
  const value = artifact.meta.best;
  return `${side} activations · ${artifact.variant === "top" ? "best" : "lowest"} ${typeof value === "number" ? value.toFixed(2) : "—"}`;
}

/** The datasets a unit never fired on, from the card's ``fired_on`` (newest job first, one
 * entry per dataset). */
export function neverFired(card) {
  const seen = new Set();
  return (card.fired_on ?? []).filter((entry) => {
    if (seen.has(entry.dataset)) return false;
    seen.add(entry.dataset);
    return entry.never_fired;
  });
}

/** "Never fired on demo (0 of 918 images)": a warning that stands out and reads out. */
export function neverFiredMark(entries) {
  if (!entries.length) return null;
  const text = entries.map((entry) => `${entry.dataset} (0 of ${entry.of} images)`).join(", ");
  return h(
    "p",
    { class: "never-fired", role: "note" },
    h("strong", {}, "Never fired"),
    ` on ${text}: its activation never rose above 0, so its “examples” are arbitrary images, not what it detects.`,
  );
}

/** How often the unit fired, per dataset: "fired on 212 of 918 images (demo)". */
export function firedText(entry) {
  return entry.never_fired ? `never fired on ${entry.dataset} (0 of ${entry.of} images)` : `fired on ${entry.images} of ${entry.of} images (${entry.dataset})`;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== null && value !== undefined) element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/** The histogram of a unit's per-image spatial max over the dataset, the shown examples'
 * values marked beneath it (strongest red, weakest blue), and the classes it is highest on. */
export function histogram(distribution, { width = 320, height = 110 } = {}) {
  const { counts, low, high, top, bottom } = distribution;
  const margin = { left: 34, right: 8, top: 6, bottom: 34 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const tallest = Math.max(1, ...counts);
  const span = high !== null && low !== null && high > low ? high - low : 1;
  const xOf = (value) => margin.left + (Math.max(low ?? 0, Math.min(high ?? 0, value)) - (low ?? 0)) * (plotWidth / span);
  const barWidth = plotWidth / counts.length;
  const bars = counts.map((count, at) => {
    const barHeight = (count / tallest) * plotHeight;
    const edge = (low ?? 0) + (at * span) / counts.length;
    return svg(
      "rect",
      { x: margin.left + at * barWidth, y: margin.top + plotHeight - barHeight, width: Math.max(barWidth - 1, 1), height: barHeight, class: "hist-bar" },
      svg("title", {}, `${count} images from ${edge.toFixed(2)} to ${(edge + span / counts.length).toFixed(2)}`),
    );
  });
  const ticks = (values, kind, y) =>
    values.map((value) => svg("line", { x1: xOf(value), x2: xOf(value), y1: y, y2: y + 7, class: `hist-mark ${kind}` }, svg("title", {}, `${kind === "top" ? "strongest" : "weakest"} example: ${value.toFixed(3)}`)));
  const baseline = margin.top + plotHeight;
  const label = (x, anchor, text) => svg("text", { x, y: baseline + 26, "text-anchor": anchor, class: "hist-label" }, text);
  const description =
    `Histogram of the spatial maximum over ${distribution.images} images, from ${low === null ? "?" : low.toFixed(2)} to ${high === null ? "?" : high.toFixed(2)}, ` +
    `tallest bin ${tallest} images; shown strongest examples ${top.map((v) => v.toFixed(2)).join(", ") || "none"}; weakest ${bottom.map((v) => v.toFixed(2)).join(", ") || "none"}.`;
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": description, class: "histogram" },
    svg("line", { x1: margin.left, x2: margin.left + plotWidth, y1: baseline, y2: baseline, class: "hist-axis" }),
    ...bars,
    ...ticks(bottom, "bottom", baseline + 2),
    ...ticks(top, "top", baseline + 2),
    svg("text", { x: margin.left - 4, y: margin.top + 8, "text-anchor": "end", class: "hist-label" }, String(tallest)),
    label(margin.left, "start", low === null ? "" : low.toFixed(2)),
    label(margin.left + plotWidth, "end", high === null ? "" : high.toFixed(2)),
  );
  const classes = distribution.classes?.length
    ? h("p", { class: "meta" }, "Highest on: ", distribution.classes.map((entry) => `${entry.name} (${entry.mean.toFixed(2)}, ${entry.images} images)`).join(", "))
    : null;
  return h(
    "figure",
    { class: "distribution" },
    chart,
    h("figcaption", {}, `${distribution.dataset}, job #${distribution.job}: ${distribution.quantity}. `, h("span", { class: "legend-top" }, "▮ strongest shown"), " ", h("span", { class: "legend-bottom" }, "▮ weakest shown")),
    classes,
  );
}

// Selectivity indices of a tuning job (workers/engine/tuning.py), and how to read them.
const INDEX_NAMES = {
  circular_variance: ["circular variance", "0: sharply tuned to one orientation, 1: untuned"],
  peak_selectivity: ["peak selectivity", "1: answers one stimulus only, 0: answers all alike"],
};

function number(value, digits = 3) {
  return typeof value === "number" ? String(Number(value.toFixed(digits))) : "—";
}

function preferredText(preferred) {
  return Object.entries(preferred ?? {})
    .map(([name, value]) => `${name.replaceAll("_", " ")} ${number(value)}`)
    .join(", ");
}

/** A tuning job's plot (PNG, enlarged in the lightbox, SVG linked) and a table of each
 * family's preferred stimulus and selectivity index, from the unit JSON's meta. */
export function tuningFigures(rendering, address) {
  const png = rendering.artifacts.find((artifact) => artifact.kind === "unit_image" && artifact.variant === "tuning");
  const svgFile = rendering.artifacts.find((artifact) => artifact.kind === "unit_image" && artifact.variant === "tuning-svg");
  const families = Object.entries(summaryOf(rendering)?.meta ?? {});
  const rows = families.map(([family, entry]) => {
    const [indexName, reading] = INDEX_NAMES[entry.index] ?? [String(entry.index ?? "—").replaceAll("_", " "), ""];
    return h(
      "tr",
      { dataset: { family } },
      h("th", { scope: "row" }, family.replaceAll("_", " ")),
      h("td", {}, preferredText(entry.preferred) || "—"),
      h("td", { title: reading }, indexName),
      h("td", { class: "num" }, number(entry.selectivity)),
    );
  });
  const caption = `tuning curves · job #${rendering.job}`;
  const plot = png
    ? figure(png, {
        alt: `${address} ${caption}`,
        caption,
        width: 320,
        describe: () => ({ values: families.map(([family, entry]) => [family.replaceAll("_", " "), `${preferredText(entry.preferred)} · selectivity ${number(entry.selectivity)}`]) }),
      })
    : null;
  if (plot && svgFile) plot.querySelector("figcaption").append(" · ", h("a", { href: svgFile.download_url, download: "" }, "SVG"));
  const table = rows.length
    ? h(
        "table",
        { class: "tuning-table" },
        h("caption", {}, `Preferred stimulus and selectivity per family (job #${rendering.job}). Circular variance: 0 sharply tuned, 1 untuned; peak selectivity: 1 one stimulus only, 0 all alike.`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "family"), h("th", { scope: "col" }, "preferred"), h("th", { scope: "col" }, "index"), h("th", { scope: "col" }, "value"))),
        h("tbody", {}, rows),
      )
    : null;
  return [plot, table].filter(Boolean);
}
