// The operator console (接警台): live queue over WebSocket, resident card, one-click actions, hand-over.
import { ApiError, api, can, landingFor, logout, me, token } from "/ui/shared/api.js";
import {
  STRINGS, currentLocale, errorText, fmt, formatTime, label as codeLabel, reasonText, t, toggleLocale, translatePage,
} from "/ui/shared/i18n.js";

Object.assign(STRINGS["zh-CN"], {
  consoleTitle: "接警台", queue: "告警队列", priorityShort: "级", type: "类型", waiting: "等待", sla: "时限",
  state: "状态", noAlarms: "当前没有待处理告警", selectAlarm: "选择一条告警查看详情", handover: "交接班",
  soundOn: "启用提示音", soundOff: "关闭提示音", live_open: "实时", live_connecting: "连接中…", live_closed: "已断开，重连中…",
  new: "待接警", acknowledged: "已接警", in_progress: "处理中", resolved: "已结案",
  acknowledge: "接警", callReached: "回拨：已接通", callNoAnswer: "回拨：无人接听", notifyContacts: "已通知联系人",
  dispatch: "派人上门", call120: "呼叫120", call119: "呼叫119", resolve: "结案", note: "备注", addNote: "添加",
  resolveTitle: "结案", outcome: "处理结果", reachMethod: "如何联系到老人", notes: "备注", cancel: "取消",
  resident: "老人", address: "地址", members: "同住家人", conditions: "健康状况", contacts: "紧急联系人",
  keyholder: "钥匙托管", caregivers: "附近可派护理员", onShift: "在班", offShift: "不在班", last24h: "近24小时设备记录",
  trace: "处理记录", device: "设备", events: "次", overdue: "超时", newCritical: "新的紧急告警",
  escalatedAlarm: "告警超时未接", linked: "关联告警", substituteCover: "需替代设备/人工照看", call: "拨打",
  keysHelp: "快捷键: ↑/↓ 或 J/K 选择 · A 接警 · C 回拨接通 · X 无人接听 · D 派人 · E 呼叫120 · R 结案 · N 备注 · H 交接班",
  assisted_by_phone: "电话协助解决", assisted_at_home: "上门协助", taken_to_hospital: "送医", false_alarm: "误报",
  device_test: "设备测试", resident_cancelled: "老人取消", device_fixed: "设备已修复", referred: "转介处理",
  phone: "电话", device_voice: "设备通话", staff_at_home: "工作人员上门", contact_at_home: "家属/邻居上门",
  emergency_services: "急救/消防", not_reached: "未联系上(已派人)", age: "岁", dispatched: "已派人",
  vitals: "生命体征", noRecords: "无记录", km: "公里", years: "岁", system: "系统",
  opened: "生成告警", event_attached: "重复呼叫", call_back: "回拨", notify_contacts: "通知联系人",
  call_emergency: "呼叫急救/消防", escalate: "超时升级", resident_cancelled: "老人取消",
  substitute_cover: "需替代照看", loading: "正在加载老人信息…", cardFailed: "无法显示此告警的详情",
  waitForCard: "所选告警的详情尚未加载完成，暂不能操作",
  keysHelpReadOnly: "快捷键: ↑/↓ 或 J/K 选择 · H 交接班", reached: "已接通", no_answer: "无人接听", busy: "占线",
  acknowledged_by: "接警人", staleSelection: "所选告警已变化，操作已取消",
});
Object.assign(STRINGS.en, {
  consoleTitle: "Alarm console", queue: "Alarm queue", priorityShort: "P", type: "Type", waiting: "Waiting", sla: "SLA",
  state: "State", noAlarms: "No open alarms", selectAlarm: "Select an alarm to see it", handover: "Hand-over",
  soundOn: "Enable sound", soundOff: "Mute", live_open: "Live", live_connecting: "Connecting…",
  live_closed: "Disconnected, reconnecting…", new: "New", acknowledged: "Acknowledged", in_progress: "In progress",
  resolved: "Resolved", acknowledge: "Acknowledge", callReached: "Call back: reached", callNoAnswer: "Call back: no answer",
  notifyContacts: "Contacts notified", dispatch: "Dispatch", call120: "Call 120", call119: "Call 119", resolve: "Resolve",
  note: "Note", addNote: "Add", resolveTitle: "Resolve", outcome: "Outcome", reachMethod: "How the resident was reached",
  notes: "Notes", cancel: "Cancel", resident: "Resident", address: "Address", members: "Household", conditions: "Conditions",
  contacts: "Emergency contacts", keyholder: "keyholder", caregivers: "Nearest caregivers", onShift: "on shift",
  offShift: "off shift", last24h: "Devices, last 24 h", trace: "Trace", device: "Device", events: "events",
  overdue: "overdue", newCritical: "New critical alarm", escalatedAlarm: "Alarm unanswered", linked: "Linked alarms",
  substituteCover: "Substitute / manual cover needed", call: "Call",
  keysHelp: "Keys: ↑/↓ or J/K select · A acknowledge · C reached · X no answer · D dispatch · E call 120 · R resolve · N note · H hand-over",
  assisted_by_phone: "Assisted by phone", assisted_at_home: "Assisted at home", taken_to_hospital: "Taken to hospital",
  false_alarm: "False alarm", device_test: "Device test", resident_cancelled: "Resident cancelled",
  device_fixed: "Device fixed", referred: "Referred", phone: "Phone", device_voice: "Device voice",
  staff_at_home: "Staff at home", contact_at_home: "Contact at home", emergency_services: "Emergency services",
  not_reached: "Not reached (dispatched)", age: "y", dispatched: "Dispatched", vitals: "Vitals", noRecords: "None",
  km: "km", years: "y", system: "system", opened: "opened", event_attached: "pressed again", call_back: "call back",
  notify_contacts: "contacts notified", call_emergency: "emergency services called", escalate: "escalated",
  resident_cancelled: "resident cancelled", substitute_cover: "substitute cover needed",
  loading: "Loading the resident card…", cardFailed: "This alarm's details cannot be shown",
  waitForCard: "The selected alarm's details have not arrived yet; no action for now",
  keysHelpReadOnly: "Keys: ↑/↓ or J/K select · H hand-over", reached: "reached", no_answer: "no answer", busy: "busy",
  acknowledged_by: "taken by", staleSelection: "The selected alarm changed; the action was cancelled",
});

