// One labelling round: a participant labels its units blind and submits; once closed, its
// agreement, its confusion (or coincidence) matrix and the disagreement queue, where owners
// and reviewers decide each unit and apply the agreed ones.
import { get, post, projectPaths, request } from "./api.js";
import { $, announce, attempt, h } from "./dom.js";

const page = $("#round-page");
const slug = page.dataset.project;
const role = page.dataset.role;
const roundPath = projectPaths(slug).round(page.dataset.round);
const REVIEWERS = new Set(["owner", "reviewer"]);

let round;

function choiceName(key) {
  return round.choices.find((choice) => choice.key === key)?.name ?? key;
}

function score(value) {
  return value === null || value === undefined ? "undefined" : value.toFixed(3);
}

function choiceSelect(id, label, selected) {
  return h(
    "select",
    { id, "aria-label": label },
    h("option", { value: "" }, "—"),
    ...round.choices.map((choice) =>
      h("option", { value: choice.key, selected: choice.key === selected }, choice.name),
    ),
  );
}

function thumbCell() {
  return h("td", { class: "thumb-cell" }, h("span", { class: "mini-thumb", "aria-hidden": "true" }));
}

/** Each unit's picture from its layer's sprite sheet (when the grid has one). */
async function showThumbnails(tbody) {
  const layers = [...new Set(round.units.map((unit) => unit.slice(0, unit.lastIndexOf(":"))))];
  for (const layer of layers) {
    const grid = await attempt(`Pictures of ${layer}`, () => get(projectPaths(slug).grid(round.network, layer), { page_size: 2048 }));
    const sprite = grid?.sprites.find((candidate) => candidate.layout);
    if (!sprite) continue;
    const positions = new Map(sprite.layout.units.map((unit) => [`${layer}:${unit.index}`, unit]));
    const scale = 48 / sprite.layout.tile_width;
    for (const row of tbody.querySelectorAll("tr[data-unit]")) {
      const position = positions.get(row.dataset.unit);
      if (!position) continue;
      Object.assign(row.querySelector(".mini-thumb").style, {
        backgroundImage: `url("${sprite.sprite_url}")`,
        backgroundSize: `${sprite.layout.width * scale}px ${sprite.layout.height * scale}px`,
        backgroundPosition: `${-position.x * scale}px ${-position.y * scale}px`,
      });
    }
  }
  tbody.dataset.pictures = "true";
}

function showHead() {
  $("#round-title").textContent = round.title;
  $("#round-status").textContent = round.status;
  $("#round-status").className = `pill ${round.status}`;
  $("#round-meta").textContent = `${round.network}${round.layer ? ` · ${round.layer}` : ""} · ${round.units.length} units · opened by ${round.created_by ?? "someone"}`;
  $("#round-instructions").textContent = round.instructions;
  $("#participant-list").replaceChildren(
    ...round.participants.map((participant) =>
      h(
        "li",
        { dataset: { participant: participant.username } },
        h("strong", {}, participant.username),
        ` · ${participant.submitted ? "submitted" : "labelling"}`,
        participant.labelled === null ? "" : ` · ${participant.labelled}/${round.units.length} labelled`,
      ),
    ),
  );
  $("#close-round").hidden = !(round.status === "open" && role === "owner");
}

async function showLabelling() {
  const mine = round.me;
  const section = $("#labelling");
  section.hidden = !(mine && round.status === "open" && !mine.submitted);
  if (section.hidden) return;
  const labels = await attempt("Loading your labels", () => get(`${roundPath}labels/`));
  if (!labels) return;
  const byUnit = new Map(labels.map((label) => [label.unit, label]));
  $("#labelled-count").textContent = `${labels.length}/${round.units.length}`;
  const tbody = $("#label-rows");
  tbody.replaceChildren(
    ...round.units.map((unit, position) => {
      const label = byUnit.get(unit);
      const key = label ? (label.group === null ? "other" : String(label.group)) : "";
      return h(
        "tr",
        { dataset: { unit } },
        thumbCell(),
        h("th", { scope: "row" }, h("code", {}, unit)),
        h("td", {}, choiceSelect(`choice-${position}`, `Group for ${unit}`, key)),
        h("td", {}, h("input", { id: `note-${position}`, "aria-label": `Note on ${unit}`, value: label?.note ?? "", autocomplete: "off" })),
      );
    }),
  );
  showThumbnails(tbody);
}

async function saveLabels(event) {
  event?.preventDefault();
  const labels = [];
  round.units.forEach((unit, position) => {
    const key = $(`#choice-${position}`).value;
    if (!key) return;
    labels.push({ unit, group: key === "other" ? null : Number(key), note: $(`#note-${position}`).value });
  });
  const saved = await attempt("Saving labels", () => request(`${roundPath}labels/`, { method: "PUT", body: { labels } }));
  if (saved) {
    $("#labelled-count").textContent = `${saved.data.length}/${round.units.length}`;
    announce(`${labels.length} labels saved.`);
  }
  return saved;
}

