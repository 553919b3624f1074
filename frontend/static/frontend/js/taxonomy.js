// The taxonomy tree: create, rename, recolor, move and merge groups; each group's units.
import { get, post, projectPaths, request } from "./api.js";
import { saveConditionally } from "./conflicts.js";
import { $, announce, attempt, h, pageLinks, swatch } from "./dom.js";
import { fill } from "./lists.js";

const page = $("#taxonomy-page");
const slug = page.dataset.project;
const paths = projectPaths(slug);
const links = pageLinks(slug);
const COMPARED = ["name", "description", "color", "parent", "unit_count"];
const state = { tree: [], flat: [], selected: null, seen: null };

function flatten(nodes, depth = 0, into = []) {
  for (const node of nodes) {
    into.push({ ...node, depth });
    flatten(node.children, depth + 1, into);
  }
  return into;
}

function nodeView(node) {
  return h(
    "li",
    { id: `group-${node.id}` },
    h(
      "button",
      {
        type: "button",
        class: `node link${state.selected === node.id ? " current" : ""}`,
        dataset: { group: node.id },
        "aria-current": state.selected === node.id ? "true" : null,
        onclick: () => select(node.id),
      },
      swatch(node.color),
      h("span", { class: "name" }, node.name),
      node.layer ? h("small", {}, `${node.layer.network}/${node.layer.layer}`) : null,
      node.description ? h("small", { class: "description" }, node.description) : null,
      h("span", { class: "num", title: "units" }, node.unit_count),
    ),
    node.children.length ? h("ul", {}, node.children.map(nodeView)) : null,
  );
}

function parentOptions(select, { exclude = null, top = "top level" } = {}) {
  const excluded = new Set();
  if (exclude !== null) {
    const walk = (node) => { excluded.add(node.id); node.children.forEach(walk); };
    const root = state.flat.find((node) => node.id === exclude);
    if (root) walk(root);
  }
  const options = state.flat
    .filter((node) => !excluded.has(node.id))
    .map((node) => h("option", { value: node.id }, `${"\u00a0\u00a0".repeat(node.depth)}${node.name}`));
  select.replaceChildren(...(top === null ? [] : [h("option", { value: "" }, top)]), ...options);
}

function drawTree() {
  $("#tree").replaceChildren(...(state.tree.length ? state.tree.map(nodeView) : [h("li", { class: "empty" }, "No groups yet.")]));
  const units = state.flat.reduce((total, node) => total + node.unit_count, 0);
  $("#taxonomy-summary").textContent = `${state.flat.length} groups · ${units} units labelled`;
  parentOptions($("#create-parent"));
}

async function loadTree() {
  const tree = await attempt("Loading the taxonomy", () => get(paths.tree));
  if (!tree) return;
  state.tree = tree;
  state.flat = flatten(tree);
  drawTree();
}

function showDetail(seen) {
  state.seen = seen;
  const group = seen.data;
  $("#group-detail").hidden = false;
  $("#detail-version").textContent = `#${group.id} · version ${group.version}`;
  $("#edit-name").value = group.name;
  $("#edit-description").value = group.description;
  $("#edit-color").value = group.color;
  parentOptions($("#move-parent"), { exclude: group.id });
  $("#move-parent").value = group.parent ?? "";
  const intoSelect = $("#merge-into");
  parentOptions(intoSelect, { exclude: group.id, top: null });
}

async function select(id) {
  state.selected = id;
  state.seen = null;
  $("#group-detail").hidden = true;
  drawTree();
  document.querySelector(`[data-group="${id}"]`)?.focus();
  const seen = await attempt("Loading the group", () => request(paths.group(id)));
  if (!seen) return;
  showDetail(seen);
  const units = await attempt("Loading the group's units", () => get(`${paths.group(id)}units/`, { page_size: 500 }));
  if (!units) return;
  $("#unit-total").textContent = units.count;
  fill(
    $("#group-units"),
    units.results.map((unit) => h("li", {}, h("a", { href: links.unit(unit.network, unit.address) }, h("code", {}, `${unit.network}/${unit.address}`)), h("span", { class: "meta" }, ` ${unit.source}${unit.note ? ` · ${unit.note}` : ""}`))),
    "No units in this group.",
  );
}

function changeGroup(context, write, done) {
  return saveConditionally({
    context,
    title: `The group “${state.seen.data.name}”`,
    fields: COMPARED,
    seen: state.seen,
    read: () => request(paths.group(state.selected)),
    write,
    onSaved: async (saved) => {
      announce(done);
      await loadTree();
      await select(saved.data.id);
    },
    onReread: showDetail,
  });
}

function onEdit(event) {
  event.preventDefault();
  // Only what this user changed: a retry after a conflict must not undo someone else's edit.
  const edited = { name: $("#edit-name").value, description: $("#edit-description").value, color: $("#edit-color").value };
  const body = Object.fromEntries(Object.entries(edited).filter(([field, value]) => value !== state.seen.data[field]));
  if (!Object.keys(body).length) return announce("Nothing to save.");
  changeGroup("Saving the group", (etag) => request(paths.group(state.selected), { method: "PATCH", body, etag }), "Group saved.");
}

function onMove(event) {
  event.preventDefault();
  const value = $("#move-parent").value;
  const body = { parent: value ? Number(value) : null };
  changeGroup("Moving the group", (etag) => request(`${paths.group(state.selected)}move/`, { method: "POST", body, etag }), "Group moved.");
}

function onMerge(event) {
  event.preventDefault();
  const into = Number($("#merge-into").value);
  const target = state.flat.find((node) => node.id === into);
  if (!confirm(`Merge “${state.seen.data.name}” into “${target.name}”? Its units move and it is deleted.`)) return;
  changeGroup("Merging", (etag) => request(`${paths.group(state.selected)}merge/`, { method: "POST", body: { into }, etag }), "Groups merged.");
}

async function onCreate(event) {
  event.preventDefault();
  const parent = $("#create-parent").value;
  const body = {
    name: $("#create-name").value,
    parent: parent ? Number(parent) : null,
    description: $("#create-description").value,
  };
  // Without a colour the server picks one that no group of the project has.
  if (!$("#create-color-auto").checked) body.color = $("#create-color").value;
  const created = await attempt("Creating the group", () => post(paths.groups, body));
  if (!created) return;
  event.target.reset();
  $("#create-color").disabled = true;
  announce(`Group “${created.name}” created.`);
  await loadTree();
  await select(created.id);
}

function onTreeKey(event) {
  const buttons = [...document.querySelectorAll("#tree .node")];
  const at = buttons.indexOf(document.activeElement);
  if (at === -1) return;
  const next = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: buttons.length - 1 }[event.key];
  if (next === undefined) return;
  event.preventDefault();
  buttons[Math.min(Math.max(next, 0), buttons.length - 1)].focus();
}

async function start() {
  $("#edit-form").addEventListener("submit", onEdit);
  $("#move-form").addEventListener("submit", onMove);
  $("#merge-form").addEventListener("submit", onMerge);
  $("#create-form").addEventListener("submit", onCreate);
  $("#create-color-auto").addEventListener("change", (event) => ($("#create-color").disabled = event.target.checked));
  $("#tree").addEventListener("keydown", onTreeKey);
  await loadTree();
  const linked = location.hash.match(/^#group-(\d+)$/);
  if (linked) await select(Number(linked[1]));
  page.dataset.ready = "true";
}

start();
