// The plan panel (路线规划, the planning domain's API): the latest plan of the board's area and day — solver, when,
// kind and status, its cost (travel km, tasks served), the tasks it could not serve with the reasons in words,
// and what changed since the plan before it — and the toolbar's "plan the day" (规划路线: POST /api/plans
// {area_id, day}, a draft until "publish the plan": POST /api/plans/{id}/publish). Says so when it could not load;
// the board works without it.
import { hhmm, state } from "/ui/coordinator/state.js";
import { $, el, renderPart } from "/ui/shared/dom.js";
import { errorText, fmt, formatTime, label, t } from "/ui/shared/i18n.js";
import { api } from "/ui/shared/session.js";

let onChanged = () => {};
let onOpenTask = () => {};

export function wirePlans({ changed, openTask }) {
  onChanged = changed;
  onOpenTask = openTask;
  $("#plan-day").addEventListener("click", (event) => planDay(event.currentTarget));
}

function km(value) {
  return value === null || value === undefined ? "—" : fmt("km", { km: Number(value).toFixed(1) });
}

function taskLink(item) {
  const who = item.resident_name ? ` ${item.resident_name}` : "";
  return el("button", { type: "button", class: "link", "data-open-task": item.task_id, onclick: () => onOpenTask(item.task_id) },
    `${fmt("taskTitle", { id: item.task_id })}${who}`);
}

function staffName(plan, staffId) {
  return plan.routes.find((r) => r.staff_id === staffId)?.staff_name ?? `#${staffId}`;
}

// What changed since the previous plan, in words: counts first, then the tasks that moved.
function changesBlock(plan) {
  const c = plan.changes || {};
  if (!c.previous_plan_id) return el("p", { class: "muted", "data-changes": "none" }, t("planFirst"));
  const lines = [];
  for (const item of c.moved || []) {
    lines.push(el("li", {}, taskLink(item), " ", fmt("planMoved", { from: staffName(plan, item.from_staff_id), to: staffName(plan, item.to_staff_id) })));
  }
  for (const item of c.newly_assigned || []) {
    lines.push(el("li", {}, taskLink(item), " ", fmt("planNewly", { to: staffName(plan, item.staff_id) })));
  }
  for (const item of c.time_shifts || []) {
    lines.push(el("li", {}, taskLink(item), " ", fmt("planShifted", { from: hhmm(item.previous_start), to: hhmm(item.planned_start),
      minutes: Math.round(item.minutes) })));
  }
  for (const item of c.unassigned || []) {
    lines.push(el("li", {}, taskLink(item), " ", fmt("planDropped", { reason: label("planUnassignedReason", item.reason) })));
  }
  const counts = fmt("planChangeCounts", { moved: (c.moved || []).length, newly: (c.newly_assigned || []).length,
    shifted: (c.time_shifts || []).length, dropped: (c.unassigned || []).length, left: (c.left || []).length });
  return el("div", { "data-changes": c.previous_plan_id },
    el("p", {}, fmt("planSince", { id: c.previous_plan_id }), " ", counts),
    lines.length ? el("ul", { class: "plan-changes" }, ...lines) : "");
}

function unassignedBlock(plan) {
  if (!plan.unassigned.length) return el("p", { class: "muted", "data-unassigned": "0" }, t("planAllServed"));
  return el("ul", { class: "plan-unassigned", "data-unassigned": plan.unassigned.length },
    ...plan.unassigned.map((item) => el("li", { "data-task-id": item.task_id, "data-reason": item.reason },
      taskLink(item), " ", el("span", { class: "tag flag" }, label("planUnassignedReason", item.reason)))));
}

function planBlock(plan) {
  const served = plan.routes.reduce((n, r) => n + r.stops.length, 0);
  const publish = state.canManage && plan.status === "draft"
    ? el("button", { type: "button", id: "publish-plan", onclick: (e) => publishPlan(plan.id, e.currentTarget) }, t("publishPlan")) : "";
  return el("div", { class: "plan", "data-plan-id": plan.id, "data-plan-kind": plan.kind, "data-plan-status": plan.status },
    el("div", { class: "plan-head" },
      el("b", {}, label("planKind", plan.kind)),
      el("span", { class: `tag plan-status-${plan.status}` }, label("planStatus", plan.status)),
      el("span", { class: "muted", title: formatTime(plan.created_at) }, fmt("planWhen", { at: hhmm(plan.created_at) })),
      el("span", { class: "muted" }, fmt("planSolver", { solver: plan.solver, ms: plan.runtime_ms })),
      publish),
    el("div", { class: "plan-cost" },
      el("span", { "data-cost": "travel_km" }, `${t("planTravel")} ${km(plan.travel_km)}`),
      el("span", { "data-cost": "served" }, fmt("planServed", { n: served, m: plan.unassigned.length })),
      el("span", {}, fmt("planRoutes", { n: plan.routes.length }))),
    plan.error ? el("p", { class: "error" }, plan.error) : "",
    el("h3", {}, t("planUnassigned")), unassignedBlock(plan),
    el("h3", {}, t("planChanges")), changesBlock(plan));
}

export async function loadPlan(isCurrent) {
  const node = $("#plan");
  try {
    const [latest] = await api(`/api/plans?area_id=${state.areaId}&day=${state.day}&limit=1`);
    const plan = latest ? await api(`/api/plans/${latest.id}`) : null;
    if (!isCurrent()) return;
    state.plan = plan;
    renderPart(node, JSON.stringify([plan, document.documentElement.lang, state.canManage]), () => plan
      ? planBlock(plan) : el("p", { class: "muted", "data-empty": "plan" }, t("noPlan")));
  } catch (error) {
    if (!isCurrent()) return;
    renderPart(node, `failed-${error.code}-${error.status}`, () => el("p", { class: "error", "data-failed": "plan" },
      fmt("panelFailed", { message: errorText(error) })));
  }
}

async function planDay(button) {
  button.disabled = true;
  $("#action-result").textContent = t("planning");
  try {
    const plan = await api("/api/plans", { json: { area_id: state.areaId, day: state.day } });
    const served = plan.routes.reduce((n, r) => n + r.stops.length, 0);
    $("#action-result").textContent = fmt("planned", { n: served, m: plan.unassigned.length, km: km(plan.travel_km) });
  } catch (error) {
    $("#action-result").textContent = errorText(error);
  } finally {
    button.disabled = false;
    onChanged(true);
  }
}

async function publishPlan(id, button) {
  button.disabled = true;
  try {
    await api(`/api/plans/${id}/publish`, { method: "POST" });
    $("#action-result").textContent = t("planPublished");
  } catch (error) {
    $("#action-result").textContent = errorText(error);
  } finally {
    onChanged(true);
  }
}
