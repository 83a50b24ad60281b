// The queue: applying alarm changes (from the socket or an action's answer) and drawing the queue table.
import { banner, beep } from "/ui/operator/alerts.js";
import { state } from "/ui/operator/state.js";
import { $, el } from "/ui/shared/dom.js";
import { currentLocale, label, t } from "/ui/shared/i18n.js";

// An alarm's type in words: the priority table's label the server sent, else the device event's label.
export const typeLabel = (alarm) =>
  (currentLocale() === "en" ? alarm.type_label_en : alarm.type_label_zh) || label("eventType", alarm.type);

// Subscribers to "the alarm with this id changed" (detail.js drops the card it had for it).
const changeListeners = [];
export function onAlarmChange(listener) { changeListeners.push(listener); }

// Take a newer copy of an alarm (an older one arriving late is ignored). Alerts for a new urgent alarm and an
// escalation unless `alert` is false (the console's own actions, the first load).
export function apply(alarm, { alert = true } = {}) {
  const before = state.alarms.get(alarm.id);
  if (before && before.version > alarm.version) return;
  state.version = state.version === null ? alarm.version : Math.max(state.version, alarm.version);
  if (alarm.state === "resolved") state.alarms.delete(alarm.id);
  else state.alarms.set(alarm.id, alarm);
  for (const listener of changeListeners) listener(alarm.id);
  if (alert && !before && alarm.state === "new" && alarm.priority <= 2) {
    banner(`${t("newCritical")}: ${typeLabel(alarm)} · ${subjectOf(alarm)} · ${alarm.community ?? ""}`);
    beep(3);
  } else if (alert && before && alarm.escalation_level > before.escalation_level && alarm.state === "new") {
    banner(`${t("escalatedAlarm")}: #${alarm.id} ${typeLabel(alarm)} · ${subjectOf(alarm)}`);
    beep(2);
  }
}

// Forget every alarm not in `openIds` (the open queue is the truth after a reconnection).
export function keepOnly(openIds) {
  for (const id of [...state.alarms.keys()]) if (!openIds.has(id)) state.alarms.delete(id);
}

export function sorted() {
  return [...state.alarms.values()].sort((a, b) => a.priority - b.priority || a.opened_at.localeCompare(b.opened_at) || a.id - b.id);
}

// A welfare call (关怀呼叫): an alarm the services opened (a meal not collected, a visit nobody answered), no device.
export const isWelfare = (alarm) => alarm.source === "welfare";

// What the queue shows under the current filter (全部 / 告警 / 关怀呼叫), in queue order.
export function visible() {
  if (state.filter === "all") return sorted();
  return sorted().filter((alarm) => (state.filter === "welfare") === isWelfare(alarm));
}

// Who or what an alarm is about, in one line: the resident, else the device (a welfare call always has a resident).
export const subjectOf = (alarm) => alarm.resident_name ?? alarm.device_serial ?? "—";

export function welfareBadge(alarm) {
  return isWelfare(alarm) ? el("span", { class: "badge welfare", "data-welfare": "" }, t("welfareCall")) : "";
}

export function duration(ms) {
  const s = Math.max(0, Math.round(Math.abs(ms) / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(sec).padStart(2, "0")}`;
}

function dueOf(alarm) {
  if (alarm.state === "new") return alarm.ack_due_at;
  return alarm.reached_at ? alarm.resolve_due_at : alarm.reach_due_at;
}

export function renderQueue(onSelect) {
  const now = Date.now();
  const rows = visible().map((alarm) => {
    const due = new Date(dueOf(alarm)).getTime() - now;
    const classes = [`p${alarm.priority}`, alarm.state, alarm.escalation_level ? "escalated" : "",
      alarm.id === state.selectedId ? "selected" : ""].join(" ");
    return el("tr", { class: classes, "data-alarm-id": alarm.id, "data-source": alarm.source ?? "device", onclick: () => onSelect(alarm.id) },
      el("td", {}, String(alarm.priority)),
      el("td", {}, welfareBadge(alarm), typeLabel(alarm), alarm.event_count > 1 ? ` ×${alarm.event_count}` : ""),
      el("td", {}, subjectOf(alarm),
        alarm.resident_age ? el("span", { class: "muted" }, ` ${alarm.resident_age}${t("years")}`) : ""),
      el("td", {}, alarm.community ?? "—"),
      el("td", { class: "waiting" }, duration(now - new Date(alarm.opened_at).getTime())),
      el("td", { class: due < 0 ? "sla overdue" : "sla" }, due < 0 ? `+${duration(due)}` : duration(due)),
      el("td", {}, el("span", { class: `state ${alarm.state}` }, label("alarmState", alarm.state))));
  });
  $("#queue tbody").replaceChildren(...rows);
  $("#empty").hidden = rows.length > 0;
  $("#queue-count").textContent = `(${rows.length})`;
  for (const button of document.querySelectorAll("[data-filter]")) button.classList.toggle("active", button.dataset.filter === state.filter);
  const waiting = [...state.alarms.values()].filter((a) => a.state === "new").length;
  $("#counts").textContent = `${label("alarmState", "new")}: ${waiting}`;
}
