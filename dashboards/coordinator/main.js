// The coordinator's board (服务调度看板): one community (or street) and one day. Alerts first, then the tasks by
// staff member with the unassigned lane, late and missed highlighted; a task's drawer reassigns it and shows its
// trace and the resident's care plan and assessments; staff availability below.
// The board reloads every 15 s (GET /api/tasks/board) and redraws only the parts whose content changed
// (shared/dom.js: renderPart), so an open drawer, a chosen staff member or a typed reason survive a reload.
// Modules: strings.js, state.js, board.js (alerts and lanes in route order), drawer.js (task, reassign, trace),
// resident.js (care plan, assessments), availability.js (the roster's staff panel), plans.js (the plan panel and
// "plan the day").
import "/ui/coordinator/strings.js";
import { banner, renderAlerts, renderLanes, renderUpdated, wireBoard } from "/ui/coordinator/board.js";
import { loadAvailability } from "/ui/coordinator/availability.js";
import { openTask, refreshDrawer, wireDrawer } from "/ui/coordinator/drawer.js";
import { loadPlan, wirePlans } from "/ui/coordinator/plans.js";
import { POLL_MS, addDays, localDate, state } from "/ui/coordinator/state.js";
import { $, el } from "/ui/shared/dom.js";
import { errorText, fmt, label, t } from "/ui/shared/i18n.js";
import { preparePage, signedIn } from "/ui/shared/page.js";
import { api, can } from "/ui/shared/session.js";

let timer = null;
let loadSeq = 0;

function draw() {
  if (!state.board) return;
  renderAlerts(state.board.alerts);
  renderLanes(state.board);
  renderUpdated(state.board);
}

async function loadBoard() {
  if (!state.areaId) return;
  const mine = ++loadSeq;
  document.body.dataset.loading = "yes";
  try {
    const board = await api(`/api/tasks/board?area_id=${state.areaId}&date=${state.day}`);
    if (mine !== loadSeq) return;
    state.board = board;
    document.body.dataset.boardDate = board.date;
    draw();
    refreshDrawer();
  } catch (error) {
    if (mine === loadSeq && error.status !== 401) banner(`${t("boardFailed")}: ${errorText(error)}`);
  } finally {
    if (mine === loadSeq) document.body.dataset.loading = "no";
  }
  loadAvailability(() => mine === loadSeq);
  loadPlan(() => mine === loadSeq);
}

// The day's two actions (tasks.manage): give every planned task to the nearest available staff member who can
// take it (POST /api/tasks/auto-assign; the planner of the next issue plugs in behind the same endpoint), and send
// the assigned tasks to the caregivers' lists (POST /api/tasks/publish). The result stays beside the buttons.
async function dayAction(button, path, describe) {
  button.disabled = true;
  try {
    const body = await api(path, { json: { area_id: state.areaId, date: state.day } });
    $("#action-result").textContent = describe(body);
  } catch (error) {
    if (error.status !== 401) banner(errorText(error));
  } finally {
    button.disabled = false;
    loadBoard();
  }
}

function describeAutoAssign(body) {
  const reasons = {};
  for (const item of body.unassigned) reasons[item.reason] = (reasons[item.reason] ?? 0) + 1;
  const why = Object.entries(reasons).map(([code, n]) => `${t(`unplaced.${code}`)} ${n}`).join(t("listJoin"));
  const line = fmt("autoAssigned", { n: body.assigned.length, m: body.unassigned.length });
  return why ? `${line}（${why}）` : line;
}

function changed(reload) {
  if (reload) loadBoard();
  else draw();
}

function setDay(day) {
  state.day = day;
  $("#day").value = day;
  const today = localDate();
  for (const button of document.querySelectorAll("[data-day]")) {
    const d = button.dataset.day === "today" ? today : addDays(today, 1);
    button.classList.toggle("active", d === day);
  }
  remember();
  loadBoard();
}

function remember() {
  const url = new URL(location.href);
  url.searchParams.set("area", state.areaId ?? "");
  url.searchParams.set("date", state.day ?? "");
  history.replaceState(null, "", url);
}

// The communities the user may pick: their scope area and what lies under it, two tiers deep (a street
// coordinator picks one of their communities; a community coordinator has theirs).
async function areaChoices(user) {
  const choices = [];
  const children = async (parentId) => api(parentId ? `/api/areas?parent_id=${parentId}` : "/api/areas").catch(() => []);
  const walk = async (areas, depth) => {
    for (const area of areas) {
      choices.push({ ...area, depth });
      if (depth < 2 && area.level !== "community") await walk(await children(area.id), depth + 1);
    }
  };
  if (user.scope_area_id) {
    const under = await children(user.scope_area_id);
    choices.push({ id: user.scope_area_id, name: user.scope?.name ?? `#${user.scope_area_id}`, level: under.length ? "area" : "community", depth: 0 });
    await walk(under, 1);
  } else {
    await walk(await children(null), 0);
  }
  return choices;
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
  state.canManage = can(user, "tasks.manage");
  state.canHandleAlerts = can(user, "alerts.handle");
  $("#who").textContent = `${user.full_name} (${label("role", user.role)})`;
  $("#console-link").hidden = !can(user, "alarms.read");
  if (!can(user, "tasks.read")) {
    $("main").replaceChildren(el("section", { class: "panel", id: "refused" }, el("h2", {}, t("noAccess")),
      el("a", { href: "/ui/me/" }, t("goToMyPage"))));
    return;
  }
  wireBoard({ openTask, changed });
  wireDrawer({ changed });
  wirePlans({ changed, openTask });
  const choices = await areaChoices(user);
  const select = $("#area");
  select.replaceChildren(...choices.map((a) => el("option", { value: a.id }, `${"　".repeat(a.depth)}${a.name}`)));
  const params = new URLSearchParams(location.search);
  const wanted = Number(params.get("area"));
  const firstCommunity = choices.find((a) => a.level === "community") ?? choices[0];
  state.areaId = choices.some((a) => a.id === wanted) ? wanted : firstCommunity?.id ?? null;
  if (!state.areaId) {
    banner(t("noArea"));
    return;
  }
  select.value = String(state.areaId);
  select.addEventListener("change", () => {
    state.areaId = Number(select.value);
    state.board = null;
    remember();
    loadBoard();
  });
  for (const button of document.querySelectorAll("[data-day]")) {
    button.addEventListener("click", () => setDay(button.dataset.day === "today" ? localDate() : addDays(localDate(), 1)));
  }
  $("#day").addEventListener("change", () => { if ($("#day").value) setDay($("#day").value); });
  $("#reload").addEventListener("click", () => loadBoard());
  $("#day-actions").hidden = !state.canManage;
  $("#auto-assign").addEventListener("click", (event) =>
    dayAction(event.currentTarget, "/api/tasks/auto-assign", describeAutoAssign));
  $("#publish").addEventListener("click", (event) =>
    dayAction(event.currentTarget, "/api/tasks/publish", (body) => fmt("published", { n: body.published.length })));
  setDay(/^\d{4}-\d{2}-\d{2}$/.test(params.get("date") || "") ? params.get("date") : localDate());
  timer = setInterval(() => { if (!document.hidden) loadBoard(); }, POLL_MS);
}

if (preparePage()) start();
