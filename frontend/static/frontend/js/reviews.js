// The review queue and the project's hypotheses by status, each with its evidence at a glance.
import { get, projectPaths } from "./api.js";
import { $, attempt, h, pageLinks } from "./dom.js";
import { evidenceFigure } from "./evidence.js";
import { fill, hypothesisItem } from "./lists.js";

const slug = $("#reviews-page").dataset.project;
const paths = projectPaths(slug);
const links = pageLinks(slug);
// Evidence shown per listed hypothesis; the hypothesis page shows it all.
const EVIDENCE_SHOWN = 4;

function itemWithEvidence(hypothesis) {
  const item = hypothesisItem(slug, hypothesis);
  const evidence = hypothesis.evidence_items;
  if (evidence.length) {
    const more = evidence.length - EVIDENCE_SHOWN;
    item.append(
      h(
        "div",
        { class: "figures evidence evidence-strip" },
        ...evidence.slice(0, EVIDENCE_SHOWN).map((entry) => evidenceFigure(entry, links)),
        more > 0 ? h("a", { href: links.hypothesis(hypothesis.id) }, `and ${more} more`) : null,
      ),
    );
  }
  return item;
}

async function showQueue() {
  const data = await attempt("Loading the review queue", () => get(paths.reviewQueue, { page_size: 100 }));
  if (data) fill($("#queue-list"), data.results.map(itemWithEvidence), "Nothing waits for your review.");
}

async function showHypotheses() {
  const status = $("#status-filter").value;
  const data = await attempt("Loading hypotheses", () => get(paths.hypotheses, { status, page_size: 100 }));
  if (data) fill($("#hypothesis-list"), data.results.map(itemWithEvidence), "None.");
}

$("#status-filter").addEventListener("change", showHypotheses);
showQueue();
showHypotheses();
