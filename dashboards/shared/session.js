// The signed-in session: the bearer token (sessionStorage, one browser tab), sign-in and sign-out, the user from
// /api/auth/me with their permissions, and api(): request() with the token, where a 401 ends the session.
import { ApiError, request } from "/ui/shared/http.js";

const TOKEN_KEY = "eldercare.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
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
  meCache = null;
  return data;
}

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  meCache = null;
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
// coordinators run their communities' day on the board, supervisors oversee from the status page; everyone else (caregivers, roles without pages yet) gets "my page",
// never the console.
export function landingFor(user) {
  if (can(user, "alarms.handle")) return "/ui/operator/";
  if (user?.role === "coordinator") return "/ui/coordinator/";
  if (user?.role === "supervisor") return "/ui/status/";
  return "/ui/me/";
}
