// Looking closely: any picture opens enlarged in a modal dialog with its caption and values
// (kernels with their colour scale). A native <dialog>: focus moves into it, Tab stays inside,
// Esc closes it, and focus returns to the picture that opened it.
import { h } from "./dom.js";

let dialog = null;
let opener = null;

function ensureDialog() {
  if (dialog) return dialog;
  dialog = h(
    "dialog",
    { class: "lightbox", "aria-labelledby": "lightbox-caption" },
    h("div", { class: "lightbox-head" }, h("h2", { id: "lightbox-caption" }), h("button", { type: "button", class: "lightbox-close", "aria-label": "Close" }, "×")),
    h("div", { class: "lightbox-body" }),
  );
  dialog.querySelector(".lightbox-close").addEventListener("click", () => dialog.close());
  // A click on the backdrop (the dialog element itself, outside its content) closes it too.
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => {
    const back = opener;
    opener = null;
    back?.focus();
  });
  document.body.append(dialog);
  return dialog;
}

/** Blue at −max, white at 0, red at +max: the weights' colour map (workers/formats/colours.py). */
export function diverging(value, max) {
  const signed = Math.max(-1, Math.min(1, max ? value / max : 0));
  const red = 1 - Math.abs(Math.min(signed, 0));
  const green = 1 - Math.abs(signed);
  const blue = 1 - Math.max(signed, 0);
  return `rgb(${Math.round(red * 255)}, ${Math.round(green * 255)}, ${Math.round(blue * 255)})`;
}

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** A legend for kernels drawn from −max (blue) through 0 (white) to +max (red). */
export function colourScale(max) {
  const width = 240;
  const steps = 24;
  const cells = Array.from({ length: steps }, (_, at) => {
    const value = -max + ((at + 0.5) * 2 * max) / steps;
    return svg("rect", { x: (at * width) / steps, y: 0, width: width / steps + 0.5, height: 12, fill: diverging(value, max) });
  });
  const label = (x, anchor, text) => svg("text", { x, y: 26, "text-anchor": anchor, class: "scale-label" }, text);
  return h(
    "figure",
    { class: "colour-scale" },
    svg(
      "svg",
      { viewBox: `0 0 ${width} 30`, width, height: 30, role: "img", "aria-label": `Colour scale: blue ${(-max).toPrecision(3)}, white 0, red ${max.toPrecision(3)}` },
      ...cells,
      svg("rect", { x: 0, y: 0, width, height: 12, fill: "none", class: "scale-frame" }),
      label(1, "start", (-max).toPrecision(3)),
      label(width / 2, "middle", "0"),
      label(width - 1, "end", `+${max.toPrecision(3)}`),
    ),
    h("figcaption", {}, "weight: negative blue, zero white, positive red"),
  );
}

/** A table of kernels, one cell per weight in its colour with its value on hover and for
 * screen readers; ``kernels`` is [{unit, norm, kernel: [[w]]}]. */
export function kernelGrid(kernels, max) {
  return h(
    "div",
    { class: "kernel-grid" },
    kernels.map((entry) =>
      h(
        "figure",
        { class: "kernel" },
        h(
          "table",
          { class: "kernel-cells", "aria-label": `kernel from ${entry.unit}` },
          h(
            "tbody",
            {},
            entry.kernel.map((row) =>
              h(
                "tr",
                {},
                row.map((weight) => h("td", { title: weight.toFixed(4), style: { background: diverging(weight, max) } }, h("span", { class: "visually-hidden" }, weight.toFixed(3)))),
              ),
            ),
          ),
        ),
        h("figcaption", {}, entry.unit, h("br"), `norm ${entry.norm.toFixed(3)}`),
      ),
    ),
  );
}

/**
 * Open the dialog.
 * src, alt: the picture; caption: its heading; values: [[name, value]] shown beside it;
 * pixelated: keep square pixels (kernels, small crops); extra: more content (a colour scale,
 * kernels); from: the element focus returns to.
 */
export function openLightbox({ src, alt = "", caption = "", values = [], pixelated = false, extra = null, from = document.activeElement }) {
  const box = ensureDialog();
  opener = from;
  box.querySelector("#lightbox-caption").textContent = caption;
  const format = (value) => (typeof value === "number" && !Number.isInteger(value) ? value.toFixed(3) : String(value));
  box.querySelector(".lightbox-body").replaceChildren(
    src ? h("img", { src, alt, class: pixelated ? "pixelated" : null }) : null,
    values.length ? h("dl", { class: "lightbox-values" }, values.flatMap(([name, value]) => [h("dt", {}, name), h("dd", {}, format(value))])) : null,
    extra,
  );
  if (!box.open) box.showModal();
  box.querySelector(".lightbox-close").focus();
  return box;
}

/**
 * ``image`` wrapped in a button that opens it enlarged; ``describe()`` returns the options of
 * openLightbox (read when opened, so that values loaded later are shown).
 */
export function zoomable(image, describe) {
  const button = h("button", { type: "button", class: "zoom", "aria-label": `Enlarge: ${image.alt}` }, image);
  button.addEventListener("click", () => openLightbox({ src: image.src, alt: image.alt, from: button, ...describe() }));
  return button;
}
