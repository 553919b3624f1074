// Every page: focused controls kept clear of the sticky header and message dock, and on
// project pages the unread-notification count in the header.
import { get } from "./api.js";

// Whatever sticks to the top of the window (the header and the dock of alerts below it, or the
// dock alone on a narrow screen) gets its height as the page's scroll padding, so that moving
// the focus or following a link never leaves a control underneath it.
function keepFocusClearOfTheTop() {
  const top = document.getElementById("top");
  const alerts = document.getElementById("alerts");
  const measure = () => {
    const sticky = getComputedStyle(top).display === "contents" ? alerts : top;
    document.documentElement.style.setProperty("--top-height", `${sticky.offsetHeight}px`);
  };
  const observer = new ResizeObserver(measure);
  observer.observe(top.querySelector("header"));
  observer.observe(alerts);
  addEventListener("resize", measure);
}

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

keepFocusClearOfTheTop();
// A page that measures its own first paint (the grid) says when it is ready; the badge
// waits for it so that it never competes with the grid's two requests.
if (document.querySelector("[data-measured]")) {
  document.addEventListener("atlas:ready", showUnread, { once: true });
} else {
  showUnread();
}
