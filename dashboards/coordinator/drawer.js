// The task drawer: the task, reassigning it (POST /api/tasks/{id}/assign; a refusal lists the roster's reasons in
// words), its trace and EVV (GET /api/tasks/{id}), and the resident's care plan and assessment history
// (resident.js). A panel whose request is refused says it could not load, and the rest of the drawer works.
import { banner } from "/ui/coordinator/board.js";
import { loadResident } from "/ui/coordinator/resident.js";
import { span, state, tasksById } from "/ui/coordinator/state.js";
import { $, el, renderPart } from "/ui/shared/dom.js";
import { errorText, fmt, formatTime, label, t } from "/ui/shared/i18n.js";
import { api } from "/ui/shared/session.js";

let onChanged = () => {};
let seq = 0;

export function wireDrawer({ changed }) {
  onChanged = changed;
  $("#drawer-close").addEventListener("click", closeDrawer);
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && !$("#resolve-dialog").open) closeDrawer(); });
}

export function closeDrawer() {
  state.openTaskId = null;
  $("#drawer").hidden = true;
  for (const id of ["#drawer-task", "#drawer-assign", "#drawer-trace", "#drawer-resident"]) {
    $(id).replaceChildren();
    delete $(id).dataset.key;
  }
  onChanged(false);
}

const failed = (error) => el("p", { class: "error", "data-failed": "" }, fmt("panelFailed", { message: errorText(error) }));
const kv = (key, ...value) => el("div", { class: "kv" }, el("b", {}, t(key)), ...value);

function taskPart(task) {
  return el("div", { class: "drawer-task", "data-task": task.id },
    el("h2", {}, `${fmt("taskTitle", { id: task.id })} ${label("taskKind", task.kind)}`),
    el("span", { class: `tag status ${task.status}` }, label("taskStatus", task.status)),
    state.board?.late.includes(task.id) ? el("span", { class: "tag flag late" }, t("late")) : "",
    state.board?.missed.includes(task.id) ? el("span", { class: "tag flag missed" }, t("missed")) : "",
    kv("window", span(task.window_start, task.window_end), " ", el("span", { class: "muted" }, formatTime(task.window_start))),
    kv("resident", task.resident_name ?? "—"),
    kv("address", task.address ?? "—"),
    kv("assignee", task.assignee_name ?? t("unassigned")),
    kv("source", label("taskSource", task.source)),
    task.service ? kv("services", label("purchasedService", task.service, label("taskKind", task.service))) : "",
    task.required_skill ? kv("skill", label("skill", task.required_skill)) : "",
    task.status_reason ? kv("reason", label("taskEngineReason", task.status_reason, task.status_reason)) : "",
    task.notes ? kv("notes", task.notes) : "");
}

// The staff members a task can go to: the board's, those on shift first, with their load.
function assignPart(task) {
  if (!state.canManage || !["planned", "assigned", "published"].includes(task.status)) return [];
  const staff = [...(state.board?.staff || [])].filter((s) => s.id !== task.assignee_staff_id)
    .sort((a, b) => (b.shifts.length > 0) - (a.shifts.length > 0) || a.load - b.load);
  const select = el("select", { id: "assign-staff" }, el("option", { value: "" }, t("chooseStaff")),
    ...staff.map((s) => el("option", { value: s.id },
      `${s.name} · ${s.shifts.length ? span(s.shifts[0].starts_at, s.shifts[0].ends_at) : t("noShift")} · ${s.load}/${s.max_tasks_per_shift}`
      + (s.load >= s.max_tasks_per_shift ? ` ${t("overLoad")}` : ""))));
  const reason = el("input", { id: "assign-reason", maxlength: "500", placeholder: t("reason") });
  const result = el("div", { id: "assign-result", role: "alert" });
  // The board reloads after an assignment and redraws this part (its staff list changed): keep the result shown.
  if (lastResult?.taskId === task.id) {
    result.className = lastResult.node.className;
    result.append(...[...lastResult.node.childNodes].map((node) => node.cloneNode(true)));
  }
  const button = el("button", { type: "button", id: "assign-submit", class: "primary", onclick: () => reassign(task.id, result) }, t("assign"));
  return el("div", { class: "assign" }, el("h3", {}, t("reassign")), el("label", { for: "assign-staff" }, t("assignTo")), select, reason, button, result);
}

// A refusal's reasons: 422 `staff_not_assignable` carries `reasons`, the roster's codes (roster.models.Unassignable:
// not_on_shift, on_leave, missing_skill, certificate_missing...), each shown in words (labels `unassignableReason`).
function reasonsOf(error) {
  const raw = error.fields?.reasons;
  return (Array.isArray(raw) ? raw : []).map((code) => el("li", { "data-reason": code }, label("unassignableReason", code)));
}

