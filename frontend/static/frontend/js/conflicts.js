// Conditional writes: send If-Match; on 412 re-read, show what changed, offer a retry.
import { reportError, showConflict } from "./dom.js";

/**
 * ``read`` resolves to {data, etag}; ``write(etag)`` to the saved {data, etag}. ``seen`` is the
 * {data, etag} the user's change was made against. ``fields`` are compared for the user.
 */
export async function saveConditionally({ context, title, fields, seen, read, write, onSaved, onReread }) {
  try {
    const saved = await write(seen.etag);
    onSaved(saved);
    return saved;
  } catch (error) {
    if (error.status !== 412) {
      reportError(error, context);
      return undefined;
    }
    let fresh;
    try {
      fresh = await read();
    } catch (readError) {
      reportError(readError, context);
      return undefined;
    }
    onReread?.(fresh);
    showConflict({
      title,
      mine: seen.data,
      theirs: fresh.data,
      fields,
      onRetry: () => saveConditionally({ context, title, fields, seen: fresh, read, write, onSaved, onReread }),
    });
    return undefined;
  }
}
