// The caregiver's app (issue 13): today's route, the residents' essentials, check-in/out with the phone's place,
// the visit record, live changes that must be acknowledged — on a phone, on a flaky connection.
//
// Offline: the service worker (sw.js, Workbox) keeps the app and the last answers of /api/me/tasks and
// /api/me/residents; every action goes through the outbox (outbox.js: IndexedDB, an Idempotency-Key each), sent in
// order when there is a connection. The screen shows the optimistic state and says plainly what is not yet sent.
import "/ui/caregiver/strings.js";
import { $ } from "/ui/shared/dom.js";
import { ApiError, request } from "/ui/shared/http.js";
import { errorText, t, toggleLocale, translatePage } from "/ui/shared/i18n.js";
import { loadLabels } from "/ui/shared/labels.js";
import { forgetToken, keepForShift, landingFor, login, token } from "/ui/shared/session.js";
import * as outbox from "/ui/caregiver/outbox.js";
import { startLive, noticesFromTasks, onNoticesChanged } from "/ui/caregiver/notices.js";
import { effective, keep, kept, localDay, state, taskById, upsertTask } from "/ui/caregiver/state.js";
import { render } from "/ui/caregiver/views.js";

const API_CACHE = "eldercare-caregiver-api";

// --- the service worker -----------------------------------------------------------------------------------------------
async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  try {
    const hadController = Boolean(navigator.serviceWorker.controller);
    // The first time, the worker takes the page over after the day was fetched: fetch it again through the
    // worker, so the day is kept for the stairwell.
    navigator.serviceWorker.addEventListener("controllerchange", () => {
      if (!hadController && state.user) loadDay();
    });
    await navigator.serviceWorker.register("/ui/caregiver/sw.js", { scope: "/ui/caregiver/" });
    document.body.dataset.sw = "registered";
    await navigator.serviceWorker.ready;
    document.body.dataset.sw = "ready";
  } catch (error) {
    document.body.dataset.sw = "failed";
    console.warn("service worker not registered", error);
  }
}

// --- calls (GET) ------------------------------------------------------------------------------------------------------
// A GET as the caregiver: the answer, and whether the service worker served it from its cache (then `cachedAt`).
async function get(path) {
  let cachedAt = null;
  const body = await request(path, {
    headers: { Authorization: `Bearer ${token()}` },
    onResponse: (response) => {
      if (response.headers.get("X-Served-From-Cache")) cachedAt = response.headers.get("Date") || new Date().toUTCString();
    },
  });
  return { body, cachedAt };
}

function signedOut() {
  forgetToken();
  state.authLost = true;
  showSignIn();
}

// --- today's data -------------------------------------------------------------------------------------------------------
export async function loadDay() {
  state.day = localDay();
  try {
    const tasks = await get(`/api/me/tasks?date=${state.day}`);
    const saved = kept("tasks", null);
    state.tasks = tasks.body;
    state.loadError = null;
    if (tasks.cachedAt) {
      // the service worker answered from its cache: say since when (the phone's time of the last fresh answer)
      state.cachedAt = saved?.day === state.day ? saved.saved_at : tasks.cachedAt;
    } else {
      state.cachedAt = null;
      keep("tasks", { day: state.day, saved_at: new Date().toISOString() }); // when, not what: the data stay in the worker's cache
    }
  } catch (error) {
    if (error.status === 401) return signedOut();
    state.loadError = error; // offline before the service worker ever kept the day
  }
  try {
    const residents = await get("/api/me/residents");
    state.residents = new Map(residents.body.map((resident) => [resident.id, resident]));
  } catch (error) {
    if (error.status === 401) return signedOut();
    // offline and never cached, or an older platform: the task's own fields (name, phone, access notes) still show
  }
  noticesFromTasks();
  render();
}

// The essentials of a resident who came with a task pushed during the shift (one audited read).
export async function loadResident(residentId) {
  if (!residentId || state.residents.has(residentId)) return;
  try {
    const { body } = await get(`/api/me/residents/${residentId}`);
    state.residents.set(residentId, body);
    render();
  } catch {
    // offline, or not (yet) on the caregiver's tasks: the task's own fields show
  }
}

// --- actions: always through the outbox ------------------------------------------------------------------------------
const PATHS = {
  accept: (id) => `/api/tasks/${id}/accept`,
  "en-route": (id) => `/api/tasks/${id}/en-route`,
  "check-in": (id) => `/api/tasks/${id}/check-in`,
  complete: (id) => `/api/tasks/${id}/complete`,
  "no-answer": (id) => `/api/tasks/${id}/no-answer`,
  acknowledge: (id) => `/api/tasks/${id}/acknowledge`,
  photo: (id) => `/api/me/tasks/${id}/photos`,
};

// Queue an action on a task; `at` is now on the phone. Resolves with the outbox item.
export async function act(kind, taskId, json = {}, extra = {}) {
  const at = new Date().toISOString();
  const body = kind === "photo" ? undefined : { ...json, at };
  const item = await outbox.enqueue({
    user_id: state.user.id, kind, task_id: taskId, path: PATHS[kind](taskId), json: body, at,
    resident_name: taskById(taskId)?.resident_name || null, // the list still says whose it was if the task goes
    ...extra,
  });
  await refreshOutbox();
  sendNow();
  return item;
}

