// The console's one table of actions: each with its id (the button's data-action), its label, its keyboard
// shortcut, the permission it needs, the alarm states it is enabled in and the request it sends (or what it
// does). The action bar, the keyboard shortcuts and the shortcut help are all generated from ACTIONS, so a
// button and its key can never disagree.
import { showError } from "/ui/operator/alerts.js";
import { actionableId, refresh, refuseAction, select } from "/ui/operator/detail.js";
import { toggleHandover } from "/ui/operator/handover.js";
import { apply, subjectOf, typeLabel, visible } from "/ui/operator/queue.js";
import { ACTING_STATES, OPEN_STATES, state } from "/ui/operator/state.js";
import { $, el } from "/ui/shared/dom.js";
import { errorText, label, labelCodes, t } from "/ui/shared/i18n.js";
import { api, can } from "/ui/shared/session.js";

const READ = "alarms.read";
const HANDLE = "alarms.handle";
const actionsOf = (id) => `/api/alarms/${id}/actions`;

// keys: lower-case `KeyboardEvent.key` values; keyHelp: how the help line writes them. `states` marks an action
// on the selected alarm (its card must be loaded); `bar` puts its button in the action bar with that class.
export const ACTIONS = [
  { id: "select-next", label: "selectNext", keys: ["arrowdown", "j"], keyHelp: "↓/J", permission: READ, run: () => move(1) },
  { id: "select-previous", label: "selectPrevious", keys: ["arrowup", "k"], keyHelp: "↑/K", permission: READ, run: () => move(-1) },
  { id: "acknowledge", label: "acknowledge", keys: ["a"], permission: HANDLE, states: ["new"], bar: "primary",
    request: (id) => ({ path: `/api/alarms/${id}/acknowledge` }) },
  { id: "call-reached", label: "callReached", keys: ["c"], permission: HANDLE, states: ACTING_STATES, bar: "",
    request: (id) => ({ path: actionsOf(id), body: { action: "call_back", result: "reached" } }) },
  { id: "call-no-answer", label: "callNoAnswer", keys: ["x"], permission: HANDLE, states: ACTING_STATES, bar: "",
    request: (id) => ({ path: actionsOf(id), body: { action: "call_back", result: "no_answer" } }) },
  { id: "notify", label: "notifyContacts", keys: [], permission: HANDLE, states: ACTING_STATES, bar: "",
    request: (id) => ({ path: actionsOf(id), body: { action: "notify_contacts", result: "reached" } }) },
  // To the caregiver chosen in the work part (the nearest unless the operator chose another), or `staffId`.
  { id: "dispatch", label: "dispatch", keys: ["d"], permission: HANDLE, states: ACTING_STATES, bar: "",
    request: (id, { staffId = chosenStaff() } = {}) => ({ path: actionsOf(id), body: { action: "dispatch", staff_id: staffId } }) },
  { id: "call-120", label: "call120", keys: ["e"], permission: HANDLE, states: ACTING_STATES, bar: "danger",
    request: (id) => ({ path: actionsOf(id), body: { action: "call_emergency", service: "120" } }) },
  { id: "call-119", label: "call119", keys: [], permission: HANDLE, states: ACTING_STATES, bar: "danger",
    request: (id) => ({ path: actionsOf(id), body: { action: "call_emergency", service: "119" } }) },
  { id: "resolve", label: "resolve", keys: ["r"], permission: HANDLE, states: ACTING_STATES, bar: "primary",
    run: (id) => openResolve(id) },
  { id: "focus-note", label: "note", keys: ["n"], permission: HANDLE, states: OPEN_STATES,
    run: () => $("#note-input")?.focus() },
  { id: "note", label: "addNote", keys: [], permission: HANDLE, states: OPEN_STATES, run: (id) => addNote(id) },
  { id: "handover", label: "handover", keys: ["h"], permission: READ, run: () => toggleHandover() },
];

const byId = Object.fromEntries(ACTIONS.map((action) => [action.id, action]));

const allowed = (action) => can(state.user, action.permission);
const enabledFor = (action, alarm, ready) => ready && allowed(action) && action.states.includes(alarm.state);

// Do `action` (a click and its key go through here alike): refused, and said so, while the selected alarm's card
// is not loaded; nothing while the alarm is in a state the action is not for.
export function perform(action, context = {}) {
  if (!allowed(action)) return;
  if (!action.states) {
    Promise.resolve(action.run()).catch(showError);
    return;
  }
  const id = actionableId();
  if (id === null) {
    refuseAction();
    return;
  }
  const alarm = state.alarms.get(id);
  if (!alarm || !action.states.includes(alarm.state)) return;
  if (action.run) Promise.resolve(action.run(id, state.loaded.card)).catch((error) => showError(error, id));
  else send(id, action.request(id, context));
}

async function send(id, { path, body }) {
  try {
    const answer = await api(path, { method: "POST", json: body });
    apply(answer.alarm ?? answer, { alert: false });
    return true;
  } catch (error) {
    showError(error, id);
    return false;
  } finally {
    refresh();
  }
}

