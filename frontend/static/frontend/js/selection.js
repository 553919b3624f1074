// The grid's selection: click, shift-click ranges, ctrl-click toggles and rubber-band drags,
// over the units currently visible (in grid order).

export class Selection {
  constructor(onChange) {
    this.indices = new Set();
    this.anchor = null;
    // Other parts of the page (adding units to a circuit) follow the selection by this event.
    this.onChange = () => {
      onChange();
      document.dispatchEvent(new CustomEvent("atlas:selection", { detail: { indices: this.sorted() } }));
    };
  }

  has(index) {
    return this.indices.has(index);
  }

  get size() {
    return this.indices.size;
  }

  sorted() {
    return [...this.indices].sort((a, b) => a - b);
  }

  only(index) {
    this.indices = new Set([index]);
    this.anchor = index;
    this.onChange();
  }

  toggle(index) {
    if (this.indices.has(index)) this.indices.delete(index);
    else this.indices.add(index);
    this.anchor = index;
    this.onChange();
  }

  /** Select from the anchor to ``index`` along ``order`` (the visible units), keeping ``base``. */
  range(order, index, base = new Set()) {
    const from = order.indexOf(this.anchor ?? index);
    const to = order.indexOf(index);
    const [low, high] = from <= to ? [from, to] : [to, from];
    this.indices = new Set([...base, ...order.slice(Math.max(low, 0), high + 1)]);
    this.onChange();
  }

  set(indices) {
    this.indices = new Set(indices);
    this.onChange();
  }

  clear() {
    this.indices.clear();
    this.anchor = null;
    this.onChange();
  }

  /** Keep only units that are still visible after a filter change. */
  retain(visible) {
    const keep = new Set(visible);
    const before = this.indices.size;
    this.indices = new Set([...this.indices].filter((index) => keep.has(index)));
    if (this.indices.size !== before) this.onChange();
  }
}

/** Rubber-band selection: tiles whose boxes meet the dragged rectangle join ``base``. */
export function dragSelect(grid, selection, start, visibleTiles) {
  const base = start.additive ? new Set(selection.indices) : new Set();
  const boxes = visibleTiles().map((tile) => [Number(tile.dataset.index), tile.getBoundingClientRect()]);
  const band = document.createElement("div");
  band.className = "band";
  document.body.append(band);
  let dragging = false;

  function move(event) {
    const [left, right] = [Math.min(start.x, event.clientX), Math.max(start.x, event.clientX)];
    const [top, bottom] = [Math.min(start.y, event.clientY), Math.max(start.y, event.clientY)];
    if (!dragging && right - left < 5 && bottom - top < 5) return;
    dragging = true;
    Object.assign(band.style, {
      left: `${left + scrollX}px`,
      top: `${top + scrollY}px`,
      width: `${right - left}px`,
      height: `${bottom - top}px`,
      display: "block",
    });
    const hit = boxes
      .filter(([, box]) => box.left < right && box.right > left && box.top < bottom && box.bottom > top)
      .map(([index]) => index);
    selection.set([...base, ...hit]);
  }

  function end() {
    band.remove();
    removeEventListener("mousemove", move);
    removeEventListener("mouseup", end);
  }

  addEventListener("mousemove", move);
  addEventListener("mouseup", end);
}
