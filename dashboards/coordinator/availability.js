// The staff availability panel (GET /api/roster/availability?area_id=&date=, the roster's): per staff member that
// day, their shifts, leave, load against capacity, on-call, and certificates expiring or expired. Says so when it
// could not load; the board works without it.
import { span, state } from "/ui/coordinator/state.js";
import { $, el, renderPart } from "/ui/shared/dom.js";
import { errorText, fmt, label, t } from "/ui/shared/i18n.js";
import { api } from "/ui/shared/session.js";

function loadCell(entry) {
  const full = entry.capacity > 0 && entry.load >= entry.capacity;
  return el("td", { class: full ? "load full" : "load", "data-load": `${entry.load}/${entry.capacity}` }, `${entry.load}/${entry.capacity}`);
}

function row(entry) {
  const s = entry.staff;
  const onLeave = entry.leave.length > 0;
  const available = entry.shifts.length > 0 && !onLeave;
  return el("tr", { "data-staff-id": s.id, class: available ? "available" : "unavailable" },
    el("td", {}, s.name),
    el("td", {}, label("staffRole", s.role)),
    el("td", {}, entry.shifts.length ? entry.shifts.map((x) => `${span(x.starts_at, x.ends_at)}${x.on_call ? ` ${t("onCall")}` : ""}`).join(", ") : t("noShift")),
    loadCell(entry),
    el("td", {}, el("span", { class: available ? "tag ok" : "tag flag" }, t(available ? "available" : "unavailable"))),
    el("td", { class: "muted" }, [
      ...entry.leave.map((l) => `${label("leaveKind", l.kind)} ${span(l.starts_at, l.ends_at)}`),
      ...entry.certifications_due.map((c) => `${c.name}${c.expires_on ? ` ${c.expires_on}` : ""} ${label("certificateStatus", c.status)}`),
    ].join("；")),
    el("td", { class: "muted" }, (s.skills || []).map((k) => label("skill", k)).join(t("listJoin"))));
}

export async function loadAvailability(isCurrent) {
  const node = $("#availability");
  try {
    const body = await api(`/api/roster/availability?area_id=${state.areaId}&date=${state.day}`);
    if (!isCurrent()) return;
    const items = body.items;
    renderPart(node, JSON.stringify([items, document.documentElement.lang]), () => items.length
      ? el("table", { class: "availability", "data-availability": body.date },
        el("thead", {}, el("tr", {}, ...["staffName", "role", "shift", "load", "canTake", "attention", "skills"].map((k) => el("th", {}, t(k))))),
        el("tbody", {}, ...items.map(row)))
      : el("p", { class: "muted", "data-empty": "availability" }, t("noStaff")));
  } catch (error) {
    if (!isCurrent()) return;
    renderPart(node, `failed-${error.code}-${error.status}`, () => el("p", { class: "error", "data-failed": "availability" },
      fmt("panelFailed", { message: errorText(error) })));
  }
}