function actionButton(action, { enabled, cls = "", context } = {}) {
  const key = action.keys[0];
  return el("button", { type: "button", class: cls || false, "data-action": action.id, disabled: !enabled,
    onclick: () => perform(action, context) }, t(action.label), key && key.length === 1 ? el("kbd", {}, key.toUpperCase()) : "");
}

// The action bar of `alarm`: every action with a bar button, enabled in the alarm's states once its card is
// `ready`; a read-only line for a user who may not handle alarms.
export function actionBar(alarm, ready) {
  if (!state.canHandle) return el("p", { class: "muted read-only", "data-read-only": "" }, t("readOnlyConsole"));
  return el("div", { class: "actions", "data-ready": ready ? "yes" : "no" },
    ...ACTIONS.filter((action) => action.bar !== undefined && allowed(action))
      .map((action) => actionButton(action, { enabled: enabledFor(action, alarm, ready), cls: action.bar })));
}

// A caregiver's own dispatch button on the card.
export function dispatchButton(caregiver, acting) {
  if (!state.canHandle) return "";
  const button = actionButton(byId.dispatch, { enabled: acting, context: { staffId: caregiver.id } });
  button.dataset.action = "dispatch-to";
  button.replaceChildren(t("dispatch"));
  return button;
}

// The work part's pieces (detail.js builds them once per alarm and keeps them).
export function noteBox() {
  return el("div", { class: "note-box" },
    el("input", { id: "note-input", placeholder: t("note"), maxlength: "2000" }),
    actionButton(byId.note, { enabled: true }));
}

export function dispatchChoice() {
  return el("div", { class: "dispatch-choice" },
    el("label", { for: "dispatch-staff" }, t("dispatchTo")), el("select", { id: "dispatch-staff" }));
}

function chosenStaff() {
  const value = $("#dispatch-staff")?.value;
  return value ? Number(value) : (state.loaded?.card.caregivers[0]?.id ?? null);
}

async function addNote(id) {
  const input = $("#note-input");
  const text = input?.value.trim();
  if (!text) return;
  if (await send(id, { path: `/api/alarms/${id}/notes`, body: { text } }) && input.value.trim() === text) input.value = "";
}

function move(step) {
  const list = visible();
  const index = list.findIndex((a) => a.id === state.selectedId);
  const next = step > 0 ? Math.min(list.length - 1, index + 1) : Math.max(0, index - 1);
  select(list[next]?.id ?? null);
}

// --- the resolve dialog (its fields are the operator's until they submit or cancel: nothing redraws them) ---
function openResolve(id) {
  const dialog = $("#resolve-dialog");
  const alarm = state.alarms.get(id);
  $("#resolve-dialog h2").textContent = `${t("resolveTitle")} #${id}${alarm ? ` ${typeLabel(alarm)} · ${subjectOf(alarm)}` : ""}`;
  $("#outcome").replaceChildren(...labelCodes("outcome").map((o) => el("option", { value: o }, label("outcome", o))));
  $("#reach-method").replaceChildren(...labelCodes("reachMethod").map((o) => el("option", { value: o }, label("reachMethod", o))));
  $("#resolve-error").textContent = "";
  dialog.dataset.alarmId = id;
  dialog.showModal();
}

async function submitResolve(event) {
  const dialog = $("#resolve-dialog");
  if (event.submitter?.value !== "ok") return;
  event.preventDefault();
  const id = Number(dialog.dataset.alarmId);
  if (actionableId() !== id) { // the selection or its card changed while the dialog was open
    $("#resolve-error").textContent = t("staleSelection");
    return;
  }
  try {
    const body = { outcome: $("#outcome").value, reach_method: $("#reach-method").value, notes: $("#resolve-notes").value || null };
    apply(await api(`/api/alarms/${id}/resolve`, { method: "POST", json: body }), { alert: false });
    dialog.close();
    $("#resolve-notes").value = "";
    if (state.selectedId === id) state.selectedId = visible()[0]?.id ?? null;
    refresh();
  } catch (error) {
    $("#resolve-error").textContent = errorText(error);
  }
}

// "快捷键: ↓/J 下一条 · ... · H 交接班": the keys this user has, from the table.
export function shortcutHelp() {
  const items = ACTIONS.filter((action) => action.keys.length && allowed(action))
    .map((action) => `${action.keyHelp ?? action.keys.map((k) => k.toUpperCase()).join("/")} ${t(action.label)}`);
  return `${t("keys")}: ${items.join(" · ")}`;
}

function onKey(event) {
  if (document.body.dataset.mode === "refused" || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.target.matches("input, textarea, select") || $("#resolve-dialog").open) return;
  const key = event.key.toLowerCase();
  const action = ACTIONS.find((a) => a.keys.includes(key) && allowed(a));
  if (!action) return;
  event.preventDefault();
  perform(action);
}

export function installActions() {
  $("#resolve-form").addEventListener("submit", submitResolve);
  document.addEventListener("keydown", onKey);
  $(".keys").textContent = shortcutHelp();
  $("#handover-toggle").addEventListener("click", () => perform(byId.handover));
}
