// The drawer's resident panels: the current care plan (GET /api/residents/{id}/care-plan: `current`, the rules'
// `proposed` tier with its reasons, the subsidy) and the assessment history (GET /api/residents/{id}/assessments,
// newest first). Every code is shown in words from /api/meta/labels (careTier, tierReason, capability, meal,
// mealMode, purchasedService, funder, assessmentReason); each panel says so when it could not load.
import { $, el } from "/ui/shared/dom.js";
import { errorText, fmt, label, t } from "/ui/shared/i18n.js";
import { api } from "/ui/shared/session.js";

const kv = (key, ...value) => el("div", { class: "kv" }, el("b", {}, t(key)), ...value);
const failed = (error) => el("p", { class: "error", "data-failed": "" }, fmt("panelFailed", { message: errorText(error) }));

// ISO weekdays (1 Monday … 7 Sunday) as "一三五" / "Mon Wed Fri"; every day as "每天".
function days(list) {
  if (list.length === 7) return t("everyDay");
  return list.map((d) => t(`weekday.${d}`)).join(t("weekdayJoin"));
}

function mealText(m) {
  return [days(m.days ?? []), label("meal", m.meal), label("mealMode", m.mode),
    m.diet?.length ? `（${m.diet.join("、")}）` : ""].filter(Boolean).join(" ");
}

function serviceText(s) {
  return `${label("purchasedService", s.service)} ${fmt("hoursPerMonth", { h: s.hours_per_month })}（${label("funder", s.funder)}）`;
}

// `extreme_poverty:<band>:<dispersed|centralised>` (care_plans/rules.py) as "特困人员 · 分散供养".
function basisText(basis) {
  const [category, , supply] = basis.split(":");
  return [label("residentCategory", category), supply ? t(`supply.${supply}`) : ""].filter(Boolean).join(" · ");
}

const yuan = (fen) => fmt("yuanPerMonth", { y: (fen / 100).toLocaleString("zh-CN", { maximumFractionDigits: 2 }) });

function carePlanBlock(body) {
  const plan = body?.current;
  const proposed = body?.proposed;
  const reasons = (proposed?.reasons ?? []).map((r) => label("tierReason", r)).join(t("listJoin"));
  const proposal = proposed ? kv("proposedTier", label("careTier", proposed.tier), reasons ? el("span", { class: "muted" }, ` · ${reasons}`) : "") : "";
  if (!plan) return el("div", { "data-care-plan": "none" }, el("p", { class: "muted" }, t("noCarePlan")), proposal);
  return el("div", { "data-care-plan": plan.id, "data-tier": plan.visit_tier },
    kv("tier", el("b", { class: `tag tier-${plan.visit_tier}` }, label("careTier", plan.visit_tier)),
      plan.override_reason ? el("span", { class: "muted" }, ` · ${t("override")}：${plan.override_reason}`) : ""),
    plan.visit_tier !== proposed?.tier || reasons ? proposal : "",
    kv("validFrom", `${plan.valid_from}${plan.valid_to ? ` – ${plan.valid_to}` : ""} · ${fmt("planVersion", { v: plan.version })}`),
    kv("meals", plan.meals.length ? plan.meals.map(mealText).join("；") : t("none")),
    kv("services", plan.services.length ? plan.services.map(serviceText).join("；") : t("none")),
    kv("subsidy", plan.subsidy_monthly_fen ? yuan(plan.subsidy_monthly_fen) : t("none"),
      plan.subsidy_basis ? el("span", { class: "muted" }, ` · ${basisText(plan.subsidy_basis)}`) : ""),
    plan.notes ? kv("notes", plan.notes) : "");
}

function assessmentsBlock(items) {
  if (!Array.isArray(items) || !items.length) return el("p", { class: "muted" }, t("noRecords"));
  const latest = items[0];
  return el("div", {},
    kv("latestLevel", el("b", { "data-latest-level": latest.level }, label("capability", latest.level)),
      el("span", { class: "muted" }, ` · ${latest.assessed_on}`)),
    el("ul", { class: "trace", "data-assessments": "" }, ...items.map((a) => el("li", { "data-assessment": a.id },
      [a.assessed_on, label("capability", a.level), `${t("score")} ${a.total_score}`, a.assessor_name,
        label("assessmentReason", a.reason)].filter(Boolean).join(" · ")))));
}

// Draw both panels for a resident; `current()` says whether the drawer still shows the task they were asked for.
export async function loadResident(residentId, current) {
  const node = $("#drawer-resident");
  if (!residentId) {
    node.replaceChildren();
    return;
  }
  const panel = (key, result, draw) => el("div", { class: "card-block", "data-panel": key }, el("h3", {}, t(key)),
    result.status === "fulfilled" ? draw(result.value) : failed(result.reason));
  const [plan, assessments] = await Promise.allSettled([
    api(`/api/residents/${residentId}/care-plan`), api(`/api/residents/${residentId}/assessments`)]);
  if (!current()) return;
  node.replaceChildren(panel("carePlan", plan, carePlanBlock), panel("assessments", assessments, assessmentsBlock));
}
