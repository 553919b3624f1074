// Every project page: the unread-notification count in the header.
import { get } from "./api.js";

async function showUnread() {
  const badge = document.getElementById("unread");
  if (!badge) return;
  try {
    const { count } = await get("notifications/unread-count/");
    badge.textContent = `${count} unread`;
    badge.hidden = count === 0;
  } catch (error) {
    badge.textContent = "notifications unavailable";
    badge.title = error.message;
    badge.hidden = false;
  }
}

// A page that measures its own first paint (the grid) says when it is ready; the badge
// waits for it so that it never competes with the grid's two requests.
if (document.querySelector("[data-measured]")) {
  document.addEventListener("atlas:ready", showUnread, { once: true });
} else {
  showUnread();
}
