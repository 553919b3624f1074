// The project page: notifications, my review queue, open hypotheses, recent activity and the
// project's circuits (listed, and created here).
import { get, post, projectPaths } from "./api.js";
import { $, attempt, h, when } from "./dom.js";
import { eventItem, fill, hypothesisItem, notificationItem } from "./lists.js";

const page = $("#project-page");
const slug = page.dataset.project;
const paths = projectPaths(slug);

async function markRead(notification) {
  await attempt("Marking read", () => post("notifications/mark-read/", { ids: [notification.id] }));
}

async function showNotifications() {
  const data = await attempt("Loading notifications", () => get("notifications/", { unread: "true", page_size: 50 }));
  if (!data) return;
  const mine = data.results.filter((notification) => notification.project === slug);
  fill($("#notification-list"), mine.map((notification) => notificationItem(notification, markRead)), "Nothing unread.");
  const button = $("#mark-all-read");
  button.hidden = mine.length === 0;
  button.onclick = async () => {
    const done = await attempt("Marking read", () => post("notifications/mark-read/", { ids: mine.map((n) => n.id) }));
    if (done) showNotifications();
  };
}

async function showList(selector, path, query, item, emptyText, context) {
  const data = await attempt(context, () => get(path, query));
  if (data) fill($(selector), data.results.map(item), emptyText);
}

function circuitItem(circuit) {
  return h(
    "li",
    { dataset: { circuit: circuit.id } },
    h("a", { href: `/p/${slug}/circuits/${circuit.id}/` }, circuit.name),
    h("div", { class: "meta" }, `${circuit.network} · ${circuit.node_count} units · ${circuit.edge_count} connections · ${when(circuit.updated_at)}`),
  );
}

async function createCircuit(event) {
  event.preventDefault();
  const body = { name: $("#circuit-name").value, network: $("#circuit-network").value, description: $("#circuit-description").value };
  const circuit = await attempt("Creating the circuit", () => post(`${paths.root}circuits/`, body));
  if (circuit) location.href = `/p/${slug}/circuits/${circuit.id}/`;
}

$("#circuit-create")?.addEventListener("submit", createCircuit);
showNotifications();
showList("#circuit-list", `${paths.root}circuits/`, { page_size: 100 }, circuitItem, "No circuits yet.", "Loading circuits");
showList("#queue-list", paths.reviewQueue, { page_size: 20 }, (h) => hypothesisItem(slug, h), "Nothing waits for your review.", "Loading the review queue");
showList("#open-list", paths.hypotheses, { status: "open", page_size: 20 }, (h) => hypothesisItem(slug, h), "No open hypotheses.", "Loading hypotheses");
showList("#activity-list", paths.events, { page_size: 15 }, eventItem, "No activity yet.", "Loading activity");