const OUTCOMES = ["assisted_by_phone", "assisted_at_home", "taken_to_hospital", "false_alarm", "device_test",
  "resident_cancelled", "device_fixed", "referred"];
const REACH = ["phone", "device_voice", "staff_at_home", "contact_at_home", "emergency_services", "not_reached"];

if (!token()) location.href = "/ui/";
translatePage();

const alarms = new Map();
let selectedId = null;
let version = Number.MAX_SAFE_INTEGER;
let socket = null;
let soundEnabled = localStorage.getItem("console.sound") === "on";
const cardCache = new Map();
const cardLoads = new Map(); // alarm id → the card request in flight
// What the detail panel shows: the card of exactly one alarm, or null while it is cleared (loading, failed,
// nothing selected). Actions are possible only when `loaded.id` is the selected alarm's id.
let loaded = null;
let loadSeq = 0;
let canHandle = false; // the user may act on alarms (permission alarms.handle from /api/auth/me)

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  return node;
};
// The server's label for the reader's language (the priority table's), else the page's own words for the code.
const label = (alarm) => (currentLocale() === "en" ? alarm.type_label_en : alarm.type_label_zh) || codeLabel("alarmType", alarm.type);

function duration(ms) {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(sec).padStart(2, "0")}`;
}

function dueOf(alarm) {
  if (alarm.state === "new") return alarm.ack_due_at;
  return alarm.reached_at ? alarm.resolve_due_at : alarm.reach_due_at;
}

// --- sound and banner ---
let audio = null;
function beep(times = 3) {
  if (!soundEnabled) return;
  audio = audio || new AudioContext();
  for (let i = 0; i < times; i++) {
    const osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + i * 0.35);
    osc.stop(audio.currentTime + i * 0.35 + 0.2);
  }
}
function banner(text, kind = "alert") {
  const node = $("#banner");
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(banner.timer);
  banner.timer = setTimeout(() => { node.hidden = true; }, 8000);
}
function updateSoundButton() { $("#sound").textContent = t(soundEnabled ? "soundOff" : "soundOn"); }
$("#sound").addEventListener("click", () => {
  soundEnabled = !soundEnabled;
  localStorage.setItem("console.sound", soundEnabled ? "on" : "off");
  updateSoundButton();
  if (soundEnabled) beep(1);
});
updateSoundButton();

// --- applying changes ---
function apply(alarm, { alert = true } = {}) {
  const before = alarms.get(alarm.id);
  if (before && before.version > alarm.version) return; // an older copy arriving late
  version = version === Number.MAX_SAFE_INTEGER ? alarm.version : Math.max(version, alarm.version);
  if (alarm.state === "resolved") alarms.delete(alarm.id);
  else alarms.set(alarm.id, alarm);
  cardCache.delete(alarm.id);
  cardLoads.delete(alarm.id); // a card requested before this change is shown once, not kept
  if (alert && !before && alarm.state === "new" && alarm.priority <= 2) {
    banner(`${t("newCritical")}: ${label(alarm)} · ${alarm.resident_name ?? alarm.device_serial} · ${alarm.community ?? ""}`);
    beep(3);
  } else if (alert && before && alarm.escalation_level > before.escalation_level && alarm.state === "new") {
    banner(`${t("escalatedAlarm")}: #${alarm.id} ${label(alarm)} · ${alarm.resident_name ?? alarm.device_serial}`);
    beep(2);
  }
}

