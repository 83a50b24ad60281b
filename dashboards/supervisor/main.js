// The supervision dashboard (养老服务监管): one shape for every tier, from the city down to a community and its
// residents. Exceptions first, then the tier's figures as tiles, a trend and a comparison of the sub-areas
// (ECharts), and the sub-areas' table: a row opens that area (drill-down, never above the user's scope: the API
// answers 404 `area_not_found` outside it). Tabs: alarms, visits, meals, devices (GET /api/supervision/<section>),
// the purchased-services statement of a month (…/services/statement) and the care-center monitor with a
// resident's vitals (…/monitor/residents/{id}). Every table exports CSV and XLSX (the same endpoint with
// `format=`), and the month's printable report is …/report.pdf. The state is in the URL (tab, area, from, to), so
// a view can be bookmarked and sent.
import "/ui/supervisor/strings.js";
import { clearChart, drawCompare, drawDistribution, drawTrend, drawVitals, resizeCharts } from "/ui/supervisor/charts.js";
import { $, el } from "/ui/shared/dom.js";
import { errorText, fmt, formatTime, humanSeconds, label, lookup, t } from "/ui/shared/i18n.js";
import { preparePage, signedIn } from "/ui/shared/page.js";
import { api, apiDownload, can } from "/ui/shared/session.js";

const TABS = ["alarms", "visits", "meals", "devices", "services", "monitor"];
const state = {
  tab: "alarms",
  areaId: null, // null: the user's scope root (the API's default)
  from: null, // "YYYY-MM-DD" local days; null: the API's default (this month to today)
  to: null,
  month: null, // "YYYY-MM" for the statement and the PDF report
  data: null, // the last answer
  names: new Map(), // area id → {id, name, level, path}, learnt from the answers
  rootId: null, // the user's scope root
  user: null,
  compareKey: null,
  distGroup: null,
  trendGroup: null,
};
// The extra table of a tab: its rows come from another endpoint (or the answer itself) and export on their own.
const EXTRA = {
  visits: { path: "/api/supervision/visits/caregivers", title: "svCaregivers" },
  meals: { path: "/api/supervision/meals/points", title: "svMealPoints" },
  monitor: { path: null, title: "svFacilities" },
};
let loadSeq = 0;

const isDay = (v) => /^\d{4}-\d{2}-\d{2}$/.test(v || "");
const isMonth = (v) => /^\d{4}-\d{2}$/.test(v || "");

function banner(text) {
  const node = $("#banner");
  node.textContent = text || "";
  node.hidden = !text;
}

// ---- figures: words and numbers -------------------------------------------------------------------------------
// A figure key in words: the server's (GET /api/meta/labels, kind supervisionFigure: the export columns' heads),
// else the page's own, else the key; a dotted key (`type.sos`, `outcome.resolved`) is its group's word and the
// code's label.
function figureName(key) {
  const served = lookupLabel("supervisionFigure", key);
  // The export's head names the unit of a raw number ("(秒)"); the page prints durations in words.
  if (served) return isSeconds(key) ? served.replace(/\s*\((秒|s)\)$/, "") : served;
  const [prefix, value] = key.split(/\.(.*)/s);
  if (value !== undefined) return `${groupName(prefix)}: ${codeName(prefix, value)}`;
  return t(`fig.${key}`);
}

function groupName(prefix) {
  return t(`group.${prefix}`);
}

// The server's label of a code, or null (label() would fall back to the code itself).
function lookupLabel(kind, code) {
  const words = label(kind, code, "\u0000");
  return words === "\u0000" ? null : words;
}

// The served label kind of each dotted group's codes: alarm types are device event types (and welfare-call
// types, the page's own words), outcomes the alarm outcomes, reasons a visit was missed the task engine's; what
// followed a meal not collected is "no call", "open" or the welfare call's outcome.
const CODE_KINDS = { type: "eventType", outcome: "outcome", missed: "taskEngineReason", not_collected: "outcome" };
const codeName = (prefix, value) => label(CODE_KINDS[prefix] ?? prefix, value, lookup(`${prefix}.${value}`) ?? value);
const isDotted = (key) => key.includes(".");
const isShare = (key) => /(_share|_rate|^share_|_use)$/.test(key) || key.endsWith("rate") || key.startsWith("share");
const isSeconds = (key) => /(_s|_seconds)$/.test(key);

