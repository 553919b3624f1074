// Events out of the app, on the settings page: the user's own e-mail choice, and (owners) the
// project's webhooks with their delivery log and a redeliver button.
import { get, post, request } from "./api.js";
import { $, announce, attempt, h, when } from "./dom.js";

const EMAIL_PATH = "auth/me/notifications/";

// --- e-mail -------------------------------------------------------------------------------

async function loadEmail() {
  const choice = await attempt("Loading your e-mail choice", () => get(EMAIL_PATH));
  if (!choice) return false;
  showEmail(choice);
  return true;
}

function showEmail(choice) {
  $("#email-mode").value = choice.mode;
  $("#email-address").textContent = choice.address
    ? `Sent to ${choice.address}. This choice is yours alone and holds in every project.`
    : "Your account has no e-mail address, so no e-mail can be sent.";
}

async function onEmail(event) {
  event.preventDefault();
  const saved = await attempt("Saving your e-mail choice", () =>
    request(EMAIL_PATH, { method: "PUT", body: { mode: $("#email-mode").value } }),
  );
  if (saved) {
    showEmail(saved.data);
    announce(`E-mail notifications: ${saved.data.mode}.`);
  }
}

// --- webhooks -----------------------------------------------------------------------------

function webhookRow(paths, webhook) {
  const toggle = h("input", { type: "checkbox", checked: webhook.active, "aria-label": `Active: ${webhook.url}` });
  toggle.addEventListener("change", async () => {
    const changed = await attempt("Changing the webhook", () =>
      request(paths.webhook(webhook.id), { method: "PATCH", body: { active: toggle.checked } }),
    );
    if (changed) announce(`Webhook ${changed.data.active ? "active" : "paused"}.`);
    await loadWebhooks(paths);
  });
  return h(
    "tr",
    { dataset: { webhook: webhook.id } },
    h("td", {}, h("code", {}, webhook.url)),
    h("td", {}, webhook.event_types.join(", ")),
    h("td", {}, toggle),
    h(
      "td",
      {},
      h("button", { type: "button", onclick: () => loadDeliveries(paths, webhook) }, "Deliveries", h("span", { class: "visually-hidden" }, ` of ${webhook.url}`)),
      " ",
      h("button", { type: "button", class: "danger", onclick: () => removeWebhook(paths, webhook) }, "Remove", h("span", { class: "visually-hidden" }, ` ${webhook.url}`)),
    ),
  );
}

async function loadWebhooks(paths) {
  const hooks = await attempt("Loading the webhooks", () => get(paths.webhooks, { page_size: 100 }));
  if (!hooks) return false;
  $("#webhook-rows").replaceChildren(
    ...(hooks.results.length
      ? hooks.results.map((webhook) => webhookRow(paths, webhook))
      : [h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No webhook yet."))]),
  );
  return true;
}

async function removeWebhook(paths, webhook) {
  if (!confirm(`Remove the webhook to ${webhook.url} and its delivery log?`)) return;
  const removed = await attempt("Removing the webhook", () => request(paths.webhook(webhook.id), { method: "DELETE" }));
  if (removed) announce("Webhook removed.");
  $("#deliveries").hidden = true;
  await loadWebhooks(paths);
}

function deliveryRow(paths, webhook, delivery) {
  const answer = delivery.last_error || (delivery.response_status ? `HTTP ${delivery.response_status}` : "");
  return h(
    "tr",
    { dataset: { delivery: delivery.id, status: delivery.status } },
    h("td", {}, h("code", {}, delivery.event_type)),
    h("td", {}, delivery.status),
    h("td", { class: "num" }, delivery.attempts),
    h("td", {}, answer),
    h("td", { class: "meta" }, when(delivery.created_at)),
    h(
      "td",
      {},
      h("button", { type: "button", onclick: () => redeliver(paths, webhook, delivery) }, "Redeliver", h("span", { class: "visually-hidden" }, ` delivery ${delivery.id}`)),
    ),
  );
}

async function loadDeliveries(paths, webhook) {
  const deliveries = await attempt("Loading the deliveries", () => get(paths.deliveries(webhook.id), { page_size: 50 }));
  if (!deliveries) return;
  $("#deliveries-title").textContent = `Deliveries to ${webhook.url}`;
  $("#delivery-rows").replaceChildren(
    ...(deliveries.results.length
      ? deliveries.results.map((delivery) => deliveryRow(paths, webhook, delivery))
      : [h("tr", {}, h("td", { colspan: 6, class: "empty" }, "Nothing sent yet."))]),
  );
  $("#deliveries").hidden = false;
}

async function redeliver(paths, webhook, delivery) {
  const again = await attempt("Redelivering", () => post(`${paths.deliveries(webhook.id)}${delivery.id}/redeliver/`));
  if (again) announce(`Delivery ${delivery.id} queued again as delivery ${again.id}.`);
  await loadDeliveries(paths, webhook);
}

async function onAddWebhook(paths, event) {
  event.preventDefault();
  const form = event.target;
  const body = {
    url: $("#webhook-url").value.trim(),
    event_types: [...form.querySelectorAll("input[name=event_types]:checked")].map((box) => box.value),
  };
  const added = await attempt("Adding the webhook", () => post(paths.webhooks, body));
  if (!added) return;
  form.reset();
  const secret = $("#webhook-secret");
  secret.replaceChildren("Signing secret of the new webhook (shown this once): ", h("code", {}, added.secret));
  secret.hidden = false;
  announce("Webhook added.");
  await loadWebhooks(paths);
}

/** Wire the e-mail form, and the webhooks when the user manages them; resolves to whether
 * everything loaded. */
export async function startEvents({ slug, webhooks }) {
  $("#email-form").addEventListener("submit", onEmail);
  if (!webhooks) return loadEmail();
  const root = `projects/${slug}/webhooks/`;
  const paths = {
    webhooks: root,
    webhook: (id) => `${root}${id}/`,
    deliveries: (id) => `${root}${id}/deliveries/`,
  };
  $("#webhook-form").addEventListener("submit", (event) => onAddWebhook(paths, event));
  const loaded = await Promise.all([loadEmail(), loadWebhooks(paths)]);
  return loaded.every(Boolean);
}
