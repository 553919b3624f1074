// The layer grid: one data request (units, groups, sprite layouts) and one sprite image,
// thumbnails cut from the sprite with background-position, selection and keyboard navigation.
import { get, post, projectPaths } from "./api.js";
import { $, announce, attempt, h, pageLinks, reportError, swatch } from "./dom.js";
import { evidenceChosen, mountEvidencePicker } from "./evidence.js";
import { mountGridState } from "./grid_state.js";
import { groupOptions, groupsFlat } from "./group_tree.js";
import { dragSelect, Selection } from "./selection.js";

const page = $("#grid-page");
const { project: slug, network, layer } = page.dataset;
const paths = projectPaths(slug);
const links = pageLinks(slug);
const grid = $("#grid");
const KIND_ORDER = ["feature_visualization", "dataset_examples", "weights", "first_layer_weights"];

const state = { units: [], tiles: new Map(), sprites: [], sprite: null, focus: null, groups: null };
const selection = new Selection(showSelection);

function address(index) {
  return `${layer}:${index}`;
}

function visibleOrder() {
  return state.units.filter((unit) => !state.tiles.get(unit.index).hidden).map((unit) => unit.index);
}

function visibleTiles() {
  return visibleOrder().map((index) => state.tiles.get(index));
}

// --- drawing ------------------------------------------------------------------------------

function tileFor(unit) {
  const tile = h(
    "div",
    { role: "option", id: `unit-${unit.index}`, class: "tile", "aria-selected": "false", dataset: { index: unit.index } },
    h("span", { class: "thumb" }),
    h("span", { class: "label" }, unit.index),
  );
  paintUnit(tile, unit);
  return tile;
}

function paintUnit(tile, unit) {
  const group = unit.group;
  tile.style.setProperty("--group", group ? group.color : "transparent");
  tile.classList.toggle("grouped", Boolean(group));
  tile.classList.toggle("reviewing", unit.open_hypotheses > 0);
  const silent = Boolean(unit.fired_on?.never_fired);
  tile.classList.toggle("never-fired", silent);
  tile.title = [
    address(unit.index),
    group ? group.name : "no group",
    silent ? `never fired on ${unit.fired_on.dataset} (0 of ${unit.fired_on.of} images)` : "",
    unit.open_hypotheses ? `${unit.open_hypotheses} open hypothesis(es)` : "",
    unit.comments ? `${unit.comments} comment(s)` : "",
  ].filter(Boolean).join(" · ");
  tile.setAttribute("aria-label", tile.title);
  tile.querySelector(".badges")?.remove();
  if (unit.open_hypotheses || unit.comments || silent) {
    tile.append(
      h(
        "span",
        { class: "badges", "aria-hidden": "true" },
        silent ? h("span", { class: "badge silent", title: "never fired", "data-count": 0 }) : null,
        unit.open_hypotheses ? h("span", { class: "badge review", "data-count": unit.open_hypotheses }) : null,
        unit.comments ? h("span", { class: "badge talk", "data-count": unit.comments }) : null,
      ),
    );
  }
}

function placeThumbnails() {
  const size = Number($("#tile-size").value);
  grid.style.setProperty("--tile", `${size}px`);
  const sprite = state.sprite;
  if (!sprite) return;
  const layout = sprite.layout;
  const FRAME = 3; // the group-colored frame around each picture (atlas.css, .tile .thumb)
  const scale = (size - 2 * FRAME) / layout.tile_width;
  const positions = new Map(layout.units.map((unit) => [unit.index, unit]));
  grid.style.setProperty("--sprite", `url("${sprite.sprite_url}")`);
  grid.style.setProperty("--sprite-size", `${layout.width * scale}px ${layout.height * scale}px`);
  for (const [index, tile] of state.tiles) {
    const position = positions.get(index);
    const thumb = tile.firstChild;
    thumb.classList.toggle("missing", !position);
    thumb.style.backgroundPosition = position ? `${-position.x * scale}px ${-position.y * scale}px` : "";
  }
}