function figureText(key, value) {
  if (value === null || value === undefined) return "—";
  if (typeof value !== "number") return String(value);
  if (isShare(key)) return `${(value * 100).toFixed(1)}%`;
  if (isSeconds(key)) return humanSeconds(value);
  return Number.isInteger(value) ? value.toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 2 });
}

const numericKeys = (figures) => Object.keys(figures || {})
  .filter((k) => !isDotted(k) && (figures[k] === null || typeof figures[k] === "number"));

function areaName(area) {
  return area?.name ?? (area?.id ? `#${area.id}` : "—");
}

function learn(area) {
  if (area?.id) state.names.set(area.id, area);
}

// ---- the URL ----------------------------------------------------------------------------------------------------
function remember() {
  const url = new URL(location.href);
  const set = (k, v) => (v ? url.searchParams.set(k, v) : url.searchParams.delete(k));
  set("tab", state.tab);
  set("area", state.areaId && state.areaId !== state.rootId ? String(state.areaId) : null);
  set("from", state.from);
  set("to", state.to);
  set("month", state.tab === "services" ? state.month : null);
  history.replaceState(null, "", url);
}

function query(extra = {}) {
  const params = new URLSearchParams();
  if (state.areaId) params.set("area_id", String(state.areaId));
  if (state.tab === "services") {
    if (state.month) params.set("month", state.month);
  } else {
    if (state.from) params.set("from", state.from);
    if (state.to) params.set("to", state.to);
  }
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  return params.toString();
}

function endpoint() {
  return state.tab === "services" ? "/api/supervision/services/statement" : `/api/supervision/${state.tab}`;
}

// ---- exceptions first ---------------------------------------------------------------------------------------------
function exceptionAction(item) {
  const link = item.link || "";
  const resident = /monitor\/residents\/(\d+)/.exec(link) || /^resident:(\d+)$/.exec(link);
  if (resident) return el("button", { type: "button", class: "link", onclick: () => openResident(Number(resident[1]), item.subject) }, t("svOpen"));
  if (link.startsWith("/ui/")) return el("a", { href: link }, t("svOpen"));
  if (link.startsWith("/api/")) {
    return el("button", { type: "button", class: "link", onclick: () => openRecord(link, item) }, t("svOpen"));
  }
  if (item.area_id && item.area_id !== state.areaId) {
    return el("button", { type: "button", class: "link", onclick: () => openArea(item.area_id) }, t("svOpen"));
  }
  return "";
}

function renderExceptions(list) {
  const items = [...(list || [])].sort((a, b) => (a.severity ?? 3) - (b.severity ?? 3));
  $("#exception-count").textContent = items.length ? `（${items.length}）` : "";
  $("#exceptions").replaceChildren(...(items.length ? items.map((item) => el("li", {
    class: `exception sev${item.severity ?? 3}`, "data-kind": item.kind, "data-area": item.area_id ?? "",
  },
  el("span", { class: "sev", title: `${item.severity}${t("svSeverity")}` }, String(item.severity ?? "")),
  el("span", { class: "kind" }, label("supervisionException", item.kind)),
  el("span", { class: "subject" }, item.subject ?? ""),
  el("span", { class: "message" }, item.message ?? ""),
  item.since ? el("span", { class: "muted since" }, fmt("svSince", { at: formatTime(item.since) })) : "",
  exceptionAction(item))) : [el("li", { class: "none muted" }, t("svNoExceptions"))]));
}

// ---- tiles, charts, the sub-areas' table -----------------------------------------------------------------------------
function renderTiles(totals) {
  $("#tiles").replaceChildren(...numericKeys(totals).map((key) => el("div", { class: "tile", "data-figure": key },
    el("div", { class: "value" }, figureText(key, totals[key])),
    el("div", { class: "label" }, figureName(key)))));
}

