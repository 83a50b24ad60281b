// The signed-in session: the bearer token (sessionStorage, one browser tab), sign-in and sign-out, the user from
// /api/auth/me with their permissions, and api(): request() with the token, where a 401 ends the session.
// A caregiver's phone keeps the token for the shift (keepForShift: localStorage, until the token expires), so the
// app reopened in a stairwell with no signal is still signed in; every other page keeps it for the tab only.
import { ApiError, download, request } from "/ui/shared/http.js";

const TOKEN_KEY = "eldercare.token";
const EXPIRES_KEY = "eldercare.tokenExpires";
const SHIFT_KEY = "eldercare.shiftToken";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || shiftToken();
}

// The token kept for the shift, while it is valid (else it is forgotten).
function shiftToken() {
  let kept = null;
  try {
    kept = JSON.parse(localStorage.getItem(SHIFT_KEY) || "null");
  } catch {
    kept = null;
  }
  if (kept && typeof kept.token === "string" && Number(kept.expires_at) > Date.now()) return kept.token;
  if (kept) localStorage.removeItem(SHIFT_KEY);
  return null;
}

// Keep the current token on this device until it expires (the caregiver app; one sign-in per shift).
export function keepForShift() {
  const current = sessionStorage.getItem(TOKEN_KEY) || shiftToken();
  const expires = Number(sessionStorage.getItem(EXPIRES_KEY)) || Date.now() + 8 * 3600 * 1000;
  if (current) localStorage.setItem(SHIFT_KEY, JSON.stringify({ token: current, expires_at: expires }));
}

// Forget the token (both places) without leaving the page: the caregiver app shows its own sign-in form.
export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
  localStorage.removeItem(SHIFT_KEY);
  meCache = null;
}

export async function login(username, password) {
  let data;
  try {
    data = await request("/api/auth/token", { form: { username, password } });
  } catch (error) {
    if (error.status === 401) error.code = "bad_login";
    throw error;
  }
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + Number(data.expires_in || 0) * 1000));
  localStorage.removeItem(SHIFT_KEY); // a new sign-in replaces a token kept for an earlier shift
  meCache = null;
  return data;
}

export function logout() {
  forgetToken();
  location.href = "/ui/";
}

// Call the API as the signed-in user (the options of request()). A 401 means the session is over: sign out.
export async function api(path, options = {}) {
  try {
    return await request(path, { ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${token()}` } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      logout();
      throw new ApiError({ status: 401, code: "not_authenticated", detail: error.detail });
    }
    throw error;
  }
}

// Download a file the API makes (an export, a PDF) as the signed-in user (http.js: download()).
export async function apiDownload(path, fallbackName) {
  try {
    return await download(path, { headers: { Authorization: `Bearer ${token()}` }, fallbackName });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) logout();
    throw error;
  }
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
// coordinators run their communities' day on the board, supervisors oversee their tier on the supervision
// dashboard (figures, exceptions first, drill-down; a supervisor without the permission gets "my page"), caregivers
// with a staff record work from the caregiver app; everyone else (roles without pages yet) gets "my page",
// never the console.
export function landingFor(user) {
  if (can(user, "alarms.handle")) return "/ui/operator/";
  if (user?.role === "coordinator") return "/ui/coordinator/";
  if (user?.role === "supervisor") return can(user, "supervision.read") ? "/ui/supervisor/" : "/ui/me/";
  if (can(user, "tasks.work") && user?.staff_id) return "/ui/caregiver/";
  return "/ui/me/";
}
