// The detail panel: the card of exactly one alarm (the selected one), drawn in parts.
//
// Every change of any alarm refreshes the console, so the panel is drawn in parts (head, actions, work, card
// blocks) and a part is redrawn only when what it shows changed (shared/dom.js: renderPart). The work part
// (the note being typed, the dispatch choice) is built once per selected alarm and then only updated in place:
// a push never replaces the element the operator is typing in, so text, focus, caret and an IME composition stay.
import { actionBar, dispatchButton, dispatchChoice, noteBox } from "/ui/operator/actions.js";
import { banner, showError } from "/ui/operator/alerts.js";
import { isWelfare, onAlarmChange, renderQueue, typeLabel, welfareBadge } from "/ui/operator/queue.js";
import { ACTING_STATES, state } from "/ui/operator/state.js";
import { originBlock, residentStateBlock, visitProgressText } from "/ui/operator/welfare.js";
import { ApiError } from "/ui/shared/http.js";
import { $, el, renderPart } from "/ui/shared/dom.js";
import { errorText, fmt, formatTime, label, reasonText, t } from "/ui/shared/i18n.js";
import { api } from "/ui/shared/session.js";

const cardCache = new Map();
const cardLoads = new Map(); // alarm id → the card request in flight
let loadSeq = 0;

// A card requested before a change of its alarm is shown once, not kept.
onAlarmChange((id) => {
  cardCache.delete(id);
  cardLoads.delete(id);
});

function loadCard(id) {
  if (cardCache.has(id)) return Promise.resolve(cardCache.get(id));
  if (!cardLoads.has(id)) {
    const request = Promise.all([api(`/api/alarms/${id}/card`), api(`/api/alarms/${id}/trace`)])
      .then(([card, trace]) => {
        // A card must be the card of the alarm asked for; anything else is never shown.
        if (card?.alarm?.id !== id) throw new ApiError({ code: "card_unavailable", fields: { alarm_id: id } });
        const entry = { id, card, trace };
        if (cardLoads.get(id) === request) cardCache.set(id, entry);
        return entry;
      })
      .finally(() => { if (cardLoads.get(id) === request) cardLoads.delete(id); });
    cardLoads.set(id, request);
  }
  return cardLoads.get(id);
}

// The alarm the actions may act on: the loaded card's alarm, and only while it is the selected one.
export function actionableId() {
  const { loaded } = state;
  if (!state.canHandle || !loaded || loaded.id !== state.selectedId || loaded.card.alarm.id !== loaded.id) return null;
  return loaded.id;
}

// Why no action is possible right now, on the banner.
export function refuseAction() {
  const panelState = $("#detail").dataset.state;
  if (panelState === "failed") banner($("#detail [data-detail-message]")?.textContent || t("cardFailed"), "error");
  else banner(t(panelState === "loading" ? "waitForCard" : "staleSelection"), "error");
}

const PARTS = ["head", "actions", "work", "message", "residentState", "origin", "resident", "caregivers", "history", "trace"];

function parts() {
  const panel = $("#detail");
  if (!panel.querySelector(":scope > [data-part]")) {
    panel.replaceChildren(...PARTS.map((name) => el("div", { "data-part": name })));
  }
  return Object.fromEntries(PARTS.map((name) => [name, panel.querySelector(`:scope > [data-part="${name}"]`)]));
}

