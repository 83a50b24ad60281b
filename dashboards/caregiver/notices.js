// Live changes to the caregiver's plan (WS /api/me/tasks/live, through shared/live.js: the token in the first
// message, reconnection with `since` = the last version seen, so nothing is missed) and the notices they raise.
//
// A new task, a task moved in the route, cancelled or taken away is a notice that must be acknowledged; an urgent
// task (an urgent visit, or priority 1) also beeps (WebAudio) and vibrates, in a red banner whose button
// acknowledges it and accepts it. Acknowledging goes through the outbox like every action (POST
// /api/tasks/{id}/acknowledge with the version). Notices survive a reload (kept on the phone).
import { LiveSocket } from "/ui/shared/live.js";
import { dropTask, isUrgent, keep, kept, localDay, state, taskById, upsertTask } from "/ui/caregiver/state.js";

const NOTICE_CHANGES = new Set(["published", "assigned", "moved", "rescheduled", "reassigned", "cancelled", "removed"]);
const GONE_CHANGES = new Set(["cancelled", "removed"]);

let app = null;
const listeners = new Set();
export function onNoticesChanged(listener) {
  listeners.add(listener);
}
function changed() {
  keep("notices", state.notices);
  for (const listener of listeners) listener();
}

// --- sound and vibration ---------------------------------------------------------------------------------------------
let audio = null;
function unlockAudio() {
  // Browsers let a page make sound only after a tap: the first tap of the shift prepares it.
  try {
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    if (audio.state === "suspended") audio.resume();
  } catch {
    audio = null;
  }
}
document.addEventListener("pointerdown", unlockAudio, { once: false, passive: true });

function alarm() {
  document.body.dataset.alerted = String(Number(document.body.dataset.alerted || 0) + 1);
  try {
    navigator.vibrate?.([400, 150, 400, 150, 400]);
  } catch {
    // no vibration motor
  }
  try {
    unlockAudio();
    if (!audio) return;
    const start = audio.currentTime + 0.02;
    for (let i = 0; i < 3; i += 1) {
      const tone = audio.createOscillator();
      const gain = audio.createGain();
      tone.type = "square";
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, start + i * 0.45);
      gain.gain.exponentialRampToValueAtTime(0.4, start + i * 0.45 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + i * 0.45 + 0.3);
      tone.connect(gain).connect(audio.destination);
      tone.start(start + i * 0.45);
      tone.stop(start + i * 0.45 + 0.32);
    }
  } catch {
    // sound is a courtesy: the banner stays until acknowledged
  }
}

// --- notices ------------------------------------------------------------------------------------------------------------
function addNotice({ task, taskId, version, change, urgent }) {
  const others = state.notices.filter((notice) => notice.task_id !== taskId);
  const snapshot = task || taskById(taskId) || null;
  state.notices = [
    ...others,
    {
      task_id: taskId,
      version,
      change,
      urgent,
      resident_name: snapshot?.resident_name || null,
      address: snapshot?.address || null,
      window_start: snapshot?.window_start || null,
      planned_start: snapshot?.planned_start || null,
    },
  ].sort((a, b) => Number(b.urgent) - Number(a.urgent) || a.version - b.version);
  if (urgent) alarm();
  changed();
}

// A task that waits for an answer though no message said so (a reload, a first sign-in): an urgent task sent to
// the caregiver, not yet acknowledged, accepted or started.
function waitingUrgent(task) {
  return isUrgent(task) && task.status === "published" && !task.accepted_at && !task.acknowledged_version;
}

export function noticesFromTasks() {
  state.notices = kept("notices", []);
  const queuedAcks = new Set(state.outbox.filter((item) => item.kind === "acknowledge").map((item) => item.task_id));
  for (const task of state.tasks) {
    if (waitingUrgent(task) && !queuedAcks.has(task.id) && !state.notices.some((n) => n.task_id === task.id)) {
      addNotice({ task, taskId: task.id, version: task.version, change: "published", urgent: true });
    }
  }
  changed();
}

// The caregiver acknowledges a notice: queued acknowledgement (and acceptance of an urgent task).
export async function acknowledge(taskId) {
  const notice = state.notices.find((n) => n.task_id === taskId);
  if (!notice) return;
  // queued first, then the banner goes: what the banner asked for is in the outbox (and on the not-sent bar)
  if (!GONE_CHANGES.has(notice.change)) { // a task no longer theirs: nothing to tell the server
    await app.act("acknowledge", taskId, { version: notice.version });
    const task = taskById(taskId);
    if (notice.urgent && task && task.status === "published" && !task.accepted_at) await app.act("accept", taskId);
  }
  state.notices = state.notices.filter((n) => n.task_id !== taskId);
  changed();
}

// --- the live channel -------------------------------------------------------------------------------------------------
function onMessage(message, { initial }) {
  if (message.type !== "task") return;
  state.version = Math.max(state.version, Number(message.version) || 0);
  keep("version", state.version);
  const { task, task_id: taskId, change } = message;
  if (task) {
    const starts = task.planned_start || task.window_start;
    const today = taskById(taskId) || !starts || localDay(new Date(starts)) === state.day;
    if (today) upsertTask({ ...task, ...(message.route ? { route_sequence: message.route.sequence, planned_start: message.route.planned_start } : {}) });
    app.loadResident(task.resident_id);
  }
  const known = task || taskById(taskId);
  const urgent = isUrgent(known);
  const when = known?.planned_start || known?.window_start;
  const forToday = !when || localDay(new Date(when)) === state.day; // tomorrow's plan is no change to today's work
  if (initial) {
    if (task && waitingUrgent(task)) addNotice({ task, taskId, version: message.version, change, urgent: true });
  } else if (NOTICE_CHANGES.has(change) && known && (forToday || urgent)) {
    addNotice({ task: known, taskId, version: message.version, change, urgent: urgent && !GONE_CHANGES.has(change) });
  }
  if (!task && GONE_CHANGES.has(change)) dropTask(taskId);
  listeners.forEach((listener) => listener());
}

export function startLive(hooks) {
  app = hooks;
  state.version = Number(kept("version", 0)) || 0;
  let initial = state.version === 0;
  const socket = new LiveSocket({
    url: () => `/api/me/tasks/live?since=${state.version}`,
    onState: (liveState) => {
      state.live = liveState;
      document.body.dataset.live = liveState;
      listeners.forEach((listener) => listener());
    },
    onMessage: (message) => {
      if (message.type === "hello") {
        for (const missed of message.missed || []) onMessage(missed, { initial });
        state.version = Math.max(state.version, Number(message.version) || 0);
        keep("version", state.version);
        initial = false;
        return;
      }
      onMessage(message, { initial: false });
    },
    onClose: (event) => {
      if (event.code === 4401 || event.code === 4403) return true; // signed out or not a caregiver: do not hammer
      return false;
    },
  });
  socket.connect();
  window.addEventListener("online", () => state.live !== "open" && socket.retry(200));
  return socket;
}
