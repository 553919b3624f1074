// A hypothesis: its claim, units, reviews and thread; review it, or revise or withdraw it.
import { get, projectPaths, request } from "./api.js";
import { saveConditionally } from "./conflicts.js";
import { $, announce, attempt, h, pageLinks, when } from "./dom.js";
import { evidenceChosen, evidenceFigure, mountEvidencePicker, unitFigures } from "./evidence.js";
import { groupOptions, groupsFlat } from "./group_tree.js";
import { mountThread } from "./thread.js";

const page = $("#hypothesis-page");
const { project: slug, user, role } = page.dataset;
const id = Number(page.dataset.hypothesis);
const paths = projectPaths(slug);
const links = pageLinks(slug);
const detail = paths.hypothesis(id);
const COMPARED = ["status", "title", "text", "units", "proposed_group", "new_group", "evidence", "evidence_circuits", "approvals"];
// How many units show their own pictures beside the evidence (one request each).
const PICTURED_UNITS = 8;
let current = null; // {data, etag} as last read
let groups = []; // the project's groups, parents first (group_tree.js)

const read = () => request(detail);

function groupName(group) {
  return group ? group.name : "—";
}

function parentPhrase(parent) {
  if (parent === null) return "";
  const group = groups.find((candidate) => candidate.id === parent);
  return group ? ` inside ${group.name}` : ` inside group #${parent}`;
}

function showNewGroupFields() {
  const isNew = $("#revise-group").value === "new";
  for (const field of document.querySelectorAll("#revise-form .new-group")) field.hidden = !isNew;
  $("#revise-new-group").required = isNew;
}

/** The revise form's group choice, as the API takes it. */
function proposalChosen(seen) {
  const choice = $("#revise-group").value;
  if (choice !== "new") return { proposed_group: choice ? Number(choice) : null, new_group: null };
  const parent = $("#revise-new-group-parent").value;
  // Keys in the API's order, so an unchanged proposal compares equal.
  const newGroup = {
    name: $("#revise-new-group").value,
    parent: parent ? Number(parent) : null,
    description: seen.new_group?.description ?? "",
    color: seen.new_group?.color ?? null,
  };
  return { proposed_group: null, new_group: newGroup };
}

function fillProposal(hypothesis) {
  const select = $("#revise-group");
  // A proposed group missing from the list (deleted since) still shows as chosen.
  const listed = new Set(groups.map((group) => group.id));
  const missing = hypothesis.proposed_group && !listed.has(hypothesis.proposed_group.id) ? [hypothesis.proposed_group] : [];
  select.replaceChildren(
    h("option", { value: "" }, "none"),
    h("option", { value: "new" }, "a new group…"),
    ...groupOptions(groups, null),
    ...missing.map((group) => h("option", { value: group.id }, group.name)),
  );
  select.value = hypothesis.proposed_group ? String(hypothesis.proposed_group.id) : hypothesis.new_group ? "new" : "";
  $("#revise-new-group").value = hypothesis.new_group?.name ?? "";
  const parentSelect = $("#revise-new-group-parent");
  parentSelect.replaceChildren(...groupOptions(groups));
  const parent = hypothesis.new_group?.parent ?? null;
  if (parent !== null && !groups.some((group) => group.id === parent)) {
    parentSelect.append(h("option", { value: parent }, `group #${parent}`));
  }
  parentSelect.value = parent === null ? "" : String(parent);
  showNewGroupFields();
}