let lastResult = null; // {taskId, node}: the last assignment's result, shown again when the part is redrawn

async function reassign(taskId, result) {
  lastResult = { taskId, node: result };
  const staffId = Number($("#assign-staff").value);
  if (!staffId) return;
  const reason = $("#assign-reason").value.trim();
  result.className = "";
  result.replaceChildren();
  try {
    await api(`/api/tasks/${taskId}/assign`, { json: { staff_id: staffId, ...(reason ? { reason } : {}) } });
    const name = state.board?.staff.find((s) => s.id === staffId)?.name ?? `#${staffId}`;
    result.className = "ok";
    result.textContent = fmt("assigned", { name });
    onChanged(true);
    loadTrace(taskId, seq);
  } catch (error) {
    result.className = "error";
    if (error.code === "staff_not_assignable") {
      const reasons = reasonsOf(error);
      result.append(el("span", {}, t("notAssignable")), reasons.length ? el("ul", { "data-reasons": "" }, ...reasons) : "");
    } else {
      result.textContent = errorText(error);
    }
  }
}

// One line of a task's trace (TaskEventPublic): when, what, the status move, who (the user, else the staff member,
// else the system), and why (a task engine's reason code in words, anything else as written).
function traceLine(x) {
  const who = x.user_name ?? x.staff_name ?? t("system");
  const move = x.from_status && x.from_status !== x.to_status
    ? `${label("taskStatus", x.from_status)} → ${label("taskStatus", x.to_status)}` : label("taskStatus", x.to_status);
  const reason = x.reason ? label("taskEngineReason", x.reason, x.reason) : "";
  return el("li", { "data-action": x.action }, `${formatTime(x.at)} · ${label("taskAction", x.action)} · ${move} · ${who}${reason ? ` · ${reason}` : ""}`);
}

// The six EVV items of a visit that has begun (GET /api/tasks/{id} `evv`).
function evvBlock(evv) {
  if (!evv?.start) return "";
  const verified = evv.location_verified === null ? t("unknown") : t(evv.location_verified ? "locationOk" : "locationOff");
  return el("div", { class: "kv", "data-evv": evv.complete ? "complete" : "partial" }, el("b", {}, t("evv")),
    [label("purchasedService", evv.service_type, label("taskKind", evv.service_type)), evv.caregiver_name ?? "—",
      span(evv.start, evv.end), verified].join(" · "));
}

async function loadTrace(taskId, mySeq) {
  const node = $("#drawer-trace");
  try {
    const body = await api(`/api/tasks/${taskId}`);
    if (mySeq !== seq) return;
    const trace = body.trace;
    node.replaceChildren(el("div", { class: "card-block" }, el("h3", {}, t("trace")), evvBlock(body.evv),
      el("ul", { class: "trace", "data-trace": taskId }, ...(trace.length ? trace.map(traceLine) : [el("li", {}, t("noRecords"))]))));
  } catch (error) {
    if (mySeq !== seq) return;
    node.replaceChildren(el("div", { class: "card-block" }, el("h3", {}, t("trace")), failed(error)));
  }
}

// Open (or refresh, after a board reload) the drawer of a task of the board.
export function openTask(taskId) {
  const task = tasksById(state.board).get(taskId);
  const drawer = $("#drawer");
  const fresh = state.openTaskId !== taskId || drawer.hidden;
  state.openTaskId = taskId;
  drawer.hidden = false;
  if (!task) { // not on this day's board (an alert's task of another day): the trace still tells its story
    renderPart($("#drawer-task"), `missing-${taskId}`, () => el("h2", {}, fmt("taskTitle", { id: taskId })));
    renderPart($("#drawer-assign"), "", () => []);
  } else {
    renderPart($("#drawer-task"), JSON.stringify([task, state.board.late, state.board.missed]), () => taskPart(task));
    // the reassign form is built once per task and status: a reload never replaces what is being chosen or typed
    renderPart($("#drawer-assign"), JSON.stringify([task.id, task.status, task.assignee_staff_id, state.canManage]), () => assignPart(task));
  }
  if (fresh) {
    const mine = ++seq;
    $("#drawer-trace").replaceChildren(el("p", { class: "muted" }, "…"));
    $("#drawer-resident").replaceChildren();
    loadTrace(taskId, mine);
    loadResident(task?.resident_id, () => mine === seq);
  }
  onChanged(false);
}

export function refreshDrawer() {
  if (state.openTaskId !== null && !$("#drawer").hidden) {
    const task = tasksById(state.board).get(state.openTaskId);
    if (task) openTask(state.openTaskId);
  }
}

export function reportError(error) {
  banner(errorText(error));
}