// The dotted figures of the area by group (type.*, outcome.*...): one ring per group, chosen in a select.
function renderDistribution(totals) {
  const groups = {};
  for (const [key, value] of Object.entries(totals || {})) {
    if (!isDotted(key) || typeof value !== "number") continue;
    const [prefix, code] = key.split(/\.(.*)/s);
    (groups[prefix] ||= []).push([code, value]);
  }
  const order = ["type", "outcome", "missed", "not_collected"];
  const rank = (g) => (order.includes(g) ? order.indexOf(g) : order.length);
  const names = Object.keys(groups).filter((g) => groups[g].some(([, v]) => v > 0)).sort((a, b) => rank(a) - rank(b));
  $("#dist-panel").hidden = !names.length;
  if (!names.length) return clearChart($("#dist-chart"));
  if (!names.includes(state.distGroup)) state.distGroup = names[0];
  const select = $("#dist-group");
  select.replaceChildren(...names.map((g) => el("option", { value: g }, groupName(g))));
  select.value = state.distGroup;
  const rows = groups[state.distGroup];
  drawDistribution($("#dist-chart"), rows.map(([code]) => codeName(state.distGroup, code)), rows.map(([, v]) => v),
    groupName(state.distGroup));
}

function renderCharts(data) {
  renderDistribution(data.totals);
  // Series by their x axis: by day (the trend), by hour of day (a distribution over the day), any other.
  const axisOf = (s) => (isDay(String(s.points[0]?.[0])) ? "day" : /^\d{2}:\d{2}$/.test(String(s.points[0]?.[0])) ? "hour" : "other");
  const groups = {};
  for (const s of (data.series || []).filter((x) => Array.isArray(x.points) && x.points.length)) (groups[axisOf(s)] ||= []).push(s);
  const names = Object.keys(groups);
  $("#trend-panel").hidden = !names.length;
  if (names.length) {
    if (!names.includes(state.trendGroup)) state.trendGroup = names.includes("day") ? "day" : names[0];
    const select = $("#trend-group");
    select.replaceChildren(...names.map((g) => el("option", { value: g }, t(`axis.${g}`))));
    select.value = state.trendGroup;
    select.hidden = names.length < 2;
    drawTrend($("#trend-chart"), groups[state.trendGroup], figureName);
  } else clearChart($("#trend-chart"));
  const children = data.children || [];
  const keys = numericKeys(data.totals);
  $("#compare-panel").hidden = !children.length || !keys.length;
  $("#charts").hidden = $("#trend-panel").hidden && $("#compare-panel").hidden && $("#dist-panel").hidden;
  if (!children.length || !keys.length) return clearChart($("#compare-chart"));
  if (!keys.includes(state.compareKey)) state.compareKey = keys.find(isShare) ?? keys[0];
  const select = $("#compare-figure");
  select.replaceChildren(...keys.map((k) => el("option", { value: k }, figureName(k))));
  select.value = state.compareKey;
  drawCompare($("#compare-chart"), children.map((c) => areaName(c.area)),
    children.map((c) => c.figures?.[state.compareKey] ?? null), figureName(state.compareKey), isShare(state.compareKey));
}

function renderChildren(data) {
  const keys = numericKeys(data.totals);
  const children = data.children || [];
  const flagged = new Set((data.exceptions || []).map((e) => e.area_id));
  const head = el("thead", {}, el("tr", {}, el("th", {}, t("svArea")), el("th", {}, t("svLevel")),
    ...keys.map((k) => el("th", { "data-figure": k }, figureName(k)))));
  const rows = children.map((child) => el("tr", { "data-area": child.area?.id, class: flagged.has(child.area?.id) ? "flagged" : null },
    el("td", {}, el("button", { type: "button", class: "link drill", onclick: () => openArea(child.area.id) }, areaName(child.area))),
    el("td", {}, t(`level.${child.area?.level}`)),
    ...keys.map((k) => el("td", { "data-figure": k }, figureText(k, child.figures?.[k])))));
  const total = el("tr", { class: "totals" }, el("td", {}, t("svTotal")), el("td", {}, t(`level.${data.area?.level}`)),
    ...keys.map((k) => el("td", { "data-figure": k }, figureText(k, data.totals?.[k]))));
  $("#children").replaceChildren(head, el("tbody", {}, ...rows, total));
  $("#table-title").textContent = t("svChildren");
  $("#table-note").textContent = children.length ? "" : t("svNoChildren");
}

function renderCrumbs(area) {
  const ids = (area?.path || "").split("/").filter(Boolean).map(Number);
  const rootAt = ids.indexOf(state.rootId);
  const trail = rootAt >= 0 ? ids.slice(rootAt) : [area?.id].filter(Boolean);
  $("#crumbs").replaceChildren(...trail.flatMap((id, i) => {
    const known = state.names.get(id) ?? { id };
    const last = i === trail.length - 1;
    const node = last ? el("b", { "data-area": id }, areaName(known))
      : el("button", { type: "button", class: "link", "data-area": id, onclick: () => openArea(id) }, areaName(known));
    return i ? [el("span", { class: "muted" }, " › "), node] : [node];
  }));
}

