// The review queue and the project's hypotheses by status.
import { get, projectPaths } from "./api.js";
import { $, attempt } from "./dom.js";
import { fill, hypothesisItem } from "./lists.js";

const slug = $("#reviews-page").dataset.project;
const paths = projectPaths(slug);

async function showQueue() {
  const data = await attempt("Loading the review queue", () => get(paths.reviewQueue, { page_size: 100 }));
  if (data) fill($("#queue-list"), data.results.map((hypothesis) => hypothesisItem(slug, hypothesis)), "Nothing waits for your review.");
}

async function showHypotheses() {
  const status = $("#status-filter").value;
  const data = await attempt("Loading hypotheses", () => get(paths.hypotheses, { status, page_size: 100 }));
  if (data) fill($("#hypothesis-list"), data.results.map((hypothesis) => hypothesisItem(slug, hypothesis)), "None.");
}

$("#status-filter").addEventListener("change", showHypotheses);
showQueue();
showHypotheses();
