// What a welfare call (关怀呼叫) is about instead of a device, the resident's temporary state, and the lines a
// visit writes on an alarm's trace. A welfare call's card (GET /api/alarms/{id}/card) carries `meal_order` (the
// meal not collected: meal, meal point, date, mode, deadline) or `task` (the visit nobody answered); every card
// carries `resident_state` when the resident is in hospital, away with family, moved or deceased right now.
import { el } from "/ui/shared/dom.js";
import { fmt, formatTime, label, lookup, t } from "/ui/shared/i18n.js";

const hhmm = (iso) => new Intl.DateTimeFormat("zh-CN", { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", hour12: false })
  .format(new Date(iso));

function mealOrderBlock(order) {
  return el("div", { class: "card-block welfare-origin", "data-meal-order": order.id },
    el("h3", {}, `${t("mealOrder")} #${order.id}`),
    el("div", { class: "grid2" },
      el("div", { class: "kv" }, el("b", {}, t("meal")), `${order.service_date} ${label("meal", order.meal)}`),
      el("div", { class: "kv" }, el("b", {}, t("mealMode")), label("mealMode", order.mode)),
      el("div", { class: "kv" }, el("b", {}, t("mealPoint")), order.meal_point_name,
        order.meal_point_phone ? el("a", { class: "call", href: `tel:${order.meal_point_phone}` }, `${t("call")} ${order.meal_point_phone}`) : ""),
      el("div", { class: "kv" }, el("b", {}, t("deadline")), `${hhmm(order.deadline)} · ${label("mealOrderStatus", order.status)}`)),
    order.task_id ? el("div", { class: "kv muted" }, fmt("deliveryTask", { id: order.task_id })) : "");
}

function taskBlock(task) {
  const window = task.window_start ? `${formatTime(task.window_start)} – ${task.window_end ? hhmm(task.window_end) : ""}` : "—";
  return el("div", { class: "card-block welfare-origin", "data-origin-task": task.id },
    el("h3", {}, `${t("visitTask")} #${task.id} ${label("taskKind", task.kind)}`),
    el("div", { class: "grid2" },
      el("div", { class: "kv" }, el("b", {}, t("window")), window),
      el("div", { class: "kv" }, el("b", {}, t("taskStatus")), label("taskStatus", task.status),
        task.status_reason ? el("span", { class: "muted" }, ` · ${task.status_reason}`) : ""),
      el("div", { class: "kv" }, el("b", {}, t("assignee")), task.assignee_name ?? t("unassigned"))));
}

// The meal order or the task a welfare call is about (nothing for a device alarm).
export function originBlock(card) {
  if (card.meal_order) return mealOrderBlock(card.meal_order);
  if (card.task) return taskBlock(card.task);
  return [];
}

// "当前状态：住院 · 自 12/01 08:00 起" on every alarm card whose resident has a temporary state now.
export function residentStateBlock(residentState) {
  if (!residentState) return [];
  return el("div", { class: "resident-state", "data-resident-state": residentState.kind },
    el("b", {}, t("residentStateNow")), label("residentState", residentState.kind), " · ",
    fmt("since", { at: formatTime(residentState.since) }),
    residentState.until ? ` · ${fmt("until", { at: formatTime(residentState.until) })}` : "");
}

// A `visit_progress` line's words (alarms.service.record_visit_progress): the task, its status, who, the step.
export function visitProgressText(d) {
  const step = d.step ? lookup(`visitStep.${d.step}`) ?? d.step : "";
  return [
    d.kind ? `${label("taskKind", d.kind)} #${d.task_id}` : fmt("taskRef", { id: d.task_id }),
    step,
    label("taskStatus", d.status),
    d.staff?.name ?? "",
    d.location_verified === false ? t("locationOff") : "",
    d.problem_found ? t("problemFound") : "",
    d.follow_up_task_id ? fmt("followUpTask", { id: d.follow_up_task_id }) : "",
  ].filter(Boolean).join(" ");
}
