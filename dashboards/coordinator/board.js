// Drawing the board: the alerts first (acknowledge, resolve), then the lanes (unassigned, one per staff member).
import { ZONE, hhmm, span, state } from "/ui/coordinator/state.js";
import { $, el, renderPart } from "/ui/shared/dom.js";
import { errorText, fmt, formatTime, label, t } from "/ui/shared/i18n.js";
import { api } from "/ui/shared/session.js";

let onOpenTask = () => {};
let onChanged = () => {};

export function wireBoard({ openTask, changed }) {
  onOpenTask = openTask;
  onChanged = changed;
  $("#resolve-form").addEventListener("submit", submitResolve);
}

export function banner(text, kind = "error") {
  const node = $("#banner");
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(banner.timer);
  banner.timer = setTimeout(() => { node.hidden = true; }, 8000);
}

// An alert refusal in words: its state in the alert's own words.
export function alertError(error) {
  if (error?.code === "alert_state_conflict" && error.fields?.state) error.fields.state = label("alertState", error.fields.state);
  return errorText(error);
}

function alertSubject(alert) {
  const parts = [];
  if (alert.resident_name) parts.push(alert.resident_name);
  if (alert.staff_name) parts.push(alert.staff_name);
  if (alert.area_name) parts.push(alert.area_name);
  return parts.join(" · ");
}

function alertRow(alert) {
  const task = alert.task_id ? el("button", { type: "button", class: "link", "data-open-task": alert.task_id,
    onclick: () => onOpenTask(alert.task_id) }, fmt("taskTitle", { id: alert.task_id })) : "";
  const handle = state.canHandleAlerts;
  return el("li", { class: `alert sev${alert.severity} ${alert.state}`, "data-alert-id": alert.id, "data-kind": alert.kind },
    el("span", { class: "sev" }, String(alert.severity)),
    el("b", {}, label("alertKind", alert.kind)),
    el("span", { class: "subject" }, alertSubject(alert)),
    el("span", { class: "message muted" }, alert.message),
    task,
    el("span", { class: `tag state-${alert.state}` }, label("alertState", alert.state)),
    alert.acknowledged_by_name ? el("span", { class: "muted" }, fmt("ackBy", { name: alert.acknowledged_by_name })) : "",
    el("span", { class: "muted" }, formatTime(alert.opened_at)),
    handle && alert.state === "open" ? el("button", { type: "button", "data-action": "acknowledge",
      onclick: () => acknowledge(alert.id) }, t("acknowledgeAlert")) : "",
    handle ? el("button", { type: "button", "data-action": "resolve", onclick: () => openResolve(alert) }, t("resolveAlert")) : "");
}

export function renderAlerts(alerts) {
  $("#alert-count").textContent = fmt("alertCount", { n: alerts.length });
  renderPart($("#alerts"), JSON.stringify([alerts, state.canHandleAlerts]), () => alerts.length
    ? el("ul", { class: "alert-list" }, ...alerts.map(alertRow))
    : el("p", { class: "muted", "data-empty": "alerts" }, t("noAlerts")));
}

async function acknowledge(id) {
  try {
    await api(`/api/alerts/${id}/acknowledge`, { method: "POST" });
  } catch (error) {
    banner(alertError(error));
  }
  onChanged(true);
}

function openResolve(alert) {
  const dialog = $("#resolve-dialog");
  dialog.dataset.resolving = alert.id;
  $("#resolve-dialog h2").textContent = `${t("resolveAlert")} · ${label("alertKind", alert.kind)} ${alertSubject(alert)}`;
  $("#resolve-error").textContent = "";
  $("#resolution").value = "";
  dialog.showModal();
}

async function submitResolve(event) {
  if (event.submitter?.value !== "ok") return;
  event.preventDefault();
  const dialog = $("#resolve-dialog");
  const resolution = $("#resolution").value.trim();
  if (!resolution) {
    $("#resolve-error").textContent = t("error.validation_error");
    return;
  }
  try {
    await api(`/api/alerts/${dialog.dataset.resolving}/resolve`, { json: { resolution } });
    dialog.close();
    onChanged(true);
  } catch (error) {
    $("#resolve-error").textContent = alertError(error);
  }
}

