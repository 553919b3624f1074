// Rows shared by several pages: a hypothesis, a notification, an event.
import { h, pageLinks, when } from "./dom.js";

export function hypothesisItem(slug, hypothesis) {
  const links = pageLinks(slug);
  return h(
    "li",
    { dataset: { hypothesis: hypothesis.id } },
    h("a", { href: links.hypothesis(hypothesis.id) }, hypothesis.title),
    " ",
    h("span", { class: `pill ${hypothesis.status}` }, hypothesis.status),
    h(
      "div",
      { class: "meta" },
      `#${hypothesis.id} · ${hypothesis.author ?? "someone"} · ${hypothesis.units.length} unit(s) of ${hypothesis.network}`,
      hypothesis.proposed_group ? ` → ${hypothesis.proposed_group.name}` : "",
      hypothesis.new_group ? ` → new group ${hypothesis.new_group.name}` : "",
      ` · ${hypothesis.approvals}/${hypothesis.required_approvals} approvals · ${when(hypothesis.updated_at)}`,
    ),
  );
}

const TARGET_PAGES = {
  hypothesis: (links, id) => links.hypothesis(id),
  comment: (links, id) => `${links.project}comments/${id}/`,
};

export function notificationItem(notification, onRead) {
  const links = pageLinks(notification.project);
  const target = TARGET_PAGES[notification.target_type]?.(links, notification.target_id);
  return h(
    "li",
    { class: `notification ${notification.kind}`, dataset: { notification: notification.id } },
    h("span", { class: "pill" }, notification.kind.replaceAll("_", " ")),
    " ",
    target
      ? h("a", {
          href: target,
          onclick: async (event) => {
            // Marked read before leaving, so the request is not cut off by the navigation.
            event.preventDefault();
            await onRead(notification);
            location.href = target;
          },
        }, notification.text)
      : notification.text,
    h("div", { class: "meta" }, `${notification.project} · ${when(notification.created_at)}`),
  );
}

const PHRASES = {
  "hypothesis.created": "proposed",
  "hypothesis.revised": "revised",
  "hypothesis.reviewed": "reviewed",
  "hypothesis.accepted": "accepted",
  "hypothesis.rejected": "rejected",
  "hypothesis.withdrawn": "withdrew",
  "comment.posted": "commented",
  "comment.edited": "edited a comment",
  "unit.assigned": "assigned",
  "group.created": "created group",
  "group.renamed": "renamed group",
  "group.moved": "moved group",
  "group.merged": "merged group",
  "round.opened": "opened labelling round",
  "round.submitted": "submitted labels in round",
  "round.closed": "closed labelling round",
  "round.unit_decided": "decided a unit of round",
  "round.agreed_applied": "applied the agreed labels of round",
};

/** An accepted hypothesis is one feed entry crediting its author, with its approvers. */
function acceptedItem(event) {
  const after = event.after || {};
  const approvers = after.approvers?.length ? ` · approved by ${after.approvers.join(", ")}` : "";
  const group = after.group_name ? ` → ${after.group_name}, ${after.units_changed} unit(s)` : "";
  return h(
    "li",
    { dataset: { verb: event.verb } },
    h("strong", {}, event.actor ?? "someone"),
    "’s hypothesis accepted: ",
    h("a", { href: `${location.pathname.match(/^\/p\/[^/]+\//)?.[0] ?? "/"}hypotheses/${event.target_id}/` }, event.target_label),
    group,
    h("div", { class: "meta" }, `${when(event.created_at)}${approvers}`),
  );
}

export function eventItem(event) {
  if (event.verb === "hypothesis.accepted") return acceptedItem(event);
  const label = event.target_label || `${event.target_type} ${event.target_id}`;
  const phrase = PHRASES[event.verb] ?? event.verb.replace(".", " ");
  return h(
    "li",
    { dataset: { verb: event.verb } },
    h("strong", {}, event.actor ?? "system"),
    ` ${phrase} `,
    h("span", {}, label.replace(/^comment on /, "on ")),
    // A unit assigned by a labelling round's decision is credited to the round.
    event.after?.round ? ` (labelling round #${event.after.round})` : "",
    h("div", { class: "meta" }, when(event.created_at)),
  );
}

export function fill(list, items, emptyText) {
  list.replaceChildren(...(items.length ? items : [h("li", { class: "empty" }, emptyText)]));
}
