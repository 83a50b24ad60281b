// The one HTTP helper of every page: request() sends, reads the answer, and turns every refusal into an ApiError
// that carries the server's words (`detail`) and its machine `code`. Nothing else in the pages calls fetch().

// A refused or failed request. `code` is the API's machine code ("network_error" when the server could not be
// reached), `detail` its English message, `fields` the structured context (e.g. `at`, `by`, `alarm_id`) and
// `errors` the per-field list of a validation failure. Pages show errorText(error) from i18n.js, which
// translates by `code` and otherwise shows the server's `detail`, never a bare "HTTP 500".
export class ApiError extends Error {
  constructor({ status = 0, code = null, detail = null, fields = {}, errors = null } = {}) {
    super(detail || code || (status ? `request refused (${status})` : "network error"));
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.fields = fields;
    this.errors = errors;
  }
}

// Read an error body defensively: the shape `{"detail": "...", "code": "...", "errors"?: [...], ...context}`,
// the older `{"detail": "..."}`, a `detail` that is itself an object, FastAPI's `{"detail": [...]}` for 422,
// or no JSON at all (then the text, if short, is the detail).
export function errorFromBody(status, body) {
  if (typeof body === "string") {
    const text = body.trim();
    return new ApiError({ status, detail: text && text.length <= 200 && !text.startsWith("<") ? text : null });
  }
  let data = body && typeof body === "object" && !Array.isArray(body) ? { ...body } : {};
  if (data.detail && typeof data.detail === "object" && !Array.isArray(data.detail)) {
    data = { ...data.detail, ...data, detail: data.detail.detail ?? data.detail.message ?? null, code: data.code ?? data.detail.code };
  }
  let errors = Array.isArray(data.errors) ? data.errors : null;
  let detail = data.detail;
  if (Array.isArray(detail)) {
    errors = errors || detail;
    detail = null;
  }
  const { code = null, detail: _d, errors: _e, ...fields } = data;
  return new ApiError({
    status,
    code: typeof code === "string" ? code : null,
    detail: typeof detail === "string" ? detail : null,
    fields,
    errors,
  });
}

async function readError(response) {
  const text = await response.text().catch(() => "");
  try {
    return errorFromBody(response.status, JSON.parse(text));
  } catch {
    return errorFromBody(response.status, text);
  }
}

// Send a request. `json` is sent as a JSON body, `form` as application/x-www-form-urlencoded, `body` as it is
// (e.g. FormData for a file); `headers` are added; `onResponse(response)` sees the answer's status and headers
// (e.g. whether a service worker served it from its cache). Resolves with the decoded JSON answer (null for
// 204); rejects with an ApiError for anything else.
export async function request(path, { method, json, form, body, headers = {}, signal, onResponse } = {}) {
  const sends = json !== undefined || form !== undefined || body !== undefined;
  const init = { method: method || (sends ? "POST" : "GET"), headers: { ...headers }, signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (form !== undefined) {
    init.body = new URLSearchParams(form);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError({ code: "network_error" });
  }
  onResponse?.(response);
  if (!response.ok) throw await readError(response);
  if (response.status === 204) return null;
  return response.json();
}

// Fetch a file the API makes (an export, a PDF) and hand it to the browser as a download: a link cannot carry the
// bearer token, so the page fetches it with the same headers and saves the blob under the server's file name
// (Content-Disposition) or `fallbackName`. Rejects with an ApiError like request().
export async function download(path, { headers = {}, fallbackName = "download" } = {}) {
  let response;
  try {
    response = await fetch(path, { headers });
  } catch {
    throw new ApiError({ code: "network_error" });
  }
  if (!response.ok) throw await readError(response);
  const blob = await response.blob();
  const disposition = response.headers.get("Content-Disposition") || "";
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const name = encoded ? decodeURIComponent(encoded[1]) : plain ? plain[1] : fallbackName;
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return { name, size: blob.size, type: blob.type };
}