// A tab's extra table (caregivers for visits, meal points for meals, care centers and institutions for the
// monitor): rows of figures with a name; text columns first, numbers right-aligned.
function renderExtra(rows, title) {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.figures ? { name: r.name, ...r.figures } : r)))]
    .filter((k) => !/(^|_)id$/.test(k) && k !== "area" && !isDotted(k));
  const flat = rows.map((r) => (r.figures ? { name: r.name, kind: r.kind, ...r.figures } : r));
  const numeric = (k) => flat.some((r) => typeof r[k] === "number") && !flat.some((r) => typeof r[k] === "string");
  $("#extra-title").textContent = t(title);
  $("#extra").replaceChildren(
    el("thead", {}, el("tr", {}, ...keys.map((k) => el("th", { class: numeric(k) ? "num" : null }, k === "name" ? t("name") : figureName(k))))),
    el("tbody", {}, ...flat.map((r) => el("tr", {}, ...keys.map((k) => el("td", { class: numeric(k) ? "num" : null, "data-figure": k },
      k === "kind" ? t(`facility.${r[k]}`) : figureText(k, r[k])))))));
  $("#extra-panel").hidden = false;
}

async function loadExtra(mine, body) {
  const extra = EXTRA[state.tab];
  if (!extra) return;
  if (!extra.path) {
    if (Array.isArray(body.facilities) && body.facilities.length) renderExtra(body.facilities, extra.title);
    return;
  }
  try {
    const rows = await api(`${extra.path}?${query()}`);
    if (mine !== loadSeq || EXTRA[state.tab] !== extra) return;
    if (rows.rows?.length) renderExtra(rows.rows, extra.title);
  } catch (error) {
    if (mine === loadSeq && error.status !== 401) banner(`${t("svFailed")}: ${errorText(error)}`);
  }
}

// A community (the lowest tier, no sub-areas) lists its residents (GET /api/residents, the scope rule's), each
// with the monitor's drill-down: the vitals trend, bed exits at night and check-ins of the period.
async function loadResidents(mine, area) {
  $("#residents-panel").hidden = true;
  if (area?.level !== "community" || !can(state.user, "residents.read")) return;
  try {
    const page = await api(`/api/residents?area_id=${area.id}&limit=200`);
    if (mine !== loadSeq) return;
    $("#residents-count").textContent = fmt("svCount", { n: page.total });
    $("#residents").replaceChildren(
      el("thead", {}, el("tr", {}, ...["name", "gender", "age", "capability", "tier"].map((k) => el("th", {}, t(k))),
        el("th", {}, ""))),
      el("tbody", {}, ...page.items.map((r) => el("tr", { "data-resident": r.id },
        el("td", {}, r.name, r.status !== "active" ? el("span", { class: "tag" }, label("residentStatus", r.status)) : ""),
        el("td", {}, label("gender", r.gender)), el("td", {}, r.age),
        el("td", {}, label("capability", r.capability_level)), el("td", {}, label("careTier", r.care_tier)),
        el("td", {}, el("button", { type: "button", class: "link vitals", onclick: () => openResident(r.id, r.name) }, t("svVitals")))))));
    $("#residents-panel").hidden = false;
  } catch (error) {
    if (mine === loadSeq && error.status !== 401) banner(`${t("svFailed")}: ${errorText(error)}`);
  }
}

// ---- the services statement ----------------------------------------------------------------------------------------------
function evidenceList(line) {
  const evidence = line.evidence || [];
  if (!evidence.length) return "";
  return el("details", {}, el("summary", {}, `${t("svEvidence")} (${evidence.length})`),
    el("table", { class: "evidence" },
      el("thead", {}, el("tr", {}, el("th", {}, t("svTask")), el("th", {}, t("svCheckIn")), el("th", {}, t("svCheckOut")),
        el("th", {}, t("svDistance")), el("th", {}, t("svVerified")))),
      el("tbody", {}, ...evidence.map((e) => el("tr", { class: e.verified ? "verified" : "unverified" },
        el("td", {}, `#${e.task_id} ${e.staff_name ?? ""}`),
        el("td", {}, formatTime(e.start)), el("td", {}, formatTime(e.end)),
        el("td", {}, [e.check_in_distance_m, e.check_out_distance_m].map((m) => (m === null || m === undefined ? "—" : Math.round(m))).join(" / ")),
        el("td", {}, e.verified ? "✓" : "✗"))))));
}