function render({ data: hypothesis }) {
  // A unit whose group changed under an open hypothesis blocks its acceptance; once accepted,
  // the change is the hypothesis' own doing.
  const warn = (row) => row.moved && hypothesis.status === "open";
  document.title = `${hypothesis.title} · hypothesis #${hypothesis.id}`;
  $("#hypothesis-title").textContent = hypothesis.title;
  const status = $("#hypothesis-status");
  status.textContent = hypothesis.status;
  status.className = `pill ${hypothesis.status}`;
  $("#hypothesis-meta").textContent =
    `#${hypothesis.id} by ${hypothesis.author ?? "someone"} · ${hypothesis.network} · version ${hypothesis.version} · updated ${when(hypothesis.updated_at)}`;
  $("#hypothesis-text").innerHTML = hypothesis.text_html || "<p class='empty'>No text.</p>"; // sanitized by the server
  const proposal = hypothesis.proposed_group
    ? `Proposes group ${hypothesis.proposed_group.name} for these units.`
    : hypothesis.new_group
      ? `Proposes a new group “${hypothesis.new_group.name}”${parentPhrase(hypothesis.new_group.parent)} for these units.`
      : "Proposes no group change.";
  $("#hypothesis-proposal").textContent = proposal;
  $("#unit-count").textContent = hypothesis.unit_groups.length;
  $("#unit-rows").replaceChildren(
    ...hypothesis.unit_groups.map((row) =>
      h(
        "tr",
        { dataset: { unit: row.unit } },
        h("td", { class: "thumb-cell" }, h("span", { class: "mini-thumb", "aria-hidden": "true" })),
        h("td", {}, h("a", { href: links.unit(hypothesis.network, row.unit) }, h("code", {}, row.unit))),
        h("td", {}, groupName(row.expected_group)),
        h("td", { class: warn(row) ? "error" : "" }, groupName(row.current_group), warn(row) ? " (changed since written)" : ""),
      ),
    ),
  );
  $("#evidence-count").textContent = hypothesis.evidence_items.length;
  $("#evidence").replaceChildren(
    ...(hypothesis.evidence_items.length
      ? hypothesis.evidence_items.map((item) => evidenceFigure(item, links))
      : [h("p", { class: "empty" }, "No evidence attached.")]),
  );
  $("#approvals").textContent = `${hypothesis.approvals}/${hypothesis.required_approvals}`;
  $("#review-list").replaceChildren(
    ...(hypothesis.reviews.length
      ? hypothesis.reviews.map((review) =>
          h(
            "li",
            { class: "review", dataset: { verdict: review.verdict } },
            h("strong", {}, review.reviewer),
            " ",
            h("span", { class: `pill ${review.verdict}` }, review.verdict.replace("_", " ")),
            h("span", { class: "meta" }, ` on version ${review.version} · ${when(review.created_at)}`),
            review.comment ? h("div", {}, review.comment) : null,
          ),
        )
      : [h("li", { class: "empty" }, "No reviews yet.")]),
  );
  const open = hypothesis.status === "open";
  const isAuthor = hypothesis.author === user;
  $("#review-form").hidden = !(open && !isAuthor && ["owner", "reviewer"].includes(role));
  $("#revise-card").hidden = !(open && isAuthor);
  if (open && isAuthor && !$("#revise-form").contains(document.activeElement)) {
    $("#revise-title").value = hypothesis.title;
    $("#revise-text").value = hypothesis.text;
    $("#revise-units").value = hypothesis.units.join(", ");
    fillProposal(hypothesis);
    // Mounted once per version, so a re-read does not drop what is being chosen.
    if ($("#revise-evidence").dataset.version !== String(hypothesis.version)) {
      mountEvidencePicker($("#revise-evidence"), {
        slug,
        network: hypothesis.network,
        units: () => $("#revise-units").value.split(/[\s,]+/).filter(Boolean),
        chosen: hypothesis,
      });
      $("#revise-evidence").dataset.version = hypothesis.version;
    }
  }
}

/** Each unit's own visualization and top examples, beside the evidence attached. */
async function showUnitPictures(hypothesis) {
  const units = hypothesis.units.slice(0, PICTURED_UNITS);
  const figures = await attempt("Loading the units' pictures", () =>
    Promise.all(units.map((address) => unitFigures(hypothesis.network, address))),
  );
  if (!figures) return;
  const shown = figures.flat();
  $("#unit-pictures").replaceChildren(
    ...(shown.length ? shown : [h("p", { class: "empty" }, "No renders of these units yet.")]),
  );
  $("#unit-pictures").dataset.ready = "true";
}

