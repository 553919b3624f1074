// The project's labelling rounds, and the form owners and reviewers open one with.
import { get, post, projectPaths } from "./api.js";
import { $, attempt, h, when } from "./dom.js";
import { fill } from "./lists.js";

const slug = $("#rounds-page").dataset.project;
const paths = projectPaths(slug);
const ANNOTATING_ROLES = new Set(["owner", "reviewer", "annotator"]);

function roundItem(round) {
  return h(
    "li",
    { dataset: { round: round.id } },
    h("a", { href: `/p/${slug}/rounds/${round.id}/` }, round.title),
    " ",
    h("span", { class: `pill ${round.status}` }, round.status),
    h("div", { class: "meta" }, `${round.network}${round.layer ? ` · ${round.layer}` : ""} · ${round.units} units · ${round.participants.join(", ")} · ${when(round.created_at)}`),
  );
}

async function showRounds() {
  const data = await attempt("Loading rounds", () => get(paths.rounds, { page_size: 100 }));
  if (data) fill($("#round-list"), data.results.map(roundItem), "No rounds yet.");
}

function checkbox(name, value, text) {
  return h("label", {}, h("input", { type: "checkbox", name, value }), ` ${text}`);
}

async function fillForm() {
  const members = await attempt("Loading members", () => get(`${paths.root}members/`, { page_size: 200 }));
  if (members) {
    const annotators = members.results.filter((member) => ANNOTATING_ROLES.has(member.role));
    $("#round-participants").replaceChildren(
      h("legend", {}, "Participants (two or more)"),
      ...annotators.map((member) => checkbox("participant", member.username, `${member.username} (${member.role})`)),
    );
  }
  const groups = await attempt("Loading groups", () => get(paths.groups, { page_size: 500 }));
  if (groups) {
    $("#round-groups").replaceChildren(
      h("legend", {}, 'Groups to choose from ("other" is always a choice)'),
      ...groups.results.map((group) => checkbox("group", group.id, group.name)),
    );
  }
}

function checked(name) {
  return [...document.querySelectorAll(`input[name="${name}"]:checked`)].map((input) => input.value);
}

async function openRound(event) {
  event.preventDefault();
  const units = $("#round-units").value.split(",").map((unit) => unit.trim()).filter(Boolean);
  const body = {
    title: $("#round-title").value,
    network: $("#round-network").value,
    layer: $("#round-layer").value.trim() || null,
    units,
    participants: checked("participant"),
    groups: checked("group").map(Number),
    instructions: $("#round-instructions").value,
  };
  const round = await attempt("Opening the round", () => post(paths.rounds, body));
  if (round) location.href = `/p/${slug}/rounds/${round.id}/`;
}

showRounds();
if ($("#round-open")) {
  $("#round-open").addEventListener("submit", openRound);
  fillForm();
}
