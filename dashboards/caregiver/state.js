// What the app knows: the signed-in caregiver, today's tasks (GET /api/me/tasks) with their residents' essentials
// (GET /api/me/residents), the outbox, the notices waiting for an acknowledgement, and the connection. The page
// shows each task as the server has it *plus* the actions still in the outbox (optimistic: a check-in made offline
// shows as checked in, marked "not yet sent").
import { distanceM } from "/ui/caregiver/geo.js";

export const ZONE = "Asia/Shanghai";
export const VERIFIED_WITHIN_M = 200; // the platform's default `checkin_verified_within_m`, used when the task does not say

export const state = {
  user: null,
  day: null,
  tasks: [],
  residents: new Map(),
  outbox: [],
  notices: [],
  cachedAt: null, // when the tasks shown were saved, if the service worker answered from its cache
  online: navigator.onLine,
  live: "closed",
  version: 0, // the newest change of the live channel seen
  authLost: false,
  loadError: null,
};

// --- kept on the phone, per user ------------------------------------------------------------------------------------
function key(name) {
  return `eldercare.caregiver.${state.user?.id ?? "anon"}.${name}`;
}

export function kept(name, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(key(name)) || "null");
    return value ?? fallback;
  } catch {
    return fallback;
  }
}

export function keep(name, value) {
  localStorage.setItem(key(name), JSON.stringify(value));
}

// --- times ------------------------------------------------------------------------------------------------------------
export function localDay(date = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

export function hhmm(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

export function dayTime(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("zh-CN", {
    timeZone: ZONE, month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(new Date(iso));
}

// --- tasks ------------------------------------------------------------------------------------------------------------
export function isUrgent(task) {
  return Boolean(task?.is_urgent) || task?.kind === "urgent_visit" || task?.priority === 1;
}

export function isMeal(task) {
  return task?.kind === "meal_delivery";
}

// Route order: planned start, then the place in the route, then the window's start (the server's order too).
export function routeOrder(a, b) {
  const time = (iso) => (iso ? Date.parse(iso) : Number.MAX_SAFE_INTEGER);
  return (
    time(a.planned_start || a.window_start) - time(b.planned_start || b.window_start)
    || (a.route_sequence ?? 1e9) - (b.route_sequence ?? 1e9)
    || time(a.window_start) - time(b.window_start)
    || a.id - b.id
  );
}

export function upsertTask(task) {
  const index = state.tasks.findIndex((t) => t.id === task.id);
  if (index >= 0) state.tasks[index] = { ...state.tasks[index], ...task };
  else state.tasks.push(task);
  state.tasks.sort(routeOrder);
}

export function dropTask(taskId) {
  state.tasks = state.tasks.filter((t) => t.id !== taskId);
}

// The limit within which a check-in counts as at the home.
export function verifiedWithin(task) {
  return Number(task?.checkin_verified_within_m) || VERIFIED_WITHIN_M;
}

// The check-in's distance from the home: the server's figure and judgement once it has the check-in, else the
// phone's own estimate from the place it sent (so a far check-in is flagged at once, offline too).
export function checkInPlace(task) {
  const limit = verifiedWithin(task);
  if (task.check_in_distance_m !== null && task.check_in_distance_m !== undefined && !task.pending.some((i) => i.kind === "check-in")) {
    const metres = Math.round(task.check_in_distance_m);
    return { metres, limit, far: task.location_verified === false || metres > limit, source: "server" };
  }
  const place = kept("checkins", {})[task.id];
  if (!place) return null;
  const metres = distanceM(task.home_latitude, task.home_longitude, place.latitude, place.longitude);
  return metres === null ? null : { metres: Math.round(metres), limit, far: metres > limit, source: "device" };
}

// A task as the caregiver sees it: the server's record with the outbox's queued actions applied in order.
export function effective(task) {
  const view = { ...task, pending: [], rejected: [] };
  for (const item of state.outbox) {
    if (item.task_id !== task.id) continue;
    if (item.state === "rejected") {
      view.rejected.push(item);
      continue;
    }
    view.pending.push(item);
    const at = item.at;
    switch (item.kind) {
      case "accept":
        view.accepted_at = view.accepted_at || at;
        break;
      case "en-route":
        if (view.status === "published") Object.assign(view, { status: "en_route", en_route_at: at });
        view.accepted_at = view.accepted_at || at;
        break;
      case "check-in":
        if (["published", "en_route"].includes(view.status)) Object.assign(view, { status: "checked_in", checked_in_at: at });
        break;
      case "complete":
        if (view.status === "checked_in") {
          Object.assign(view, { status: "completed", completed_at: at, problem_found: Boolean(item.json?.problem_found) });
        }
        break;
      case "no-answer":
        if (["published", "en_route", "checked_in"].includes(view.status)) {
          Object.assign(view, { status: "missed", status_reason: "no_answer" });
        }
        break;
      case "acknowledge":
        view.acknowledged_version = Math.max(view.acknowledged_version || 0, item.json?.version || 0);
        break;
      default:
        break;
    }
  }
  return view;
}

export function taskById(taskId) {
  return state.tasks.find((t) => t.id === taskId) || null;
}
