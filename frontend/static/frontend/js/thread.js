// A comment thread on a unit, group or hypothesis: read, start a thread, reply, resolve.
import { get, post, projectPaths } from "./api.js";
import { attempt, h, when } from "./dom.js";

function commentView(comment, reply) {
  const body = h("div", { class: "body" });
  body.innerHTML = comment.deleted_at ? "<p><em>deleted</em></p>" : comment.body_html;  // sanitized by the server
  return h(
    "div",
    { class: reply ? "comment reply" : "comment", id: `comment-${comment.id}` },
    h("span", { class: "who" }, comment.author ?? "someone"),
    h("span", { class: "when" }, when(comment.created_at), comment.edited_at ? " · edited" : ""),
    body,
  );
}

function commentForm({ label, submitText, onSubmit }) {
  const id = `comment-input-${Math.random().toString(36).slice(2, 8)}`;
  const textarea = h("textarea", { id, rows: 2, required: true, placeholder: "Markdown; @username mentions a member" });
  const form = h(
    "form",
    { class: "stack comment-form" },
    h("label", { for: id }, label),
    textarea,
    h("button", { type: "submit" }, submitText),
  );
  textarea.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) form.requestSubmit();
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const ok = await onSubmit(textarea.value);
    if (ok) textarea.value = "";
  });
  return form;
}

/** Mount the thread of ``targetType``/``targetId`` into ``container``. */
export function mountThread(container, { slug, targetType, targetId, canPost }) {
  const paths = projectPaths(slug);

  async function send(body, parent) {
    const created = await attempt("Posting the comment", () =>
      post(paths.comments, { target_type: targetType, target_id: String(targetId), body, parent }),
    );
    if (created) await load();
    return Boolean(created);
  }

  async function toggleResolved(thread) {
    const verb = thread.resolved_at ? "reopen" : "resolve";
    const done = await attempt(`Marking the thread ${verb}d`, () => post(`${paths.comment(thread.id)}${verb}/`, {}));
    if (done) await load();
  }

  function threadView(thread) {
    const actions = h("div", { class: "row" });
    const view = h(
      "div",
      { class: thread.resolved_at ? "thread resolved" : "thread" },
      commentView(thread, false),
      thread.replies.map((reply) => commentView(reply, true)),
      actions,
    );
    if (canPost) {
      actions.append(
        h("button", {
          type: "button",
          class: "link",
          onclick: () => {
            const form = commentForm({ label: "Reply", submitText: "Reply", onSubmit: (body) => send(body, thread.id) });
            actions.replaceWith(form);
            form.querySelector("textarea").focus();
          },
        }, "Reply"),
        h("button", { type: "button", class: "link", onclick: () => toggleResolved(thread) }, thread.resolved_at ? "Reopen" : "Resolve"),
      );
    }
    return view;
  }

  async function load() {
    const data = await attempt("Loading comments", () =>
      get(paths.comments, { target_type: targetType, target_id: String(targetId), page_size: 100 }),
    );
    if (!data) return;
    const threads = data.results.length ? data.results.map(threadView) : [h("p", { class: "empty" }, "No comments yet.")];
    const form = canPost && commentForm({ label: "New comment", submitText: "Post comment", onSubmit: (body) => send(body, null) });
    container.replaceChildren(...threads, ...(form ? [form] : []));
    if (location.hash.startsWith("#comment-")) document.querySelector(location.hash)?.scrollIntoView();
  }

  return load();
}