function sorted() {
  return [...alarms.values()].sort((a, b) => a.priority - b.priority || a.opened_at.localeCompare(b.opened_at) || a.id - b.id);
}

function renderQueue() {
  const now = Date.now();
  const rows = sorted().map((alarm) => {
    const due = new Date(dueOf(alarm)).getTime() - now;
    const classes = [`p${alarm.priority}`, alarm.state, alarm.escalation_level ? "escalated" : "",
      alarm.id === selectedId ? "selected" : ""].join(" ");
    return el("tr", { class: classes, "data-alarm-id": alarm.id, onclick: () => select(alarm.id) },
      el("td", {}, String(alarm.priority)),
      el("td", {}, label(alarm), alarm.event_count > 1 ? ` ×${alarm.event_count}` : ""),
      el("td", {}, alarm.resident_name ?? alarm.device_serial,
        alarm.resident_age ? el("span", { class: "muted" }, ` ${alarm.resident_age}${t("years")}`) : ""),
      el("td", {}, alarm.community ?? "—"),
      el("td", { class: "waiting" }, duration(now - new Date(alarm.opened_at).getTime())),
      el("td", { class: due < 0 ? "sla overdue" : "sla" }, due < 0 ? `+${duration(due)}` : duration(due)),
      el("td", {}, el("span", { class: `state ${alarm.state}` }, t(alarm.state))));
  });
  $("#queue tbody").replaceChildren(...rows);
  $("#empty").hidden = rows.length > 0;
  $("#queue-count").textContent = `(${rows.length})`;
  const waiting = [...alarms.values()].filter((a) => a.state === "new").length;
  $("#counts").textContent = `${t("new")}: ${waiting}`;
}

// --- detail and card ---
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
function actionableId() {
  if (!canHandle || !loaded || loaded.id !== selectedId || loaded.card.alarm.id !== loaded.id) return null;
  return loaded.id;
}

// Why no action is possible right now, on the banner.
function refuseAction() {
  const state = $("#detail").dataset.state;
  if (state === "failed") banner($("#detail [data-detail-message]")?.textContent || t("cardFailed"), "error");
  else banner(t(state === "loading" ? "waitForCard" : "staleSelection"), "error");
}

// Run an action for the loaded card's alarm; refuse (and say so) when the selection moved on.
function onLoaded(handler) {
  return () => {
    const id = actionableId();
    if (id === null) {
      if (canHandle) refuseAction();
      return;
    }
    handler(id, loaded.card);
  };
}

function actionButton(key, labelKey, kbd, enabled, handler, cls = "") {
  return el("button", { type: "button", class: cls, "data-action": key, disabled: !enabled, onclick: handler },
    t(labelKey), kbd ? el("kbd", {}, kbd) : "");
}