// A task's card. In a caregiver's lane: its place in the route and its planned start (HH:mm, Asia/Shanghai) first,
// the window after; an urgent task inserted into the live route carries a badge (紧急插单).
function taskCard(task, board) {
  const late = board.late.includes(task.id), missed = board.missed.includes(task.id);
  const classes = ["task", `status-${task.status}`, late ? "late" : "", missed ? "missed" : "",
    task.id === state.openTaskId ? "open" : "", `p${task.priority}`, task.urgent_inserted ? "inserted" : ""].filter(Boolean).join(" ");
  const routed = task.planned_start ? el("span", { class: "planned", "data-planned": hhmm(task.planned_start), title: t("plannedStart") },
    task.route_sequence ? el("span", { class: "seq" }, String(task.route_sequence)) : "", hhmm(task.planned_start)) : "";
  return el("li", { class: classes, "data-task-id": task.id, "data-sequence": task.route_sequence ?? "", tabindex: "0",
    onclick: () => onOpenTask(task.id), onkeydown: (e) => { if (e.key === "Enter") onOpenTask(task.id); } },
    el("div", { class: "task-head" },
      routed,
      el("span", { class: "time", title: t("window") }, span(task.window_start, task.window_end)),
      el("b", {}, label("taskKind", task.kind)),
      task.service ? el("span", { class: "muted" }, label("purchasedService", task.service, label("taskKind", task.service))) : ""),
    el("div", {}, task.resident_name ?? "—"),
    el("div", { class: "task-tags" },
      el("span", { class: `tag status ${task.status}` }, label("taskStatus", task.status)),
      task.urgent_inserted ? el("span", { class: "tag flag inserted", "data-badge": "urgent-inserted" }, t("urgentInserted")) : "",
      late ? el("span", { class: "tag flag late" }, t("late")) : "",
      missed ? el("span", { class: "tag flag missed" }, t("missed")) : ""));
}

function shiftText(staff) {
  if (!staff.shifts.length) return t("noShift");
  return staff.shifts.map((s) => `${span(s.starts_at, s.ends_at)}${s.on_call ? ` ${t("onCall")}` : ""}`).join(", ");
}

function lane({ id, title, sub, load, km = "", tasks, board, kind }) {
  return el("section", { class: `lane ${kind}`, "data-lane": id },
    el("header", {}, el("h3", {}, title), sub, load, km),
    tasks.length ? el("ul", { class: "tasks" }, ...tasks.map((task) => taskCard(task, board))) : el("p", { class: "muted" }, t("noTasks")));
}

export function renderLanes(board) {
  const total = board.unassigned.length + board.staff.reduce((n, s) => n + s.tasks.length, 0);
  $("#task-count").textContent = fmt("taskCount", { n: total });
  const counts = Object.entries(board.counts).map(([status, n]) => `${label("taskStatus", status)} ${n}`).join(" · ");
  $("#counts").textContent = `${board.area.name} · ${board.date} · ${counts}`;
  renderPart($("#lanes"), JSON.stringify([board.unassigned, board.staff, board.late, board.missed, state.openTaskId]), () => [
    lane({ id: "unassigned", kind: "unassigned", title: t("unassigned"), sub: "", load: "", tasks: board.unassigned, board }),
    ...board.staff.map((staff) => lane({
      id: `staff-${staff.id}`, kind: "staff", board, tasks: staff.tasks, title: staff.name,
      sub: el("div", { class: "muted" }, `${label("staffRole", staff.role)} · ${shiftText(staff)}`,
        staff.on_leave ? el("span", { class: "tag flag" }, t("onLeave")) : ""),
      load: el("div", { class: staff.load > staff.max_tasks_per_shift ? "load over" : staff.load === staff.max_tasks_per_shift ? "load full" : "load",
        "data-load": `${staff.load}/${staff.max_tasks_per_shift}` }, `${t("load")} ${staff.load}/${staff.max_tasks_per_shift}`),
      km: staff.travel_km === null || staff.travel_km === undefined ? ""
        : el("div", { class: "lane-km", "data-km": staff.travel_km }, `${t("routeKm")} ${fmt("km", { km: staff.travel_km.toFixed(1) })}`),
    })),
  ]);
}

export function renderUpdated(board) {
  $("#updated").textContent = fmt("updatedAt", { at: hhmm(board.generated_at) });
  $("#updated").title = `${ZONE} ${formatTime(board.generated_at)}`;
}