export async function refreshOutbox() {
  state.outbox = await outbox.items(state.user.id);
  render();
}

function applyAnswer(item, answer) {
  const task = answer?.task && answer.task.id ? answer.task : answer;
  if (task && typeof task === "object" && task.id === item.task_id && task.status) {
    const known = taskById(task.id);
    if (known) upsertTask(task);
  }
}

let sender = null;
export function sendNow() {
  sender?.round();
}

async function afterRound(stopped) {
  state.authLost = stopped === "auth";
  if (stopped === "auth") {
    // the token expired (or was revoked) with actions queued: sign in again; the outbox is kept and sent after
    forgetToken();
    showSignIn(t("signInToSend"));
  }
  await refreshOutbox();
}

// --- sign in, sign out ------------------------------------------------------------------------------------------------
function showSignIn(message = "") {
  $("#signin").hidden = false;
  $("#app").hidden = true;
  $("#signin-error").textContent = message;
}

async function signIn(event) {
  event.preventDefault();
  $("#signin-error").textContent = "";
  try {
    await login($("#username").value.trim(), $("#password").value);
    const { body: user } = await get("/api/auth/me");
    if (landingFor(user) !== "/ui/caregiver/") {
      forgetToken();
      const link = $("#signin-landing");
      link.href = landingFor(user);
      link.hidden = false;
      $("#signin-error").textContent = t("notCaregiver");
      return;
    }
    keepForShift();
    state.authLost = false;
    // a new shift starts from the day as it is now: what changed overnight is today's list, not notices
    localStorage.removeItem(`eldercare.caregiver.${user.id}.version`);
    $("#password").value = "";
    if (started && state.user?.id !== user.id) {
      location.reload(); // someone else on this phone: start afresh with their day and their outbox
      return;
    }
    await start(user);
  } catch (error) {
    $("#signin-error").textContent = error.code === "bad_login" ? t("badLogin") : errorText(error);
  }
}

async function signOut() {
  const waiting = state.outbox.filter((item) => item.state !== "rejected").length;
  if (waiting && !window.confirm(t("signOutPending").replace("{n}", waiting))) return;
  // What this phone kept of the residents goes with the shift (the outbox stays for the next sign-in).
  if ("caches" in window) await caches.delete(API_CACHE);
  const prefix = `eldercare.caregiver.${state.user?.id}.`;
  for (const key of Object.keys(localStorage)) if (key.startsWith(prefix)) localStorage.removeItem(key);
  localStorage.removeItem("eldercare.caregiver.user");
  forgetToken();
  location.reload();
}

// --- start ------------------------------------------------------------------------------------------------------------
async function currentUser() {
  try {
    const { body } = await get("/api/auth/me");
    localStorage.setItem("eldercare.caregiver.user", JSON.stringify(body));
    return body;
  } catch (error) {
    if (error.status === 401) return null;
    const saved = JSON.parse(localStorage.getItem("eldercare.caregiver.user") || "null");
    if (error instanceof ApiError && saved) return saved; // offline: the user this phone signed in last
    throw error;
  }
}

let started = false;
let live = null;
async function start(user) {
  state.user = user;
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#who").textContent = user.full_name || user.username;
  loadLabels().then(render, () => {});
  state.outbox = await outbox.items(user.id);
  await loadDay();
  if (started) {
    // signed in again during the shift: send what waited, listen again
    sendNow();
    live?.retry(100);
    return;
  }
  started = true;
  outbox.onChange(() => refreshOutbox());
  sender = outbox.keepSending(user.id, token, applyAnswer, afterRound);
  live = startLive({ loadDay, loadResident, act });
  onNoticesChanged(render);
}

function watchConnection() {
  const update = () => {
    state.online = navigator.onLine;
    render();
  };
  window.addEventListener("online", () => {
    update();
    if (state.user) loadDay(); // fresh data (and the essentials' cache) once the signal is back
  });
  window.addEventListener("offline", update);
  window.addEventListener("hashchange", () => render());
  // back to the app after midnight (or after a long pause): the new day's list
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && state.user && localDay() !== state.day) loadDay();
  });
}

async function boot() {
  translatePage();
  $("#lang").addEventListener("click", toggleLocale);
  $("#signin-lang").addEventListener("click", toggleLocale);
  $("#signout").addEventListener("click", signOut);
  $("#signin").addEventListener("submit", signIn);
  $("#outbox-bar").addEventListener("click", () => {
    $("#outbox-panel").hidden = !$("#outbox-panel").hidden;
  });
  watchConnection();
  registerWorker();
  if (!token()) return showSignIn();
  try {
    const user = await currentUser();
    if (!user) return signedOut();
    if (landingFor(user) !== "/ui/caregiver/") {
      location.href = landingFor(user);
      return;
    }
    await start(user);
  } catch (error) {
    showSignIn(errorText(error));
  }
}

window.caregiverApp = { state, effective, sendNow }; // for the curious (and the browser tests): read-only use
boot();
