// A tiny client for the platform API: bearer token in sessionStorage, 401 sends you to the login page.
const TOKEN_KEY = "eldercare.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export async function login(username, password) {
  const body = new URLSearchParams({ username, password });
  const response = await fetch("/api/auth/token", { method: "POST", body });
  if (!response.ok) {
    const error = new Error(response.status === 401 ? "badLogin" : "networkError");
    error.status = response.status;
    throw error;
  }
  const data = await response.json();
  sessionStorage.setItem(TOKEN_KEY, data.access_token);
  return data;
}

export function logout() {
  sessionStorage.removeItem(TOKEN_KEY);
  location.href = "/ui/";
}

export async function api(path, options = {}) {
  const headers = { ...(options.headers || {}), Authorization: `Bearer ${token()}` };
  const response = await fetch(path, { ...options, headers });
  if (response.status === 401) {
    logout();
    throw new Error("unauthenticated");
  }
  if (!response.ok) {
    const error = new Error(`HTTP ${response.status}`);
    error.status = response.status;
    throw error;
  }
  return response.json();
}
