// "Add to circuit": the grid's selection or a unit card's unit joins one of the project's
// circuits of that network, one node per unit, each add sent with the circuit's latest ETag.
import { get, projectPaths, request } from "./api.js";
import { announce, h, reportError } from "./dom.js";

/**
 * Build the control into ``form`` (an empty <form>): a circuit of ``network`` to choose, a role,
 * a button. ``units()`` gives the unit addresses to add when the button is pressed. The
 * circuits are read when the form is first used, or when the returned ``load`` is called.
 */
export function mountCircuitPicker(form, { slug, network, units }) {
  const root = projectPaths(slug).root;
  const select = h("select", { id: "circuit-choice", name: "circuit", required: true }, h("option", { value: "" }, "loading…"));
  const role = h("input", { id: "circuit-role", name: "role", autocomplete: "off", maxlength: 2000 });
  const result = h("p", { class: "meta", id: "circuit-added", "aria-live": "polite" });
  form.classList.add("stack");
  form.append(
    h("div", { class: "field" }, h("label", { for: "circuit-choice" }, "Circuit"), select),
    h("div", { class: "field" }, h("label", { for: "circuit-role" }, "Role in the circuit (optional)"), role),
    h("button", { type: "submit" }, "Add to circuit"),
    result,
  );

  let loading = null;
  function load() {
    loading ??= loadCircuits();
    return loading;
  }

  async function loadCircuits() {
    try {
      const page = await get(`${root}circuits/`, { page_size: 200 });
      const mine = page.results.filter((circuit) => circuit.network === network);
      select.replaceChildren(
        h("option", { value: "" }, mine.length ? "choose…" : "no circuit of this network yet"),
        ...mine.map((circuit) => h("option", { value: circuit.id }, circuit.name)),
      );
      form.dataset.ready = "true";
    } catch (error) {
      loading = null;
      reportError(error, "Loading the circuits");
    }
  }

  async function addNode(path, unit, etag) {
    try {
      return await request(path, { method: "POST", body: { unit, role: role.value }, etag });
    } catch (error) {
      if (error.status === 409 && error.code === "node_exists") return null;
      if (error.status !== 412) throw error;
      // Someone changed the circuit meanwhile: adding a node does not depend on the rest of it.
      const fresh = await request(path.replace(/nodes\/$/, ""));
      return addNode(path, unit, fresh.etag);
    }
  }

  async function add(event) {
    event.preventDefault();
    const chosen = units();
    if (!chosen.length) return reportError(new Error("Select units first."), "Add to circuit");
    const id = select.value;
    const detail = `${root}circuits/${id}/`;
    const name = select.selectedOptions[0].textContent;
    form.setAttribute("aria-busy", "true");
    let added = 0;
    try {
      let { etag } = await request(detail);
      for (const unit of chosen) {
        const saved = await addNode(`${detail}nodes/`, unit, etag);
        if (saved) {
          etag = saved.etag;
          added += 1;
        }
      }
    } catch (error) {
      reportError(error, "Add to circuit");
    } finally {
      form.removeAttribute("aria-busy");
    }
    const already = added < chosen.length ? ` (${chosen.length - added} already in it or not added)` : "";
    result.replaceChildren(
      `Added ${added} unit${added === 1 ? "" : "s"} to `,
      h("a", { href: `/p/${slug}/circuits/${id}/` }, name),
      `${already}.`,
    );
    announce(`Added ${added} unit${added === 1 ? "" : "s"} to ${name}.`);
  }

  form.addEventListener("submit", add);
  form.addEventListener("focusin", load);
  return { load };
}

/** A card holding the picker, for a page without a place of its own for it (the unit card). */
export function circuitCard(options) {
  const form = h("form", { id: "circuit-form", "aria-labelledby": "circuit-card-heading" });
  mountCircuitPicker(form, options).load();
  return h("section", { class: "card", id: "circuit-card" }, h("h2", { id: "circuit-card-heading" }, "Circuits"), form);
}
