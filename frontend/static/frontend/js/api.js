// The REST API as the pages use it: session cookie, CSRF header, ETags, one error shape.

const API_ROOT = "/api/v1/";

export class ApiError extends Error {
  constructor(status, body) {
    super(body.detail || `Request failed (${status})`);
    this.status = status;
    this.code = body.code || "error";
    this.fields = body.fields || {};
  }
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

function urlOf(path, query) {
  const url = new URL(path.startsWith("/") ? path : API_ROOT + path, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url;
}

/** One request; resolves to {data, etag}, rejects with ApiError (network failures included). */
export async function request(path, { method = "GET", body, etag, query } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (etag) headers["If-Match"] = etag;
  let response;
  try {
    response = await fetch(urlOf(path, query), {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (failure) {
    throw new ApiError(0, { detail: `The server could not be reached (${failure.message}).`, code: "network" });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text.slice(0, 200) || response.statusText };
  }
  if (!response.ok) throw new ApiError(response.status, data || { detail: response.statusText });
  return { data, etag: response.headers.get("ETag") };
}

/** The raw bytes of a download, with the same error handling as ``request``. */
export async function getBytes(path) {
  let response;
  try {
    response = await fetch(urlOf(path), { credentials: "same-origin" });
  } catch (failure) {
    throw new ApiError(0, { detail: `The server could not be reached (${failure.message}).`, code: "network" });
  }
  if (!response.ok) throw new ApiError(response.status, { detail: response.statusText });
  return response.arrayBuffer();
}

export const get = async (path, query) => (await request(path, { query })).data;
export const post = async (path, body, etag) => (await request(path, { method: "POST", body, etag })).data;

/** Paths of one project's endpoints. */
export function projectPaths(slug) {
  const root = `projects/${slug}/`;
  return {
    root,
    grid: (network, layer) => `${root}grid/${network}/${encodeURIComponent(layer)}/`,
    groups: `${root}groups/`,
    tree: `${root}groups/tree/`,
    group: (id) => `${root}groups/${id}/`,
    assignments: `${root}assignments/`,
    hypotheses: `${root}hypotheses/`,
    hypothesis: (id) => `${root}hypotheses/${id}/`,
    reviewQueue: `${root}review-queue/`,
    comments: `${root}comments/`,
    comment: (id) => `${root}comments/${id}/`,
    events: `${root}events/`,
    history: (type, id) => `${root}history/${type}/${id}/`,
    networks: `${root}networks/`,
    rounds: `${root}rounds/`,
    round: (id) => `${root}rounds/${id}/`,
  };
}