function actionBar(alarm, card) {
  if (!canHandle) return el("p", { class: "muted read-only", "data-read-only": "" }, t("readOnlyConsole"));
  const ready = card !== null;
  const acting = ready && (alarm.state === "acknowledged" || alarm.state === "in_progress");
  return el("div", { class: "actions", "data-ready": ready ? "yes" : "no" },
    actionButton("acknowledge", "acknowledge", "A", ready && alarm.state === "new", onLoaded((id) => acknowledge(id)), "primary"),
    actionButton("call-reached", "callReached", "C", acting, onLoaded((id) => act(id, { action: "call_back", result: "reached" }))),
    actionButton("call-no-answer", "callNoAnswer", "X", acting, onLoaded((id) => act(id, { action: "call_back", result: "no_answer" }))),
    actionButton("notify", "notifyContacts", "", acting, onLoaded((id) => act(id, { action: "notify_contacts", result: "reached" }))),
    actionButton("dispatch", "dispatch", "D", acting, onLoaded((id, c) => dispatch(id, c.caregivers[0]?.id))),
    actionButton("call-120", "call120", "E", acting, onLoaded((id) => act(id, { action: "call_emergency", service: "120" })), "danger"),
    actionButton("call-119", "call119", "", acting, onLoaded((id) => act(id, { action: "call_emergency", service: "119" })), "danger"),
    actionButton("resolve", "resolve", "R", acting, onLoaded((id) => openResolve(id)), "primary"));
}

