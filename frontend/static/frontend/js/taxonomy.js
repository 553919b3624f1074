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
const THUMB = 48; // px, as .group-thumb in atlas.css
const THUMB_KINDS = ["feature_visualization", "dataset_examples", "weights", "first_layer_weights"];

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
      unitCount(node),
    ),
    node.children.length ? h("ul", {}, node.children.map(nodeView)) : null,
  );
}

// A parent shows its own units and those of its subgroups together.
function unitCount(node) {
  if (!node.children.length) return h("span", { class: "num", title: "units" }, node.unit_count);
  return h(
    "span",
    { class: "num rollup", title: `${node.unit_count} in this group, ${node.total_unit_count} with its subgroups` },
    node.total_unit_count,
    h("small", {}, ` (${node.unit_count} own)`),
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
  const items = units.results.map((unit) =>
    h(
      "li",
      { dataset: { unit: `${unit.network}/${unit.address}` } },
      h("a", { href: links.unit(unit.network, unit.address) }, h("span", { class: "group-thumb missing", "aria-hidden": "true" }), h("code", {}, `${unit.network}/${unit.address}`)),
      h("span", { class: "meta" }, ` ${unit.source}${unit.note ? ` · ${unit.note}` : ""}`),
    ),
  );
  fill($("#group-units"), items, "No units in this group.");
  await showThumbnails(id, units.results, items);
  if (state.selected === id) $("#group-units").dataset.thumbnails = "ready";
}

// Thumbnails come from the layer sprites the grid uses: one grid request per layer, filtered
// to this group, gives the sprite sheet and the tile of each of the group's units in it.
async function showThumbnails(id, units, items) {
  $("#group-units").dataset.thumbnails = "loading";
  const layers = new Map();
  units.forEach((unit, at) => {
    const [layer, index] = splitAddress(unit.address);
    const key = `${unit.network}/${layer}`;
    if (!layers.has(key)) layers.set(key, { network: unit.network, layer, tiles: new Map() });
    layers.get(key).tiles.set(index, items[at].querySelector(".group-thumb"));
  });
  await Promise.all(
    [...layers.values()].map(async ({ network, layer, tiles }) => {
      let data;
      try {
        data = await get(paths.grid(network, layer), { group: id, page_size: 2048 });
      } catch {
        return; // The list stays usable without pictures.
      }
      const sprite = THUMB_KINDS.map((kind) => data.sprites.find((each) => each.kind === kind && each.layout)).find(Boolean);
      if (!sprite || state.selected !== id) return;
      const { layout } = sprite;
      const scale = THUMB / layout.tile_width;
      for (const place of layout.units) {
        const thumb = tiles.get(place.index);
        if (!thumb) continue;
        thumb.classList.remove("missing");
        Object.assign(thumb.style, {
          backgroundImage: `url("${sprite.sprite_url}")`,
          backgroundSize: `${layout.width * scale}px ${layout.height * scale}px`,
          backgroundPosition: `${-place.x * scale}px ${-place.y * scale}px`,
        });
      }
    }),
  );
}

function splitAddress(address) {
  const at = address.lastIndexOf(":");
  return [address.slice(0, at), Number(address.slice(at + 1))];
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