function renderStatement(body) {
  const lines = body.lines || [];
  learn(body.area);
  $("#area-title").textContent = areaName(body.area);
  $("#period-title").textContent = fmt("svStatement", { month: body.month ?? state.month ?? "" });
  renderTiles(body.totals || {});
  const name = (x) => (typeof x === "object" && x ? x.name : x) ?? "—";
  const head = el("thead", {}, el("tr", {}, ...["svResident", "svService", "svProvider", "svEntitled", "svDelivered",
    "svSessions", "svEvvShare", "svEvidence"].map((k) => el("th", {}, t(k)))));
  const rows = lines.map((line) => el("tr", { "data-resident": line.resident_id, class: line.provider ? null : "undelivered" },
    el("td", {}, `${line.resident_name}（${line.area_name}）`),
    el("td", {}, label("purchasedService", line.service)),
    el("td", {}, line.provider ? name(line.provider) : t("svNotDelivered")),
    el("td", { "data-figure": "hours_entitled" }, figureText("hours_entitled", line.hours_entitled)),
    el("td", { "data-figure": "hours_delivered" }, figureText("hours_delivered", line.hours_delivered)),
    el("td", { "data-figure": "sessions" }, figureText("sessions", line.sessions)),
    el("td", { "data-figure": "evv_verified_share" }, figureText("evv_verified_share", line.evv_verified_share)),
    el("td", {}, evidenceList(line))));
  // (the statement's lines: resident × service × provider; `provider` null = entitled, nothing delivered)
  $("#children").replaceChildren(head, el("tbody", {}, ...rows));
  $("#table-title").textContent = fmt("svStatement", { month: body.month ?? state.month ?? "" });
  // The figures count every line; `lines` is the first page of them (the export has them all).
  const total = body.lines_total ?? lines.length;
  $("#table-note").textContent = !lines.length ? t("svNoLines")
    : total > lines.length ? fmt("svLinesShown", { n: lines.length, total }) : "";
  renderExceptions(body.exceptions || []);
  learn(body.area);
  for (const child of body.children || []) learn(child.area);
  renderCharts({ ...body, totals: body.totals || {} });
  renderCrumbs(body.area);
}

// ---- the record behind an exception (an alarm, a task, a device, the meal orders of a day...) --------------------------
const isTime = (v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v);
const cellText = (v) => (v === null || v === undefined ? "—" : isTime(v) ? formatTime(v)
  : typeof v === "object" ? JSON.stringify(v).slice(0, 120) : String(v));

function recordTable(record) {
  const rows = Object.entries(record).filter(([, v]) => !Array.isArray(v) || v.length);
  return el("table", { class: "record" }, el("tbody", {}, ...rows.map(([k, v]) => el("tr", {},
    el("th", {}, k), el("td", {}, Array.isArray(v) ? fmt("svItems", { n: v.length }) : cellText(v))))));
}

async function openRecord(link, item) {
  $("#drawer").hidden = false;
  const body = $("#drawer-body");
  body.replaceChildren(el("h2", { id: "record-title" }, `${label("supervisionException", item.kind)}：${item.subject}`),
    el("p", { class: "muted" }, item.message ?? ""), el("p", { class: "muted" }, t("svLoading")));
  try {
    const record = await api(link);
    const items = Array.isArray(record) ? record : Array.isArray(record?.items) ? record.items : null;
    body.lastChild.replaceWith(items ? el("div", {}, ...items.slice(0, 20).map((x) => recordTable(x))) : recordTable(record));
  } catch (error) {
    if (error.status !== 401) body.lastChild.replaceWith(el("p", { class: "error" }, errorText(error)));
  }
}

