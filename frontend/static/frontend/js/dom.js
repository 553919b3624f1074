// Small DOM helpers shared by every page: building elements, errors that stay visible,
// conflicts that offer a retry, and the page's own links.

/** h("a", {href, class: "x", onclick}, "text", child…): an element. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name === "style" && typeof value === "object") Object.assign(element.style, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export const $ = (selector, root = document) => root.querySelector(selector);

/** Show an error in the page's alert region until the user dismisses it. */
export function reportError(error, context = "") {
  const fields = Object.entries(error.fields || {}).map(([name, messages]) =>
    h("li", {}, h("code", {}, name), ": ", [].concat(messages).join(" ")),
  );
  const message = h(
    "div",
    { class: "alert", dataset: { code: error.code || "error" } },
    h("strong", {}, context ? `${context}: ` : "", error.message),
    error.status ? h("span", { class: "code" }, ` ${error.status} ${error.code || ""}`) : null,
    fields.length ? h("ul", {}, fields) : null,
    h("button", { type: "button", class: "dismiss", "aria-label": "Dismiss", onclick: () => message.remove() }, "×"),
  );
  dock(message);
  return message;
}

/** Add a message to the dock under the header. The dock takes room of its own: the page below
 * it moves down instead of being covered, wherever it is scrolled to (the browser's scroll
 * anchoring would hold the page still, under the grown dock). */
function dock(message) {
  const scrolled = scrollY;
  const alerts = $("#alerts");
  alerts.append(message);
  alerts.scrollTop = alerts.scrollHeight; // the newest in view when the dock is full (it scrolls)
  if (scrollY !== scrolled) scrollTo({ top: scrolled, behavior: "instant" });
}

/** A short, polite confirmation. */
export function announce(text) {
  const line = $("#status");
  line.textContent = text;
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => (line.textContent = ""), 6000);
}

/** Run ``action``; report its error (and rethrow nothing) so no failure goes unseen. */
export async function attempt(context, action) {
  try {
    return await action();
  } catch (error) {
    reportError(error, context);
    return undefined;
  }
}

/** A 412 panel: what changed since the user's read, and a button to retry on the new version. */
export function showConflict({ title, mine, theirs, fields, onRetry }) {
  const rows = fields
    .filter((field) => JSON.stringify(mine[field]) !== JSON.stringify(theirs[field]))
    .map((field) =>
      h("tr", {}, h("th", {}, field), h("td", {}, show(mine[field])), h("td", {}, show(theirs[field]))),
    );
  const panel = h(
    "div",
    { class: "alert conflict", dataset: { code: "version_conflict" } },
    h("strong", {}, `${title} changed since you read it (now version ${theirs.version}).`),
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, h("th", {}, "field"), h("th", {}, "you saw"), h("th", {}, "now"))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 3 }, "No visible field changed."))),
    ),
    h("button", { type: "button", class: "primary", onclick: () => { panel.remove(); onRetry(); } }, `Retry on version ${theirs.version}`),
    h("button", { type: "button", onclick: () => panel.remove() }, "Dismiss"),
  );
  dock(panel);
  panel.querySelector("button").focus({ preventScroll: true });
  return panel;
}

function show(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "object") return value.name ?? JSON.stringify(value);
  return String(value);
}

export function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  const seconds = (Date.now() - date.getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return date.toISOString().slice(0, 10);
}

/** A URL path segment that keeps ':' readable (a unit address reads "features.2:15"); ':' is
 * allowed in a path segment (RFC 3986), and Django's reverse() leaves it as it is too. */
export function pathSegment(text) {
  return encodeURIComponent(text).replaceAll("%3A", ":");
}

/** Page links, mirroring frontend/urls.py. */
export function pageLinks(slug) {
  const root = `/p/${slug}/`;
  return {
    project: root,
    grid: (network, layer) => `${root}grid/${network}/${pathSegment(layer)}/`,
    unit: (network, address) => `${root}units/${network}/${pathSegment(address)}/`,
    hypothesis: (id) => `${root}hypotheses/${id}/`,
    taxonomy: `${root}taxonomy/`,
    reviews: `${root}reviews/`,
  };
}

/** A group's color swatch. */
export function swatch(color) {
  return h("span", { class: "swatch", style: { background: color || "transparent" }, "aria-hidden": "true" });
}