async function submitLabels() {
  if (!(await saveLabels())) return;
  const done = await attempt("Submitting", () => post(`${roundPath}submit/`));
  if (done) {
    announce("Labels submitted.");
    load();
  }
}

function showScores(agreement) {
  const rows = [
    ["Units", `${agreement.units} (${agreement.units_complete} labelled by everyone)`],
    ["Raw agreement", agreement.percent_agreement === null ? "undefined" : `${(agreement.percent_agreement * 100).toFixed(1)}%`],
    ["Cohen's kappa", score(agreement.cohen_kappa)],
    ["Fleiss' kappa", score(agreement.fleiss_kappa)],
    ["Krippendorff's alpha (nominal)", score(agreement.krippendorff_alpha)],
    ["Units agreed / disagreed", `${agreement.units_agreed} / ${agreement.units_disagreed}`],
  ];
  $("#score-rows").replaceChildren(...rows.map(([name, value]) => h("tr", {}, h("th", { scope: "row" }, name), h("td", { class: "num" }, value))));
  $("#category-rows").replaceChildren(
    ...agreement.per_category.map((row) =>
      h("tr", {}, h("th", { scope: "row" }, row.name), h("td", { class: "num" }, row.labels), h("td", { class: "num" }, score(row.fleiss_kappa))),
    ),
  );
  const pairwise = agreement.confusion_matrix !== null;
  const matrix = pairwise ? agreement.confusion_matrix : agreement.coincidence_matrix;
  const [first, second] = agreement.annotators;
  $("#matrix-title").textContent = pairwise
    ? `Confusion matrix: ${first} (rows) against ${second} (columns)`
    : "Coincidence matrix (Krippendorff): pairs of choices within units";
  const names = agreement.categories.map(choiceName);
  $("#matrix").replaceChildren(
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, pairwise ? `${first} \\ ${second}` : "choice"), ...names.map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, ...matrix.map((cells, row) => h("tr", {}, h("th", { scope: "row" }, names[row]), ...cells.map((cell) => h("td", { class: "num" }, pairwise ? cell : cell.toFixed(2)))))),
  );
}

async function decide(unit, position) {
  const key = $(`#decision-${position}`).value;
  if (!key) return;
  const done = await attempt(`Deciding ${unit}`, () => post(`${roundPath}decisions/`, { unit, group: key === "other" ? null : Number(key) }));
  if (done) {
    announce(`${unit} decided: ${choiceName(key)}.`);
    showQueue();
  }
}

async function showQueue() {
  const units = await attempt("Loading the disagreement queue", () => get(`${roundPath}disagreements/`));
  if (!units) return;
  const reviewer = REVIEWERS.has(role);
  $("#queue").hidden = false;
  $("#queue-count").textContent = `(${units.length})`;
  $("#apply-agreed").hidden = !reviewer;
  const tbody = $("#queue-rows");
  tbody.replaceChildren(
    ...(units.length
      ? units.map((row, position) =>
          h(
            "tr",
            { dataset: { unit: row.unit } },
            thumbCell(),
            h("th", { scope: "row" }, h("code", {}, row.unit)),
            h("td", {}, h("ul", { class: "plain" }, ...row.labels.map((label) => h("li", {}, `${label.annotator}: ${choiceName(label.choice)}`, label.note ? ` — ${label.note}` : "")))),
            h(
              "td",
              {},
              reviewer ? choiceSelect(`decision-${position}`, `Decision for ${row.unit}`, "") : "",
              reviewer ? h("button", { type: "button", onclick: () => decide(row.unit, position) }, `Decide ${row.unit}`) : "",
            ),
          ),
        )
      : [h("tr", {}, h("td", { colspan: 4, class: "empty" }, "Nothing left to decide."))]),
  );
  showThumbnails(tbody);
}

async function applyAgreed() {
  const done = await attempt("Applying agreed labels", () => post(`${roundPath}apply-agreed/`));
  if (done) announce(`${done.decided} agreed units applied, ${done.assigned} changed group.`);
}

async function closeRound() {
  const done = await attempt("Closing the round", () => post(`${roundPath}close/`));
  if (done) load();
}

async function load() {
  round = await attempt("Loading the round", () => get(roundPath));
  if (!round) return;
  showHead();
  await showLabelling();
  $("#results").hidden = round.agreement === null;
  if (round.agreement) {
    showScores(round.agreement);
    await showQueue();
  }
  page.dataset.ready = "true";
}

$("#label-form").addEventListener("submit", saveLabels);
$("#submit-labels").addEventListener("click", submitLabels);
$("#apply-agreed").addEventListener("click", applyAgreed);
$("#close-round").addEventListener("click", closeRound);
load();