function detailHead(alarm) {
  return el("div", { class: "detail-head" },
    el("h2", {}, `#${alarm.id} ${typeLabel(alarm)}`),
    welfareBadge(alarm),
    el("span", { class: `state ${alarm.state}` }, label("alarmState", alarm.state)),
    // a welfare call has no device: what it is about is its meal order or visit, not a device's events
    isWelfare(alarm) || !alarm.device_serial
      ? el("span", { class: "muted", "data-welfare-origin": "" }, [alarm.meal_order_id ? `${t("mealOrder")} #${alarm.meal_order_id}` : "",
        alarm.task_id ? `${t("visitTask")} #${alarm.task_id}` : "", formatTime(alarm.opened_at)].filter(Boolean).join(" · "))
      : el("span", { class: "muted" }, `${t("device")} ${alarm.device_serial} · ${alarm.event_count} ${t("events")} · ${formatTime(alarm.opened_at)}`),
    alarm.acknowledged_by_name ? el("span", { class: "muted" }, `${t("acknowledged_by")}: ${alarm.acknowledged_by_name}`) : "",
    alarm.dispatched ? el("span", { class: "state in_progress" }, t("dispatched")) : "",
    alarm.substitute_cover_required ? el("span", { class: "state new" }, t("substituteCover")) : "",
    alarm.linked?.length ? el("span", { class: "muted" }, `${t("linked")}: ${alarm.linked.map((i) => `#${i}`).join(" ")}`) : "");
}

const keyOf = (...values) => JSON.stringify(values);

// The head and the action bar of `alarm` (or nothing), the same whether its card is loaded (`ready`) or not.
function drawHeadAndActions(p, alarm, ready) {
  renderPart(p.head, alarm ? keyOf(alarm) : "", () => (alarm ? detailHead(alarm) : []));
  renderPart(p.actions, alarm ? keyOf(alarm.id, alarm.state, ready, state.canHandle) : "", () => (alarm ? actionBar(alarm, ready) : []));
}

// The work part belongs to one alarm: built when that alarm is first drawn, then only updated in place.
function drawWork(node, alarm, card) {
  if (!state.canHandle) {
    renderPart(node, "", () => []);
    return;
  }
  if (node.dataset.alarmId !== String(alarm.id)) {
    node.dataset.alarmId = String(alarm.id);
    node.dataset.key = "";
    node.replaceChildren(noteBox(), dispatchChoice());
  }
  node.hidden = false;
  for (const button of node.querySelectorAll("button")) button.disabled = false;
  const chooser = node.querySelector("#dispatch-staff");
  const ids = card.caregivers.map((c) => String(c.id));
  if (keyOf(...ids) !== chooser.dataset.ids) { // a new list: new options, the choice kept while still offered
    const chosen = chooser.value;
    chooser.dataset.ids = keyOf(...ids);
    chooser.replaceChildren(...card.caregivers.map((c) => el("option", { value: c.id },
      `${c.name} · ${c.distance_km ?? t("unknown")} ${t("km")} · ${t(c.on_shift ? "onShift" : "offShift")}`)));
    if (ids.includes(chosen)) chooser.value = chosen;
  }
  chooser.disabled = !ACTING_STATES.includes(alarm.state);
}

// Clear the panel: nothing of any earlier card stays on screen, and every action is disabled. A note typed for
// the selected alarm is kept out of sight until its card is back.
function clearDetail(message, panelState) {
  state.loaded = null;
  const panel = $("#detail");
  const p = parts();
  panel.dataset.alarmId = "";
  panel.dataset.state = panelState;
  const alarm = state.alarms.get(state.selectedId);
  drawHeadAndActions(p, alarm, false);
  if (p.work.dataset.alarmId !== String(state.selectedId)) {
    p.work.dataset.alarmId = "";
    p.work.replaceChildren();
  }
  p.work.hidden = true;
  for (const button of p.work.querySelectorAll("button")) button.disabled = true;
  renderPart(p.message, keyOf(panelState, message),
    () => el("p", { class: panelState === "failed" ? "error" : "muted", "data-detail-message": panelState }, message));
  for (const name of ["residentState", "origin", "resident", "caregivers", "history", "trace"]) renderPart(p[name], "", () => []);
}

function deviceStatusText(s) {
  const parts = [`${s.device_serial}: ${t(s.online ? "device.online" : "device.offline")}`,
    s.battery_pct === null || s.battery_pct === undefined ? t("device.batteryUnknown") : fmt("device.battery", { pct: s.battery_pct })];
  if (s.mains_power === false) parts.push(t("device.mainsOff"));
  if (s.last_seen_at) parts.push(fmt("device.lastSeen", { at: formatTime(s.last_seen_at) }));
  return parts.join(" · ");
}

function vitalsText(v) {
  const values = Object.entries(v.data || {}).filter(([, value]) => value !== null && value !== undefined)
    .map(([key, value]) => `${label("vital", key)} ${typeof value === "boolean" ? t(value ? "yes" : "no") : value}`);
  return `${formatTime(v.time)} ${values.join(" ")}`;
}

// A trace line. A system reason is a code: the console's own words (reasonText), else the services' labels (a
// meal's, the task engine's), else the text as written. A visit's progress names the task, its status and who.
export function traceText(x) {
  const d = x.detail || {};
  const extra = x.action === "visit_progress" ? visitProgressText(d)
    : [d.result ? label("callResult", d.result) : "", d.service || "", d.outcome ? label("outcome", d.outcome) : "",
      d.reach_method ? label("reachMethod", d.reach_method) : "", d.task_id ? fmt("taskRef", { id: d.task_id }) : ""]
      .filter(Boolean).join(" ");
  const written = reasonText(x.reason, d);
  const reason = written && written === x.reason ? label("mealReason", x.reason, label("taskEngineReason", x.reason, x.reason)) : written;
  return `${formatTime(x.at)} · ${label("traceAction", x.action)}${extra ? " " + extra : ""} · ${x.user_name ?? t("system")}${reason ? " · " + reason : ""}`;
}

function residentBlock(r) {
  if (!r) return [];
  return el("div", { class: "card-block" },
    el("div", { class: "grid2" },
      el("div", { class: "kv" }, el("b", {}, t("resident")),
        `${r.resident.name} · ${label("gender", r.resident.gender)} · ${r.age}${t("years")}`,
        r.resident.phone ? el("a", { class: "call", href: `tel:${r.resident.phone}` }, `${t("call")} ${r.resident.phone}`) : ""),
      el("div", { class: "kv" }, el("b", {}, t("capability")), label("capability", r.resident.capability_level), " ",
        ...r.resident.categories.map((c) => el("span", { class: "tag" }, label("residentCategory", c)))),
      el("div", { class: "kv" }, el("b", {}, t("address")), `${r.household.address}（${r.community.name}）`,
        r.household.access_notes ? el("div", { class: "muted" }, r.household.access_notes) : ""),
      el("div", { class: "kv" }, el("b", {}, t("conditions")), r.resident.health_conditions.join("、") || "—")),
    el("h3", {}, t("contacts")),
    el("ul", {}, ...r.contacts.map((c) => el("li", { "data-contact": c.id },
      `${c.priority}. ${c.name}（${c.relation}）`, c.is_keyholder ? el("span", { class: "tag" }, t("keyholder")) : "",
      el("a", { class: "call", href: `tel:${c.phone}` }, `${t("call")} ${c.phone}`)))),
    r.members.length ? el("div", { class: "kv" }, el("b", {}, t("members")), r.members.map((m) => m.name).join("、")) : "");
}

function caregiversBlock(caregivers, acting) {
  return el("div", { class: "card-block" }, el("h3", {}, t("caregivers")),
    el("ul", {}, ...caregivers.map((c) => el("li", {},
      `${c.name} · ${c.zone} · ${c.distance_km ?? t("unknown")} ${t("km")} · ${t(c.on_shift ? "onShift" : "offShift")}`,
      el("a", { class: "call", href: `tel:${c.phone}` }, `${t("call")}`),
      dispatchButton(c, acting)))));
}

function historyBlock(day) {
  if (!day) return [];
  day = { events: day.events ?? [], vitals: day.vitals ?? [], device_status: day.device_status ?? [] };
  return el("div", { class: "card-block" }, el("h3", {}, t("last24h")),
    el("ul", {}, ...(day.events.length ? day.events.slice(0, 8).map((e) =>
      el("li", {}, `${formatTime(e.received_at)} · ${e.device_serial} · ${label("eventType", e.event_type)}`)) : [el("li", {}, t("noRecords"))])),
    day.vitals.length ? el("div", { class: "kv" }, el("b", {}, t("vitals")), day.vitals.slice(0, 3).map(vitalsText).join(" · ")) : "",
    day.device_status.length ? el("div", { class: "kv muted", "data-device-status": "" },
      day.device_status.map(deviceStatusText).join(" | ")) : "");
}

function drawDetail(alarm, entry) {
  const { card, trace } = entry;
  const panel = $("#detail");
  const p = parts();
  state.loaded = entry;
  panel.dataset.alarmId = String(alarm.id);
  panel.dataset.state = "loaded";
  const acting = ACTING_STATES.includes(alarm.state);
  drawHeadAndActions(p, alarm, true);
  drawWork(p.work, alarm, card);
  renderPart(p.message, "", () => []);
  renderPart(p.residentState, keyOf(alarm.id, card.resident_state), () => residentStateBlock(card.resident_state));
  renderPart(p.origin, keyOf(alarm.id, card.meal_order, card.task), () => originBlock(card));
  renderPart(p.resident, keyOf(alarm.id, card.resident), () => residentBlock(card.resident));
  renderPart(p.caregivers, keyOf(alarm.id, card.caregivers, acting, state.canHandle),
    () => caregiversBlock(card.caregivers, acting));
  // a welfare call has no device: its meal order or task (above) instead of the devices' last 24 hours
  renderPart(p.history, keyOf(alarm.id, isWelfare(alarm), card.last_24h), () => (isWelfare(alarm) ? [] : historyBlock(card.last_24h)));
  renderPart(p.trace, keyOf(alarm.id, trace), () => el("div", { class: "card-block" }, el("h3", {}, t("trace")),
    el("ul", { class: "trace" }, ...trace.map((x) => el("li", { "data-trace-action": x.action }, traceText(x))))));
}

// Draw the selected alarm: from the cache, else (while its card is on its way) the same alarm's previous card
// with the alarm's new state, never another alarm's.
export async function renderDetail() {
  const id = state.selectedId;
  const alarm = state.alarms.get(id);
  if (!alarm) {
    clearDetail(t("selectAlarm"), "empty");
    return;
  }
  const seq = ++loadSeq;
  if (cardCache.has(id)) {
    drawDetail(alarm, cardCache.get(id));
    return;
  }
  if (state.loaded && state.loaded.id === id) drawDetail(alarm, state.loaded);
  else clearDetail(t("loading"), "loading");
  let entry;
  try {
    entry = await loadCard(id);
  } catch (error) {
    if (seq !== loadSeq || state.selectedId !== id) return; // a newer selection owns the panel now
    clearDetail(`${t("cardFailed")}: ${errorText(error)}`, "failed");
    showError(error, id);
    return;
  }
  if (seq !== loadSeq || state.selectedId !== id || !state.alarms.has(id)) return;
  drawDetail(state.alarms.get(id), entry);
}

export function refresh() {
  renderQueue(select);
  renderDetail().catch(showError);
}

export function select(id) {
  state.selectedId = id;
  refresh();
}