function drawGrid() {
  state.tiles = new Map();
  const fragment = document.createDocumentFragment();
  for (const unit of state.units) {
    const tile = tileFor(unit);
    state.tiles.set(unit.index, tile);
    fragment.append(tile);
  }
  grid.replaceChildren(fragment);
  placeThumbnails();
  applyFilters();
}

function drawLegend() {
  const counts = new Map();
  let ungrouped = 0;
  for (const unit of state.units) {
    if (!unit.group) ungrouped += 1;
    else {
      const entry = counts.get(unit.group.id) || { group: unit.group, count: 0 };
      entry.count += 1;
      counts.set(unit.group.id, entry);
    }
  }
  const entries = [...counts.values()].sort((a, b) => b.count - a.count);
  const filter = (value) => () => {
    $("#filter-group").value = value;
    applyFilters();
  };
  $("#legend").replaceChildren(
    ...entries.map(({ group, count }) =>
      h("li", {}, h("button", { type: "button", class: "link", onclick: filter(String(group.id)) }, swatch(group.color), group.name), h("span", { class: "num" }, count)),
    ),
    h("li", { class: "muted" }, h("button", { type: "button", class: "link", onclick: filter("none") }, swatch(null), "no group"), h("span", { class: "num" }, ungrouped)),
  );
  const groupFilter = $("#filter-group");
  const chosen = groupFilter.value;
  groupFilter.replaceChildren(
    h("option", { value: "" }, "all groups"),
    h("option", { value: "none" }, "no group"),
    ...entries.map(({ group, count }) => h("option", { value: group.id }, `${group.name} (${count})`)),
  );
  groupFilter.value = [...groupFilter.options].some((option) => option.value === chosen) ? chosen : "";
  const labelled = state.units.length - ungrouped;
  const reviewing = state.units.filter((unit) => unit.open_hypotheses > 0).length;
  const share = state.units.length ? Math.round((100 * labelled) / state.units.length) : 0;
  const silent = state.units.filter((unit) => unit.fired_on?.never_fired);
  const sprite = state.sprite ? `${state.sprite.kind.replaceAll("_", " ")}, job #${state.sprite.job}` : "no rendering yet";
  const silentText = silent.length ? ` · ${silent.length} never fired on ${silent[0].fired_on.dataset}` : "";
  $("#grid-summary").textContent = `${state.units.length} units · ${labelled} labelled (${share}%) · ${reviewing} under review${silentText} · pictures: ${sprite}`;
}

function applyFilters() {
  const group = $("#filter-group").value;
  const status = $("#filter-status").value;
  for (const unit of state.units) {
    const tile = state.tiles.get(unit.index);
    const byGroup = !group || (group === "none" ? !unit.group : unit.group && String(unit.group.id) === group);
    const byStatus =
      !status ||
      (status === "unlabelled" && !unit.group) ||
      (status === "labelled" && unit.group) ||
      (status === "under_review" && unit.open_hypotheses > 0) ||
      (status === "never_fired" && Boolean(unit.fired_on?.never_fired));
    tile.hidden = !(byGroup && byStatus);
  }
  selection.retain(visibleOrder());
  const order = visibleOrder();
  if (state.focus === null || !order.includes(state.focus)) setFocus(order[0] ?? null, false);
}

function showSelection() {
  for (const [index, tile] of state.tiles) {
    const selected = selection.has(index);
    if ((tile.getAttribute("aria-selected") === "true") !== selected) tile.setAttribute("aria-selected", String(selected));
  }
  const chosen = selection.sorted();
  $("#selection-count").textContent = chosen.length;
  $("#selection-list").textContent = chosen.length ? `${layer}: ${chosen.join(", ")}` : "Nothing selected.";
  const compare = $("#compare-selection");
  compare.hidden = chosen.length < 2;
  compare.href = `/p/${slug}/compare/${network}/?units=${chosen.slice(0, 12).map(address).join(",")}`;
  if (chosen.length) loadGroups();
}

