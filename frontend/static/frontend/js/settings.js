// Project settings: the review policy (a conditional write), members and their roles, and
// the networks the project studies. Owners change them; other members read them.
import { get, post, projectPaths, request } from "./api.js";
import { saveConditionally } from "./conflicts.js";
import { $, announce, attempt, h, when } from "./dom.js";
import { startEvents } from "./settings_events.js";

const page = $("#settings-page");
const slug = page.dataset.project;
const manage = page.dataset.manage === "true";
const paths = projectPaths(slug);
const ROLES = ["owner", "reviewer", "annotator", "viewer"];
const state = { seen: null };

// --- review policy ----------------------------------------------------------------------

function showPolicy(seen) {
  state.seen = seen;
  $("#policy-review").checked = seen.data.assignments_need_review;
  $("#policy-approvals").value = seen.data.required_approvals;
  $("#policy-version").textContent = `Version ${seen.data.version}.`;
}

async function loadPolicy() {
  const seen = await attempt("Loading the project", () => request(paths.root));
  if (seen) showPolicy(seen);
  return Boolean(seen);
}

function onPolicy(event) {
  event.preventDefault();
  const edited = { assignments_need_review: $("#policy-review").checked, required_approvals: Number($("#policy-approvals").value) };
  // Only what this owner changed: a retry after a conflict must not undo another owner's edit.
  const body = Object.fromEntries(Object.entries(edited).filter(([field, value]) => value !== state.seen.data[field]));
  if (!Object.keys(body).length) return announce("Nothing to save.");
  saveConditionally({
    context: "Saving the review policy",
    title: "The project's settings",
    fields: ["assignments_need_review", "required_approvals"],
    seen: state.seen,
    read: () => request(paths.root),
    write: (etag) => request(paths.root, { method: "PATCH", body, etag }),
    onSaved: (saved) => {
      showPolicy(saved);
      announce("Review policy saved.");
    },
    onReread: showPolicy,
  });
}

// --- members ------------------------------------------------------------------------------

const memberPath = (username) => `${paths.root}members/${encodeURIComponent(username)}/`;

function roleControl(member) {
  if (!manage) return member.role;
  const select = h(
    "select",
    { "aria-label": `Role of ${member.username}`, dataset: { member: member.username } },
    ROLES.map((role) => h("option", { value: role, selected: role === member.role }, role)),
  );
  select.addEventListener("change", async () => {
    const changed = await attempt(`Changing the role of ${member.username}`, () =>
      request(memberPath(member.username), { method: "PATCH", body: { role: select.value } }),
    );
    if (changed) announce(`${member.username} is now ${changed.data.role}.`);
    await loadMembers();
  });
  return select;
}

function memberRow(member) {
  return h(
    "tr",
    { dataset: { member: member.username } },
    h("td", {}, member.username),
    h("td", {}, roleControl(member)),
    h("td", { class: "meta" }, when(member.created_at)),
    manage
      ? h("td", {}, h("button", { type: "button", class: "danger", onclick: () => removeMember(member) }, "Remove", h("span", { class: "visually-hidden" }, ` ${member.username}`)))
      : null,
  );
}

async function loadMembers() {
  const members = await attempt("Loading the members", () => get(`${paths.root}members/`, { page_size: 500 }));
  if (!members) return false;
  $("#member-rows").replaceChildren(...members.results.map(memberRow));
  return true;
}

async function removeMember(member) {
  if (!confirm(`Remove ${member.username} from the project?`)) return;
  const removed = await attempt(`Removing ${member.username}`, () => request(memberPath(member.username), { method: "DELETE" }));
  if (removed) announce(`${member.username} removed.`);
  await loadMembers();
}

async function onAddMember(event) {
  event.preventDefault();
  const body = { username: $("#member-username").value.trim(), role: $("#member-role").value };
  const added = await attempt("Adding a member", () => post(`${paths.root}members/`, body));
  if (!added) return;
  event.target.reset();
  announce(`${added.username} joined as ${added.role}.`);
  await loadMembers();
}

// --- networks -----------------------------------------------------------------------------

function networkRow(network) {
  return h(
    "tr",
    { dataset: { network: network.name } },
    h("td", {}, h("code", {}, network.name)),
    h("td", {}, network.status),
    h("td", { class: "num" }, network.layer_count),
    h("td", { class: "num" }, network.unit_count),
  );
}

async function loadNetworks() {
  const networks = await attempt("Loading the networks", () => get(paths.networks, { page_size: 100 }));
  if (!networks) return false;
  $("#network-rows").replaceChildren(
    ...(networks.results.length ? networks.results.map(networkRow) : [h("tr", {}, h("td", { colspan: 4, class: "empty" }, "This project studies no network yet."))]),
  );
  return true;
}

async function onAddNetwork(event) {
  event.preventDefault();
  const name = $("#network-name").value.trim();
  const added = await attempt("Adding the network", () => post(`${paths.networks}existing/`, { network: name }));
  if (!added) return;
  event.target.reset();
  $(`#network-choices option[value="${CSS.escape(added.name)}"]`)?.remove();
  announce(`The project now studies ${added.name}.`);
  await loadNetworks();
}

async function start() {
  if (manage) {
    $("#policy-form").addEventListener("submit", onPolicy);
    $("#member-form").addEventListener("submit", onAddMember);
    $("#network-form").addEventListener("submit", onAddNetwork);
  }
  const loaded = await Promise.all([
    loadPolicy(),
    loadMembers(),
    loadNetworks(),
    startEvents({ slug, webhooks: page.dataset.webhooks === "true" }),
  ]);
  page.dataset.ready = loaded.every(Boolean) ? "true" : "failed";
}

start();