// ---- a resident's vitals (the monitor's drill-down) -------------------------------------------------------------------
async function openResident(id, name) {
  const drawer = $("#drawer");
  drawer.hidden = false;
  const chartNode = el("div", { id: "vitals-chart", class: "chart" });
  $("#drawer-body").replaceChildren(el("h2", { id: "resident-title" }, fmt("svResidentTitle", { name: name ?? `#${id}` })),
    el("p", { class: "muted" }, t("svLoading")));
  try {
    const body = await api(`/api/supervision/monitor/residents/${id}?${query()}`);
    const resident = body.resident ?? {};
    const lines = (body.metrics || []).map((m) => ({
      name: `${label("vital", m.key, m.key)}${m.unit ? ` (${m.unit})` : ""}`,
      points: (m.points || []).map((p) => [p[0], p[1]]),
      outOfRange: (m.out_of_range || []).map((p) => [p[0], p[1]]),
      range: m.low !== undefined && m.high !== undefined ? [m.low, m.high] : null,
    }));
    $("#drawer-body").replaceChildren(el("h2", { id: "resident-title" }, fmt("svResidentTitle", { name: resident.name ?? name ?? `#${id}` })),
      chartNode);
    drawVitals(chartNode, lines);
    const marks = lines.reduce((n, l) => n + l.outOfRange.length, 0);
    $("#drawer-body").append(
      el("p", { id: "vitals-summary" }, fmt("svVitalsSummary", { n: marks, exits: (body.night_bed_exits || []).length,
        checkins: (body.checkins || []).length })),
      ...lines.filter((l) => l.outOfRange.length).map((l) => el("p", { class: "muted" },
        `${l.name}: ${t("svOutOfRange")} ${l.outOfRange.slice(0, 5).map(([at, v]) => `${formatTime(at)} ${v}`).join("；")}`)),
      (body.night_bed_exits || []).length ? el("p", { class: "muted" },
        `${t("svNightExits")}: ${body.night_bed_exits.slice(0, 8).map((at) => formatTime(at)).join("；")}`) : "");
  } catch (error) {
    if (error.status !== 401) $("#drawer-body").append(el("p", { class: "error" }, errorText(error)));
  }
}

// ---- loading ------------------------------------------------------------------------------------------------------------------
async function load() {
  const mine = ++loadSeq;
  document.body.dataset.loading = "yes";
  document.body.dataset.section = state.tab;
  for (const button of document.querySelectorAll("button[data-tab]")) {
    button.classList.toggle("active", button.dataset.tab === state.tab);
    button.setAttribute("aria-selected", String(button.dataset.tab === state.tab));
  }
  $("#period-controls").hidden = state.tab === "services";
  $("#month-controls").hidden = state.tab !== "services";
  $("#extra-panel").hidden = true;
  $("#action-result").textContent = "";
  if (state.tab === "services") $("#residents-panel").hidden = true;
  remember();
  try {
    const body = await api(`${endpoint()}?${query()}`);
    if (mine !== loadSeq) return;
    banner("");
    state.data = body;
    if (state.rootId === null) state.rootId = body.area?.id ?? null;
    if (state.tab === "services") {
      state.month = body.month ?? state.month;
      $("#month").value = state.month ?? "";
      renderStatement(body);
    } else {
      learn(body.area);
      for (const child of body.children || []) learn(child.area);
      state.areaId = body.area?.id ?? state.areaId;
      if (!state.from) $("#from").value = body.from ?? "";
      if (!state.to) $("#to").value = body.to ?? "";
      $("#area-title").textContent = areaName(body.area);
      $("#period-title").textContent = `${fmt("svPeriod", { from: body.from, to: body.to })} · ${fmt("svGenerated", { at: formatTime(body.generated_at) })}`;
      renderExceptions(body.exceptions);
      renderTiles(body.totals);
      renderChildren(body);
      renderCharts(body);
      renderCrumbs(body.area);
      loadExtra(mine, body);
      loadResidents(mine, body.area);
    }
    document.body.dataset.areaId = String(state.areaId ?? "");
  } catch (error) {
    if (mine === loadSeq && error.status !== 401) banner(`${t("svFailed")}: ${errorText(error)}`);
  } finally {
    if (mine === loadSeq) document.body.dataset.loading = "no";
  }
}

function openArea(id) {
  state.areaId = id;
  $("#drawer").hidden = true;
  load();
}

function currentMonth() {
  return state.month ?? (state.from ?? $("#from").value ?? "").slice(0, 7);
}

async function exportAs(format) {
  const area = state.data?.area;
  try {
    const file = await apiDownload(`${endpoint()}?${query({ format })}`, `${state.tab}-${area?.id ?? ""}.${format}`);
    $("#action-result").textContent = fmt("svExported", { name: file.name });
  } catch (error) {
    if (error.status !== 401) banner(errorText(error));
  }
}