function setFocus(index, scroll = true) {
  if (state.focus !== null) state.tiles.get(state.focus)?.classList.remove("focused");
  state.focus = index;
  if (index === null) {
    grid.removeAttribute("aria-activedescendant");
    return;
  }
  const tile = state.tiles.get(index);
  tile.classList.add("focused");
  grid.setAttribute("aria-activedescendant", tile.id);
  if (scroll) tile.scrollIntoView({ block: "nearest" });
}

// --- input --------------------------------------------------------------------------------

function columns() {
  return getComputedStyle(grid).gridTemplateColumns.split(" ").length;
}

function onKey(event) {
  const order = visibleOrder();
  if (!order.length) return;
  const at = Math.max(order.indexOf(state.focus), 0);
  const steps = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -columns(), ArrowDown: columns(), Home: -at, End: order.length };
  if (event.key in steps) {
    event.preventDefault();
    const next = order[Math.min(Math.max(at + steps[event.key], 0), order.length - 1)];
    setFocus(next);
    if (event.shiftKey) selection.range(order, next);
    else selection.anchor = next;
  } else if (event.key === " ") {
    event.preventDefault();
    selection.toggle(state.focus);
  } else if (event.key === "Enter") {
    event.preventDefault();
    location.href = links.unit(network, address(state.focus));
  } else if (event.key === "Escape") {
    selection.clear();
  } else if (event.key === "a" && !event.altKey) {
    event.preventDefault();
    selection.set(order);
  } else if (event.key === "g") {
    event.preventDefault();
    $("#assign-group").focus();
  } else if (event.key === "h") {
    event.preventDefault();
    $("#hypothesis-title").focus();
  }
}

function onMouseDown(event) {
  const tile = event.target.closest(".tile");
  if (event.button !== 0) return;
  event.preventDefault();
  grid.focus({ preventScroll: true });
  if (tile) {
    const index = Number(tile.dataset.index);
    setFocus(index, false);
    if (event.shiftKey) selection.range(visibleOrder(), index);
    else if (event.ctrlKey || event.metaKey) selection.toggle(index);
    else selection.only(index);
  } else if (!event.ctrlKey && !event.metaKey) {
    selection.clear();
  }
  if (!event.shiftKey) {
    dragSelect(grid, selection, { x: event.clientX, y: event.clientY, additive: event.ctrlKey || event.metaKey || Boolean(tile) }, visibleTiles);
  }
}

function onDoubleClick(event) {
  const tile = event.target.closest(".tile");
  if (tile) location.href = links.unit(network, address(Number(tile.dataset.index)));
}

// --- groups and actions -------------------------------------------------------------------

async function loadGroups() {
  if (state.groups) return state.groups;
  state.groups = get(paths.groups, { page_size: 1000 }).then((page) => {
    const groups = page.results.filter((group) => !group.layer || (group.layer.network === network && group.layer.layer === layer));
    const options = groups.map((group) => h("option", { value: group.id }, group.name));
    $("#assign-group").append(...options);
    $("#hypothesis-group").append(...groups.map((group) => h("option", { value: group.id }, group.name)));
    return groups;
  });
  // A new group may go inside any group of the project, whatever its layer.
  groupsFlat(slug).then(
    (flat) => $("#hypothesis-new-group-parent").replaceChildren(...groupOptions(flat)),
    (error) => reportError(error, "Loading the groups"),
  );
  state.groups.catch((error) => {
    state.groups = null;
    reportError(error, "Loading the groups");
  });
  return state.groups;
}

async function assignSelection(event) {
  event.preventDefault();
  const units = selection.sorted().map(address);
  if (!units.length) return reportError(new Error("Select units first."), "Assign group");
  const group = Number($("#assign-group").value);
  const result = await attempt("Assign group", () =>
    post(paths.assignments, { network, units, group, note: $("#assign-note").value }),
  );
  if (!result) return;
  announce(`${result.changed} of ${result.units} units moved.`);
  await reload();
}