function detailHead(alarm) {
  return el("div", { class: "detail-head" },
    el("h2", {}, `#${alarm.id} ${label(alarm)}`),
    el("span", { class: `state ${alarm.state}` }, t(alarm.state)),
    el("span", { class: "muted" }, `${t("device")} ${alarm.device_serial} · ${alarm.event_count} ${t("events")} · ${formatTime(alarm.opened_at)}`),
    alarm.acknowledged_by_name ? el("span", { class: "muted" }, `${t("acknowledged_by")}: ${alarm.acknowledged_by_name}`) : "",
    alarm.dispatched ? el("span", { class: "state in_progress" }, t("dispatched")) : "",
    alarm.substitute_cover_required ? el("span", { class: "state new" }, t("substituteCover")) : "",
    alarm.linked.length ? el("span", { class: "muted" }, `${t("linked")}: ${alarm.linked.map((i) => `#${i}`).join(" ")}`) : "");
}

// Clear the panel: nothing of any earlier card stays on screen, and every action is disabled.
function clearDetail(message, state) {
  loaded = null;
  const panel = $("#detail");
  panel.dataset.alarmId = "";
  panel.dataset.state = state;
  const alarm = alarms.get(selectedId);
  panel.replaceChildren(...(alarm ? [detailHead(alarm), actionBar(alarm, null)] : []),
    el("p", { class: state === "failed" ? "error" : "muted", "data-detail-message": state }, message));
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
    .map(([key, value]) => `${codeLabel("vital", key)} ${typeof value === "boolean" ? t(value ? "yes" : "no") : value}`);
  return `${formatTime(v.time)} ${values.join(" ")}`;
}

function traceText(x) {
  const d = x.detail || {};
  const extra = [d.result ? t(d.result) : "", d.service || "", d.outcome ? t(d.outcome) : "",
    d.reach_method ? t(d.reach_method) : ""].filter(Boolean).join(" ");
  const reason = reasonText(x.reason, d);
  return `${formatTime(x.at)} · ${t(x.action)}${extra ? " " + extra : ""} · ${x.user_name ?? t("system")}${reason ? " · " + reason : ""}`;
}

function drawDetail(alarm, entry) {
  const { card, trace } = entry;
  const panel = $("#detail");
  const previousNote = panel.dataset.alarmId === String(alarm.id) ? $("#note-input") : null;
  loaded = entry;
  panel.dataset.alarmId = String(alarm.id);
  panel.dataset.state = "loaded";
  const acting = alarm.state === "acknowledged" || alarm.state === "in_progress";
  const r = card.resident;
  const noteInput = el("input", { id: "note-input", placeholder: t("note"), maxlength: "2000" });
  if (previousNote) noteInput.value = previousNote.value;
  const noteBox = canHandle ? el("div", { class: "note-box" }, noteInput,
    el("button", { type: "button", "data-action": "note", onclick: onLoaded((id) => addNote(id, noteInput)) }, t("addNote"))) : "";
  const residentBlock = r ? el("div", { class: "card-block" },
    el("div", { class: "grid2" },
      el("div", { class: "kv" }, el("b", {}, t("resident")),
        `${r.resident.name} · ${t(r.resident.gender)} · ${r.age}${t("years")}`,
        r.resident.phone ? el("a", { class: "call", href: `tel:${r.resident.phone}` }, `${t("call")} ${r.resident.phone}`) : ""),
      el("div", { class: "kv" }, el("b", {}, t("capability")), t(r.resident.capability_level), " ",
        ...r.resident.categories.map((c) => el("span", { class: "tag" }, t(c)))),
      el("div", { class: "kv" }, el("b", {}, t("address")), `${r.household.address}（${r.community.name}）`,
        r.household.access_notes ? el("div", { class: "muted" }, r.household.access_notes) : ""),
      el("div", { class: "kv" }, el("b", {}, t("conditions")), r.resident.health_conditions.join("、") || "—")),
    el("h3", {}, t("contacts")),
    el("ul", {}, ...r.contacts.map((c) => el("li", { "data-contact": c.id },
      `${c.priority}. ${c.name}（${c.relation}）`, c.is_keyholder ? el("span", { class: "tag" }, t("keyholder")) : "",
      el("a", { class: "call", href: `tel:${c.phone}` }, `${t("call")} ${c.phone}`)))),
    r.members.length ? el("div", { class: "kv" }, el("b", {}, t("members")),
      r.members.map((m) => m.name).join("、")) : "") : "";
  const caregivers = el("div", { class: "card-block" }, el("h3", {}, t("caregivers")),
    el("ul", {}, ...card.caregivers.map((c) => el("li", {},
      `${c.name} · ${c.zone} · ${c.distance_km ?? t("unknown")} ${t("km")} · ${t(c.on_shift ? "onShift" : "offShift")}`,
      el("a", { class: "call", href: `tel:${c.phone}` }, `${t("call")}`),
      canHandle ? el("button", { type: "button", "data-action": "dispatch-to", disabled: !acting,
        onclick: onLoaded((id) => dispatch(id, c.id)) }, t("dispatch")) : ""))));
  const day = card.last_24h;
  const history = el("div", { class: "card-block" }, el("h3", {}, t("last24h")),
    el("ul", {}, ...(day.events.length ? day.events.slice(0, 8).map((e) =>
      el("li", {}, `${formatTime(e.received_at)} · ${e.device_serial} · ${codeLabel("alarmType", e.event_type)}`)) : [el("li", {}, t("noRecords"))])),
    day.vitals.length ? el("div", { class: "kv" }, el("b", {}, t("vitals")),
      day.vitals.slice(0, 3).map(vitalsText).join(" · ")) : "",
    day.device_status.length ? el("div", { class: "kv muted", "data-device-status": "" },
      day.device_status.map(deviceStatusText).join(" | ")) : "");
  const traceBlock = el("div", { class: "card-block" }, el("h3", {}, t("trace")),
    el("ul", { class: "trace" }, ...trace.map((x) => el("li", {}, traceText(x)))));
  panel.replaceChildren(detailHead(alarm), actionBar(alarm, card), noteBox, residentBlock, caregivers, history, traceBlock);
}

async function renderDetail() {
  const id = selectedId;
  const alarm = alarms.get(id);
  if (!alarm) {
    clearDetail(t("selectAlarm"), "empty");
    return;
  }
  const seq = ++loadSeq;
  if (cardCache.has(id)) {
    drawDetail(alarm, cardCache.get(id));
    return;
  }
  // The card is on its way: the same alarm's previous card may stay (with the alarm's new state), another
  // alarm's never does.
  if (loaded && loaded.id === id) drawDetail(alarm, loaded);
  else clearDetail(t("loading"), "loading");
  let entry;
  try {
    entry = await loadCard(id);
  } catch (error) {
    if (seq !== loadSeq || selectedId !== id) return; // a newer selection owns the panel now
    clearDetail(`${t("cardFailed")}: ${errorText(error)}`, "failed");
    showError(error, id);
    return;
  }
  if (seq !== loadSeq || selectedId !== id || !alarms.has(id)) return;
  drawDetail(alarms.get(id), entry);
}

function select(id) {
  selectedId = id;
  renderQueue();
  renderDetail().catch(showError);
}

// An error on the banner in the reader's language; `alarmId` names the alarm it concerns.
function showError(error, alarmId = null) {
  banner(alarmId === null ? errorText(error) : fmt("alarmError", { id: alarmId, message: errorText(error) }), "error");
}

function post(path, body) {
  return api(path, { method: "POST", json: body ?? undefined });
}

async function acknowledge(id) {
  try { apply(await post(`/api/alarms/${id}/acknowledge`), { alert: false }); } catch (e) { showError(e, id); }
  refresh();
}
async function act(id, body) {
  try { apply((await post(`/api/alarms/${id}/actions`, body)).alarm, { alert: false }); } catch (e) { showError(e, id); }
  refresh();
}
async function dispatch(id, staffId) {
  await act(id, { action: "dispatch", staff_id: staffId ?? null });
}
async function addNote(id, input) {
  if (!input.value.trim()) return;
  try { apply(await post(`/api/alarms/${id}/notes`, { text: input.value.trim() }), { alert: false }); input.value = ""; }
  catch (e) { showError(e, id); }
  refresh();
}

function openResolve(id) {
  const dialog = $("#resolve-dialog");
  const alarm = alarms.get(id);
  $("#resolve-dialog h2").textContent = `${t("resolveTitle")} #${id}${alarm ? ` ${label(alarm)} · ${alarm.resident_name ?? alarm.device_serial}` : ""}`;
  $("#outcome").replaceChildren(...OUTCOMES.map((o) => el("option", { value: o }, t(o))));
  $("#reach-method").replaceChildren(...REACH.map((o) => el("option", { value: o }, t(o))));
  $("#resolve-error").textContent = "";
  dialog.dataset.alarmId = id;
  dialog.showModal();
}
$("#resolve-form").addEventListener("submit", async (event) => {
  const dialog = $("#resolve-dialog");
  if (event.submitter?.value !== "ok") return;
  event.preventDefault();
  const id = Number(dialog.dataset.alarmId);
  if (actionableId() !== id) { // the selection or its card changed while the dialog was open
    $("#resolve-error").textContent = t("staleSelection");
    return;
  }
  try {
    apply(await post(`/api/alarms/${id}/resolve`, { outcome: $("#outcome").value, reach_method: $("#reach-method").value,
      notes: $("#resolve-notes").value || null }), { alert: false });
    dialog.close();
    $("#resolve-notes").value = "";
    if (selectedId === id) selectedId = sorted()[0]?.id ?? null;
    refresh();
  } catch (e) {
    $("#resolve-error").textContent = errorText(e);
  }
});

function refresh() {
  renderQueue();
  renderDetail().catch(showError);
}

// --- hand-over ---
async function toggleHandover() {
  const section = $("#handover");
  section.hidden = !section.hidden;
  if (section.hidden) return;
  const items = await api("/api/alarms/handover");
  $("#handover-body").replaceChildren(items.length ? el("table", {}, el("tbody", {}, ...items.map(({ alarm, recent }) =>
    el("tr", {}, el("td", {}, `#${alarm.id}`), el("td", {}, label(alarm)), el("td", {}, alarm.resident_name ?? alarm.device_serial),
      el("td", {}, t(alarm.state)), el("td", {}, recent.map(traceText).join(" / ")))))) :
    el("p", { class: "muted" }, t("noAlarms")));
}
$("#handover-toggle").addEventListener("click", () => toggleHandover().catch(showError));

// --- live connection: WebSocket with catch-up after every reconnect ---
function setLive(state) {
  $("#live").dataset.state = state;
  $("#live-text").textContent = t(`live_${state}`);
}

// The console is not for this role: say so and point to the page that is, instead of reconnecting forever.
function refuse(user) {
  clearInterval(refuse.queueTimer);
  document.body.dataset.mode = "refused";
  $("#live").hidden = true;
  for (const id of ["#sound", "#handover-toggle", "#counts"]) $(id).hidden = true;
  $("#banner").hidden = true;
  const main = el("main", { class: "refused" }, el("section", { class: "panel", id: "refused" },
    el("h2", {}, fmt("consoleRefused", { role: t(user.role) })),
    el("p", {}, el("a", { href: landingFor(user), id: "landing-link" }, t("goToMyPage")))));
  $("main.console").replaceWith(main);
  $("#handover").hidden = true;
}

// Did the server close the socket as a matter of policy (1008, or an application code 4xxx: not signed in, not
// allowed)? Then ask who we are: signed out goes to the sign-in page, not allowed gets the refusal, and only a
// user who is allowed after all tries again, slowly.
function refusedByServer(event) {
  if (event.code !== 1008 && !(event.code >= 4000 && event.code < 5000)) return false;
  me(true).then((user) => {
    if (!can(user, "alarms.read")) refuse(user);
    else setTimeout(connect, 5000 + Math.random() * 5000);
  }).catch((error) => {
    if (error.status !== 401) setTimeout(connect, 5000 + Math.random() * 5000); // 401: api() signed us out
  });
  return true;
}

function connect() {
  setLive("connecting");
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  // The token goes in the first message, never in the URL (URLs end up in logs).
  socket = new WebSocket(`${scheme}://${location.host}/api/alarms/live?since=${version}`);
  let pinger = null;
  socket.onopen = () => {
    socket.send(JSON.stringify({ type: "auth", token: token() }));
    setLive("open");
    pinger = setInterval(() => socket.readyState === 1 && socket.send("ping"), 20000);
  };
  socket.onmessage = async (message) => {
    const data = JSON.parse(message.data);
    if (data.type === "hello") {
      const first = version === Number.MAX_SAFE_INTEGER;
      if (!first) for (const alarm of data.missed) apply(alarm);
      // The open queue is the truth: versions are taken before commit, so a change committed late can
      // carry a lower version than one already seen. Reload it on every (re)connection.
      const open = await api("/api/alarms");
      const openIds = new Set(open.map((a) => a.id));
      for (const id of [...alarms.keys()]) if (!openIds.has(id)) alarms.delete(id);
      for (const alarm of open) apply(alarm, { alert: !first });
      version = Math.max(data.version, ...open.map((a) => a.version), version === Number.MAX_SAFE_INTEGER ? 0 : version);
      if (selectedId === null) selectedId = sorted()[0]?.id ?? null;
      refresh();
    } else if (data.type === "alarm") {
      apply(data.alarm);
      refresh();
    } else if (data.type === "resync") {
      socket.close();
    }
  };
  socket.onclose = (event) => {
    clearInterval(pinger);
    if (event.code === 4401) return logout(); // token expired or refused: sign in again
    setLive("closed");
    if (refusedByServer(event)) return; // not allowed (1008, 4xxx): no endless reconnecting
    setTimeout(connect, 1000 + Math.random() * 1000);
  };
}

// --- keyboard ---
document.addEventListener("keydown", (event) => {
  if (document.body.dataset.mode === "refused") return;
  if (event.target.matches("input, textarea, select") || $("#resolve-dialog").open) return;
  const list = sorted();
  const index = list.findIndex((a) => a.id === selectedId);
  const key = event.key.toLowerCase();
  if (key === "arrowdown" || key === "j") select(list[Math.min(list.length - 1, index + 1)]?.id ?? null);
  else if (key === "arrowup" || key === "k") select(list[Math.max(0, index - 1)]?.id ?? null);
  else if (key === "h") toggleHandover().catch(showError);
  else if (!canHandle || !"acxdern".includes(key) || key.length !== 1) return;
  else if (actionableId() === null) refuseAction(); // the selected alarm's card is not (yet) loaded: no action
  else {
    const button = { a: "acknowledge", c: "call-reached", x: "call-no-answer", d: "dispatch", e: "call-120", r: "resolve" }[key];
    if (button) {
      const node = $(`#detail button[data-action="${button}"]`);
      if (node && !node.disabled) node.click(); // the same checks as a click, and nothing a disabled button refuses
    } else if (key === "n") {
      event.preventDefault();
      $("#note-input")?.focus();
    }
  }
  event.preventDefault();
});

$("#lang").addEventListener("click", toggleLocale);
$("#logout").addEventListener("click", logout);

async function start() {
  let user;
  try {
    user = await me();
  } catch (error) {
    if (error.status === 401) return; // api() has sent the user to the sign-in page
    banner(errorText(error), "error");
    setTimeout(start, 3000);
    return;
  }
  $("#who").textContent = `${user.full_name} (${t(user.role)})`;
  if (!can(user, "alarms.read")) {
    refuse(user);
    return;
  }
  canHandle = can(user, "alarms.handle");
  document.body.dataset.mode = canHandle ? "handle" : "read-only";
  if (!canHandle) $(".keys").textContent = t("keysHelpReadOnly");
  renderDetail().catch(showError);
  refuse.queueTimer = setInterval(renderQueue, 1000);
  connect();
}
start();
