// The designer's only way to the server: the JSON API documented in docs/api.md.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `The server answered ${status}.`);
    this.status = status;
    this.body = body || {};
  }
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  return input ? input.value : "";
}

export async function request(method, url, body, { raw = false } = {}) {
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (exc) {
    throw new ApiError(0, { detail: `Cannot reach the server (${exc.message}).` });
  }
  if (raw) return response;
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

const enc = encodeURIComponent;
const flowUrl = (slug) => `/api/flows/${enc(slug)}/`;

export const api = {
  me: () => request("GET", "/api/me/"),
  nodeTypes: () => request("GET", "/api/node-types/"),
  getFlow: (slug) => request("GET", flowUrl(slug)),
  saveFlow: (slug, definition, revision, force = false) =>
    request("PUT", flowUrl(slug), force ? { definition, revision, force: true } : { definition, revision }),
  validate: (slug, definition, publish = false) =>
    request("POST", `${flowUrl(slug)}validate/${publish ? "?publish=1" : ""}`, { definition }),
  publish: (slug, note, revision, allowPlaceholders = false) =>
    request("POST", `${flowUrl(slug)}publish/`, { note, revision, allow_placeholders: allowPlaceholders }),
  versions: (slug) => request("GET", `${flowUrl(slug)}versions/`),
  version: (slug, n) => request("GET", `${flowUrl(slug)}versions/${n}/`),
  rollback: (slug, version, note) => request("POST", `${flowUrl(slug)}rollback/`, { version, note }),
  keptDrafts: (slug) => request("GET", `${flowUrl(slug)}drafts/`),
  keptDraft: (slug, id) => request("GET", `${flowUrl(slug)}drafts/${enc(id)}/`),
  restoreDraft: (slug, id, revision) => request("POST", `${flowUrl(slug)}drafts/${enc(id)}/restore/`, { revision }),
  diff: (slug, from, to) => request("GET", `${flowUrl(slug)}diff/?from=${enc(from)}&to=${enc(to)}`),
  exportUrl: (slug) => `${flowUrl(slug)}export/`,
  stats: (slug, scope = {}) => {
    const query = new URLSearchParams(Object.entries(scope).filter(([, v]) => v)).toString();
    return request("GET", `${flowUrl(slug)}stats/${query ? `?${query}` : ""}`);
  },
  call: (sid) => request("GET", `/api/calls/${encodeURIComponent(sid)}/`),
  simulate: (slug, payload) => request("POST", `${flowUrl(slug)}simulate/`, payload),
  tests: (slug) => request("GET", `${flowUrl(slug)}tests/`),
  saveTests: (slug, tests) => request("PUT", `${flowUrl(slug)}tests/`, { tests }),
  runTests: (slug, tests) => request("POST", `${flowUrl(slug)}tests/run/`, tests ? { tests } : undefined),
  createFlow: (slug, name) => request("POST", "/api/flows/", { slug, name }),
  importFiles: (formData) => request("POST", "/api/import/", formData),
};

/** Results of a paginated or plain list answer. */
export const listOf = (data) => (Array.isArray(data) ? data : (data && data.results) || []);
