// Releases: list, make, download, and compare with any earlier release.
import { get, post } from "./api.js";
import { $, announce, attempt, h, when } from "./dom.js";

const page = $("#exports-page");
const slug = page.dataset.project;
const releasesPath = `projects/${slug}/releases/`;
const networks = [...document.querySelectorAll("[data-network]")].map((row) => row.dataset.network);

function downloads(release) {
  return networks.flatMap((network, at) => [
    at ? h("br") : null,
    networks.length > 1 ? h("code", {}, `${network}: `) : null,
    ...["json", "csv", "html"].flatMap((format, i) => [
      i ? " · " : null,
      h("a", { href: `/api/v1/${releasesPath}${encodeURIComponent(release.name)}/exports/${format}/?network=${network}`, download: true }, format.toUpperCase()),
    ]),
  ]);
}

function list(title, items, describe) {
  if (!items.length) return null;
  return h("div", {}, h("h3", {}, `${title} (${items.length})`), h("ul", { class: "feed" }, items.map((item) => h("li", {}, describe(item)))));
}

async function showDiff(release, against) {
  const diff = await attempt(`Comparing ${release.name}`, () => get(`${releasesPath}${encodeURIComponent(release.name)}/diff/`, { against }));
  if (!diff) return;
  const groups = diff.groups;
  const sections = [
    list("Groups added", groups.added, (group) => group.path),
    list("Groups removed", groups.removed, (group) => group.path),
    list("Groups renamed", groups.renamed, (group) => `${group.from} → ${group.to}`),
    list("Groups moved", groups.moved, (group) => `${group.name}: ${group.from ?? "top level"} → ${group.to ?? "top level"}`),
    list("Groups changed", groups.changed, (group) => `${group.name}: ${group.fields.join(", ")}`),
    list("Units regrouped", diff.units, (unit) => [h("code", {}, `${unit.network}/${unit.unit}`), ` ${unit.from?.path ?? "no group"} → ${unit.to?.path ?? "no group"}`]),
  ].filter(Boolean);
  $("#diff-card").hidden = false;
  $("#diff-title").textContent = `Changes from ${diff.from} to ${diff.to}`;
  $("#diff").replaceChildren(...(sections.length ? sections : [h("p", { class: "empty" }, "Nothing changed.")]));
}

// The releases made before ``release`` (newest first); the one just before is chosen.
function compareControl(release, earlier) {
  if (!earlier.length) return null;
  const chooser = h(
    "select",
    { "aria-label": `Compare ${release.name} with`, dataset: { against: release.name } },
    earlier.map((older) => h("option", { value: older.name }, older.name)),
  );
  return h(
    "div",
    { class: "row compare-releases" },
    chooser,
    h("button", { type: "button", onclick: () => showDiff(release, chooser.value) }, "Changes", h("span", { class: "visually-hidden" }, ` in ${release.name}`)),
  );
}

/** "50% agreed, Cohen's κ 0.20, α 0.26": a round's headline agreement as the release froze it. */
function agreementText(round) {
  const parts = [];
  if (round.percent_agreement !== null) parts.push(`${Math.round(round.percent_agreement * 100)}% agreed`);
  if (round.cohen_kappa !== null) parts.push(`Cohen's κ ${round.cohen_kappa.toFixed(2)}`);
  else if (round.fleiss_kappa !== null) parts.push(`Fleiss' κ ${round.fleiss_kappa.toFixed(2)}`);
  if (round.krippendorff_alpha !== null) parts.push(`Krippendorff's α ${round.krippendorff_alpha.toFixed(2)}`);
  return parts.join(", ") || "no agreement measurable";
}

function roundLines(release) {
  return (release.rounds ?? []).map((round) =>
    h("div", { class: "meta round-agreement" }, `Round “${round.title}” (${round.network}${round.layer ? ` ${round.layer}` : ""}, ${round.units} units, ${round.annotators.join(", ")}): ${agreementText(round)}`),
  );
}

function releaseRow(release, earlier) {
  return h(
    "tr",
    { dataset: { release: release.name } },
    h("td", {}, h("strong", {}, release.name), h("div", { class: "meta" }, `${when(release.created_at)}${release.notes ? ` · ${release.notes}` : ""}`), ...roundLines(release)),
    h("td", { class: "num" }, release.group_count),
    h("td", { class: "num" }, release.unit_count),
    h("td", {}, release.created_by ?? ""),
    h("td", {}, downloads(release)),
    h("td", {}, compareControl(release, earlier)),
  );
}

async function showReleases() {
  const data = await attempt("Loading releases", () => get(releasesPath, { page_size: 100 }));
  if (!data) return;
  const releases = data.results;
  $("#release-rows").replaceChildren(
    ...(releases.length
      ? releases.map((release, at) => releaseRow(release, releases.slice(at + 1)))
      : [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "No releases yet."))]),
  );
}

async function makeRelease(event) {
  event.preventDefault();
  const release = await attempt("Making the release", () => post(releasesPath, { name: $("#release-name").value, notes: $("#release-notes").value }));
  if (!release) return;
  event.target.reset();
  announce(`Release ${release.name}: ${release.group_count} groups, ${release.unit_count} units.`);
  await showReleases();
}

$("#release-form").addEventListener("submit", makeRelease);
showReleases().then(() => (page.dataset.ready = "true"));