async function exportExtra(format) {
  const extra = EXTRA[state.tab];
  const path = extra?.path ?? endpoint(); // the monitor's facilities export with the section
  try {
    const file = await apiDownload(`${path}?${query({ format })}`, `${state.tab}-rows.${format}`);
    $("#action-result").textContent = fmt("svExported", { name: file.name });
  } catch (error) {
    if (error.status !== 401) banner(errorText(error));
  }
}

async function reportPdf() {
  const month = currentMonth();
  const params = new URLSearchParams();
  if (state.areaId) params.set("area_id", String(state.areaId));
  if (isMonth(month)) params.set("month", month);
  try {
    const file = await apiDownload(`/api/supervision/report.pdf?${params}`, `report-${month}.pdf`);
    $("#action-result").textContent = fmt("svExported", { name: file.name });
  } catch (error) {
    if (error.status !== 401) banner(errorText(error));
  }
}

async function start() {
  let user;
  try {
    user = await signedIn();
  } catch (error) {
    if (error.status !== 401) banner(errorText(error));
    return;
  }
  state.user = user;
  $("#who").textContent = `${user.full_name} (${label("role", user.role)})`;
  $("#console-link").hidden = !can(user, "alarms.read"); // supervisors may watch the alarm queue, read-only
  if (!can(user, "supervision.read")) {
    $("main").replaceChildren(el("section", { class: "panel", id: "refused" }, el("h2", {}, t("svNoAccess")),
      el("a", { href: "/ui/me/" }, t("goToMyPage"))));
    return;
  }
  const params = new URLSearchParams(location.search);
  state.tab = TABS.includes(params.get("tab")) ? params.get("tab") : "alarms";
  state.areaId = Number(params.get("area")) || null;
  state.from = isDay(params.get("from")) ? params.get("from") : null;
  state.to = isDay(params.get("to")) ? params.get("to") : null;
  state.month = isMonth(params.get("month")) ? params.get("month") : state.from ? state.from.slice(0, 7) : null;
  $("#from").value = state.from ?? "";
  $("#to").value = state.to ?? "";
  $("#month").value = state.month ?? "";
  if (state.areaId) {
    // The scope root first (the breadcrumb starts there), then the area asked for.
    try {
      const root = await api(`/api/supervision/${state.tab === "services" ? "alarms" : state.tab}?${new URLSearchParams(state.from && state.to ? { from: state.from, to: state.to } : {})}`);
      state.rootId = root.area?.id ?? null;
      learn(root.area);
      for (const child of root.children || []) learn(child.area);
    } catch {
      state.rootId = null;
    }
  }
  for (const button of document.querySelectorAll("button[data-tab]")) {
    button.addEventListener("click", () => {
      state.tab = button.dataset.tab;
      if (state.tab === "services" && !state.month && state.from) state.month = state.from.slice(0, 7);
      load();
    });
  }
  const period = () => {
    if (isDay($("#from").value) && isDay($("#to").value)) {
      state.from = $("#from").value;
      state.to = $("#to").value;
      state.month = state.from.slice(0, 7);
      load();
    }
  };
  $("#from").addEventListener("change", period);
  $("#to").addEventListener("change", period);
  $("#month").addEventListener("change", () => { if (isMonth($("#month").value)) { state.month = $("#month").value; load(); } });
  $("#reload").addEventListener("click", () => load());
  $("#export-csv").addEventListener("click", () => exportAs("csv"));
  $("#export-xlsx").addEventListener("click", () => exportAs("xlsx"));
  $("#report-pdf").addEventListener("click", reportPdf);
  $("#trend-group").addEventListener("change", (event) => { state.trendGroup = event.target.value; if (state.data) renderCharts(state.data); });
  $("#dist-group").addEventListener("change", (event) => { state.distGroup = event.target.value; if (state.data) renderDistribution(state.data.totals); });
  $("#extra-csv").addEventListener("click", () => exportExtra("csv"));
  $("#extra-xlsx").addEventListener("click", () => exportExtra("xlsx"));
  $("#compare-figure").addEventListener("change", (event) => { state.compareKey = event.target.value; if (state.data) renderCharts(state.data); });
  $("#drawer-close").addEventListener("click", () => { $("#drawer").hidden = true; });
  window.addEventListener("resize", resizeCharts);
  await load();
}

if (preparePage()) start();
