// The project's search box (project page and grid): group names and descriptions, unit notes,
// comments, hypothesis titles and claims, circuit names; each hit links to where it lives.
import { get, projectPaths } from "./api.js";
import { $, attempt, h, pageLinks } from "./dom.js";

const form = $("#search-form");
const input = $("#search-q");
const results = $("#search-results");
const slug = form.dataset.project;
const links = pageLinks(slug);
const root = `/p/${slug}/`;

function excerpt(text, query, length = 90) {
  const at = text.toLowerCase().indexOf(query.toLowerCase());
  const start = Math.max(0, at - 30);
  const cut = text.slice(start, start + length);
  return `${start > 0 ? "…" : ""}${cut}${start + length < text.length ? "…" : ""}`;
}

// Each kind of hit: its heading and, per hit, where it links and what it shows.
const KINDS = [
  ["units", "Units", (hit, q) => [links.unit(hit.network, hit.unit), `${hit.network} / ${hit.unit}`, `${hit.group.name}: ${excerpt(hit.note, q)}`]],
  ["groups", "Groups", (hit, q) => [`${links.taxonomy}#group-${hit.id}`, hit.name, excerpt(hit.description, q)]],
  ["hypotheses", "Hypotheses", (hit) => [links.hypothesis(hit.id), hit.title, hit.status]],
  ["circuits", "Circuits", (hit) => [`${root}circuits/${hit.id}/`, hit.name, hit.network]],
  ["comments", "Comments", (hit, q) => [`${root}comments/${hit.id}/`, excerpt(hit.body, q), `on a ${hit.target_type}`]],
];

function show(found, query) {
  const sections = KINDS.filter(([kind]) => found[kind].length).map(([kind, heading, describe]) =>
    h(
      "section",
      { class: "search-kind", dataset: { kind } },
      h("h3", {}, `${heading} (${found[kind].length})`),
      h(
        "ul",
        { class: "feed" },
        found[kind].map((hit) => {
          const [href, title, detail] = describe(hit, query);
          return h("li", {}, h("a", { href }, title), detail ? h("div", { class: "meta" }, detail) : null);
        }),
      ),
    ),
  );
  const total = KINDS.reduce((sum, [kind]) => sum + found[kind].length, 0);
  const summary = h("p", { class: "meta", id: "search-summary" }, total ? `${total} found for “${query}”.` : `Nothing found for “${query}”.`);
  results.replaceChildren(summary, ...sections);
  results.hidden = false;
}

async function search(event) {
  event.preventDefault();
  const query = input.value.trim();
  if (query.length < 2) {
    results.replaceChildren(h("p", { class: "meta", id: "search-summary" }, "Type at least two characters."));
    results.hidden = false;
    return;
  }
  results.setAttribute("aria-busy", "true");
  const found = await attempt("Searching", () => get(`${projectPaths(slug).root}search/`, { q: query }));
  results.removeAttribute("aria-busy");
  if (found) show(found, query);
}

form.addEventListener("submit", search);
form.addEventListener("reset", () => {
  results.replaceChildren();
  results.hidden = true;
});
