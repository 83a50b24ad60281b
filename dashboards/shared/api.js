// A tiny client for the platform API: bearer token in sessionStorage, 401 sends you to the login page.
const TOKEN_KEY = "eldercare.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

// A refused or failed request. `code` is the API's machine code ("network_error" when the server could not be
// reached), `detail` its English message, `fields` the structured context (e.g. `at`, `by`, `alarm_id`) and
// `errors` the per-field list of a validation failure. Pages show errorText(error) from i18n.js, never `message`.
export class ApiError extends Error {
  constructor({ status = 0, code = null, detail = null, fields = {}, errors = null } = {}) {
    super(detail || code || (status ? `HTTP ${status}` : "network error"));
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
// or no JSON at all.
export function errorFromBody(status, body) {
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

export async function login(username, password) {
  const body = new URLSearchParams({ username, password });
  let response;
  try {
    response = await fetch("/api/auth/token", { method: "POST", body });
  } catch {
    throw new ApiError({ code: "network_error" });
  }
  if (!response.ok) {
    const error = errorFromBody(response.status, await response.json().catch(() => null));
    if (response.status === 401) error.code = "bad_login";
    throw error;
  }
  const data = await response.json();
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  meCache = null;
  return data;
}

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  meCache = null;
  location.href = "/ui/";
}

// Call the API with the bearer token. `options.json` sends a JSON body. Errors are thrown as ApiError.
export async function api(path, options = {}) {
  const { json, ...rest } = options;
  const headers = { ...(rest.headers || {}), Authorization: `Bearer ${token()}` };
  if (json !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { ...rest, headers, body: json !== undefined ? JSON.stringify(json) : rest.body });
  } catch {
    throw new ApiError({ code: "network_error" });
  }
  if (response.status === 401) {
    logout();
    throw new ApiError({ status: 401, code: "not_authenticated" });
  }
  if (!response.ok) throw errorFromBody(response.status, await response.json().catch(() => null));
  return response.json();
}

// The signed-in user with `permissions` and `scope` (GET /api/auth/me), fetched once per page.
let meCache = null;
export function me(refresh = false) {
  if (refresh) meCache = null;
  meCache = meCache || api("/api/auth/me").catch((error) => {
    meCache = null;
    throw error;
  });
  return meCache;
}

export function can(user, permission) {
  return Array.isArray(user?.permissions) && user.permissions.includes(permission);
}

// Where a role starts: the page that works for it. Operators (and admins) take alarms at the console,
// supervisors oversee from the status page; everyone else (caregivers, roles without pages yet) gets "my page",
// never the console.
export function landingFor(user) {
  if (can(user, "alarms.handle")) return "/ui/operator/";
  if (user?.role === "supervisor") return "/ui/status/";
  return "/ui/me/";
}