async function proposeHypothesis(event) {
  event.preventDefault();
  const units = selection.sorted().map(address);
  if (!units.length) return reportError(new Error("Select the units the hypothesis is about."), "Open hypothesis");
  const choice = $("#hypothesis-group").value;
  const body = { network, units, title: $("#hypothesis-title").value, text: $("#hypothesis-text").value, ...evidenceChosen($("#hypothesis-evidence")) };
  if (choice === "new") {
    // No colour: on acceptance the group takes one no group of the project has yet.
    const parent = $("#hypothesis-new-group-parent").value;
    body.new_group = { name: $("#hypothesis-new-group").value, parent: parent ? Number(parent) : null };
  } else if (choice) {
    body.proposed_group = Number(choice);
  }
  const hypothesis = await attempt("Open hypothesis", () => post(paths.hypotheses, body));
  if (hypothesis) location.href = links.hypothesis(hypothesis.id);
}

// --- loading ------------------------------------------------------------------------------

function chooseSprite() {
  const kind = $("#sprite-kind").value;
  state.sprite = state.sprites.find((sprite) => sprite.kind === kind) || state.sprites[0] || null;
}

async function reload() {
  const data = await attempt("Loading the grid", () => get(paths.grid(network, layer), { page_size: 2048 }));
  if (!data) return false;
  state.units = data.results;
  state.sprites = data.sprites
    .filter((sprite) => sprite.layout)
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  const kindSelect = $("#sprite-kind");
  const chosen = kindSelect.value;
  kindSelect.replaceChildren(...state.sprites.map((sprite) => h("option", { value: sprite.kind }, sprite.kind.replaceAll("_", " "))));
  if (chosen) kindSelect.value = chosen;
  kindSelect.disabled = state.sprites.length < 2;
  chooseSprite();
  // Decoding the sprite sheet overlaps with building the tiles.
  state.spriteDecoded ??= spriteReady();
  const kept = selection.sorted();
  drawGrid();
  drawLegend();
  selection.set(kept.filter((index) => state.tiles.has(index)));
  if (!state.sprite) {
    grid.before(h("p", { class: "empty" }, "No pictures of this layer yet: ", h("a", { href: `/p/${slug}/jobs/` }, "request a render"), "."));
  }
  return true;
}

function spriteReady() {
  if (!state.sprite) return Promise.resolve();
  const image = new Image();
  image.src = state.sprite.sprite_url;
  return image.decode().catch(() => reportError(new Error("The sprite sheet did not load."), "Pictures"));
}

async function start() {
  grid.addEventListener("keydown", onKey);
  grid.addEventListener("mousedown", onMouseDown);
  grid.addEventListener("dblclick", onDoubleClick);
  $("#filter-group").addEventListener("change", applyFilters);
  $("#filter-status").addEventListener("change", applyFilters);
  $("#sprite-kind").addEventListener("change", () => {
    chooseSprite();
    placeThumbnails();
    drawLegend();
  });
  $("#tile-size").addEventListener("change", placeThumbnails);
  $("#assign-form").addEventListener("submit", assignSelection);
  $("#hypothesis-form").addEventListener("submit", proposeHypothesis);
  mountEvidencePicker($("#hypothesis-evidence"), { slug, network, units: () => selection.sorted().map(address) });
  $("#hypothesis-group").addEventListener("change", (event) => {
    for (const field of document.querySelectorAll("#hypothesis-form .new-group")) field.hidden = event.target.value !== "new";
    $("#hypothesis-new-group").required = event.target.value === "new";
  });
  $("#assign-form").addEventListener("focusin", loadGroups);
  $("#hypothesis-form").addEventListener("focusin", loadGroups);
  // Coming back to the tab shows what the team changed meanwhile (the sprite stays cached).
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && page.dataset.ready === "true") reload();
  });
  const loaded = await reload();
  // Filters, picture kind and selection from the URL (and kept in it from now on).
  if (loaded) mountGridState(selection);
  if (loaded) await state.spriteDecoded;
  page.dataset.ready = loaded ? "true" : "failed";
  performance.mark("grid-interactive");
  document.dispatchEvent(new Event("atlas:ready"));
}

start();