/** Each unit's picture, cut from its layer's sprite sheet: one grid request per layer. */
async function showThumbnails(hypothesis) {
  const layers = [...new Set(hypothesis.units.map((unit) => unit.slice(0, unit.lastIndexOf(":"))))];
  for (const layer of layers) {
    const grid = await attempt(`Pictures of ${layer}`, () => get(paths.grid(hypothesis.network, layer), { page_size: 2048 }));
    if (!grid) continue;
    const sprite = grid.sprites.find((candidate) => candidate.layout);
    const groups = new Map(grid.results.map((row) => [row.address, row.group]));
    const positions = new Map((sprite?.layout.units || []).map((unit) => [`${layer}:${unit.index}`, unit]));
    for (const row of document.querySelectorAll("#unit-rows tr")) {
      const thumb = row.querySelector(".mini-thumb");
      const position = positions.get(row.dataset.unit);
      thumb.style.setProperty("--group", groups.get(row.dataset.unit)?.color || "transparent");
      if (!position) continue;
      const scale = 48 / sprite.layout.tile_width;
      Object.assign(thumb.style, {
        backgroundImage: `url("${sprite.sprite_url}")`,
        backgroundSize: `${sprite.layout.width * scale}px ${sprite.layout.height * scale}px`,
        backgroundPosition: `${-position.x * scale}px ${-position.y * scale}px`,
      });
    }
  }
  $("#unit-rows").dataset.pictures = "true";
}

function accept(saved) {
  current = saved;
  render(saved);
  showThumbnails(saved.data);
  showUnitPictures(saved.data);
}

async function submitReview(event) {
  event.preventDefault();
  const form = event.target;
  const body = { verdict: form.verdict.value, comment: $("#review-comment").value };
  const saved = await saveConditionally({
    context: "Submitting the review",
    title: "The hypothesis",
    fields: COMPARED,
    seen: current,
    read,
    write: (etag) => request(`${detail}reviews/`, { method: "POST", body, etag }),
    onSaved: accept,
    onReread: accept,
  });
  if (saved) {
    form.reset();
    announce(`Review recorded; the hypothesis is ${saved.data.status}.`);
  }
}

async function revise(event) {
  event.preventDefault();
  const units = $("#revise-units").value.split(/[\s,]+/).filter(Boolean);
  const edited = { title: $("#revise-title").value, text: $("#revise-text").value, units, ...evidenceChosen($("#revise-evidence")) };
  // Only what this user changed, so a retry after a conflict keeps the other edits.
  const seen = current.data;
  const body = Object.fromEntries(
    Object.entries(edited).filter(([field, value]) => JSON.stringify(value) !== JSON.stringify(seen[field])),
  );
  const proposal = proposalChosen(seen);
  const seenProposal = { proposed_group: seen.proposed_group?.id ?? null, new_group: seen.new_group };
  // Both fields together: the API refuses an existing and a new group at once.
  if (JSON.stringify(proposal) !== JSON.stringify(seenProposal)) Object.assign(body, proposal);
  if (!Object.keys(body).length) return announce("Nothing to save.");
  const saved = await saveConditionally({
    context: "Saving the revision",
    title: "The hypothesis",
    fields: COMPARED,
    seen: current,
    read,
    write: (etag) => request(detail, { method: "PATCH", body, etag }),
    onSaved: accept,
  });
  if (saved) announce(`Revised: version ${saved.data.version}.`);
}

async function withdraw() {
  if (!confirm("Withdraw this hypothesis?")) return;
  await saveConditionally({
    context: "Withdrawing",
    title: "The hypothesis",
    fields: COMPARED,
    seen: current,
    read,
    write: (etag) => request(`${detail}withdraw/`, { method: "POST", etag }),
    onSaved: accept,
  });
}

async function start() {
  $("#review-form").addEventListener("submit", submitReview);
  $("#revise-form").addEventListener("submit", revise);
  $("#revise-group").addEventListener("change", showNewGroupFields);
  $("#withdraw").addEventListener("click", withdraw);
  const [loaded, flat] = await Promise.all([
    attempt("Loading the hypothesis", read),
    attempt("Loading the groups", () => groupsFlat(slug)),
  ]);
  current = loaded;
  groups = flat ?? [];
  if (!current) return;
  render(current);
  showThumbnails(current.data);
  showUnitPictures(current.data);
  await mountThread($("#thread"), { slug, targetType: "hypothesis", targetId: id, canPost: role && role !== "viewer" });
  page.dataset.ready = "true";
}

start();
