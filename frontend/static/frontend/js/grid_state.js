// The grid's view in its URL: the filters, the picture kind and the selection, so that a link
// shows what its sender saw and Back (or coming back from a unit's page) restores them.
//
//   /p/<project>/grid/<network>/<layer>/?group=12&status=labelled&kind=dataset_examples&units=3-7,12
//
// Filters and the picture kind are steps in the history (Back undoes one); the selection
// changes too often for that and replaces the current entry. The controls are driven through
// their own "change" events, so grid.js reacts to a restored value as to a user's choice.

const CONTROLS = [
  ["group", "#filter-group"],
  ["status", "#filter-status"],
  ["kind", "#sprite-kind"],
];

/** "3-7,12" from [3, 4, 5, 6, 7, 12] (sorted). */
export function formatUnits(indices) {
  const runs = [];
  for (const index of indices) {
    const last = runs[runs.length - 1];
    if (last && index === last[1] + 1) last[1] = index;
    else runs.push([index, index]);
  }
  return runs.map(([first, end]) => (first === end ? `${first}` : `${first}-${end}`)).join(",");
}

/** [3, 4, 5, 6, 7, 12] from "3-7,12"; anything unreadable is skipped. */
export function parseUnits(text) {
  const indices = new Set();
  for (const part of (text || "").split(",")) {
    const match = part.trim().match(/^(\d+)(?:-(\d+))?$/);
    if (!match) continue;
    const first = Number(match[1]);
    const end = Math.min(Number(match[2] ?? match[1]), first + 4096);
    for (let index = first; index <= end; index += 1) indices.add(index);
  }
  return [...indices].sort((a, b) => a - b);
}

function control(selector) {
  return document.querySelector(selector);
}

// URLSearchParams would write "3%2C9": the query is written by hand so that it stays readable.
function readable(value) {
  return encodeURIComponent(value).replaceAll("%2C", ",").replaceAll("%3A", ":");
}

function urlWith(changes) {
  const url = new URL(location.href);
  for (const [key, value] of Object.entries(changes)) {
    if (value) url.searchParams.set(key, value);
    else url.searchParams.delete(key);
  }
  const query = [...url.searchParams].map(([key, value]) => `${readable(key)}=${readable(value)}`).join("&");
  return `${url.pathname}${query ? `?${query}` : ""}${url.hash}`;
}

function choose(select, value) {
  const wanted = value || "";
  if (!select || select.value === wanted) return false;
  if (wanted && ![...select.options].some((option) => option.value === wanted)) return false;
  select.value = wanted;
  select.dispatchEvent(new Event("change"));
  return true;
}

/** Restore the view named in the URL and keep the URL following the view. Call once the grid
 * has loaded (its group filter lists the layer's groups). */
export function mountGridState(selection) {
  let restoring = false;

  function restore() {
    restoring = true;
    const params = new URL(location.href).searchParams;
    for (const [key, selector] of CONTROLS) choose(control(selector), params.get(key));
    const visible = new Set([...document.querySelectorAll("#grid .tile:not([hidden])")].map((tile) => Number(tile.dataset.index)));
    selection.set(parseUnits(params.get("units")).filter((index) => visible.has(index)));
    restoring = false;
  }

  for (const [key, selector] of CONTROLS) {
    control(selector)?.addEventListener("change", (event) => {
      if (restoring) return;
      const next = urlWith({ [key]: event.target.value });
      if (next !== `${location.pathname}${location.search}${location.hash}`) history.pushState(null, "", next);
    });
  }
  document.addEventListener("atlas:selection", (event) => {
    if (restoring) return;
    history.replaceState(history.state, "", urlWith({ units: formatUnits(event.detail.indices) }));
  });
  window.addEventListener("popstate", restore);
  restore();
}
