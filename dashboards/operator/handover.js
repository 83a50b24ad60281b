// The hand-over list: open alarms with their recent trace, for the next shift.
import { traceText } from "/ui/operator/detail.js";
import { subjectOf, typeLabel, welfareBadge } from "/ui/operator/queue.js";
import { $, el } from "/ui/shared/dom.js";
import { label, t } from "/ui/shared/i18n.js";
import { api } from "/ui/shared/session.js";

export async function toggleHandover() {
  const section = $("#handover");
  section.hidden = !section.hidden;
  if (section.hidden) return;
  const items = await api("/api/alarms/handover");
  $("#handover-body").replaceChildren(items.length ? el("table", {}, el("tbody", {}, ...items.map(({ alarm, recent }) =>
    el("tr", {}, el("td", {}, `#${alarm.id}`), el("td", {}, welfareBadge(alarm), typeLabel(alarm)), el("td", {}, subjectOf(alarm)),
      el("td", {}, label("alarmState", alarm.state)), el("td", {}, recent.map(traceText).join(" / ")))))) :
    el("p", { class: "muted" }, t("noAlarms")));
}
