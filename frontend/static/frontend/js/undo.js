// "Undo": your last direct assignment or merge in this project, while it can still be undone
// (nothing changed its units since). Undoing writes new events; the history keeps the change.
import { get, post, projectPaths } from "./api.js";
import { $, announce, attempt, h, reportError } from "./dom.js";

const container = $("#undo-last");
const slug = container?.closest("[data-project]")?.dataset.project;

async function show() {
  const path = `${projectPaths(slug).root}undo/`;
  const data = await attempt("Looking for your last change", () => get(path));
  if (!data) return;
  const change = data.change;
  if (!change) {
    container.replaceChildren(h("p", { class: "meta" }, "Nothing of yours to undo."));
    container.dataset.ready = "true";
    return;
  }
  const button = h("button", { type: "button" }, "Undo");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const result = await post(path, { event: change.event });
      announce(`Undone: ${change.summary} (${result.units_changed} units changed back).`);
      // The feed and counts on the page now show the undo's own events.
      location.reload();
    } catch (error) {
      button.disabled = false;
      reportError(error, "Undo");
    }
  });
  container.replaceChildren(
    h("p", {}, "Your last change: ", h("strong", {}, change.summary), " ", button),
    h("p", { class: "meta" }, change.units.slice(0, 12).join(", ") + (change.units.length > 12 ? ", …" : "")),
  );
  container.dataset.ready = "true";
}

if (container && slug) show();
