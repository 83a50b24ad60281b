// The operator console (接警台): live queue over WebSocket, resident card, one-click actions, hand-over.
// Modules: strings.js (UI words), state.js, queue.js, detail.js, actions.js (the one actions table), handover.js,
// alerts.js; shared/ gives the session, the HTTP helper, i18n and labels, the live socket and DOM helpers.
import "/ui/operator/strings.js";
import { installActions } from "/ui/operator/actions.js";
import { banner, installSoundButton } from "/ui/operator/alerts.js";
import { refresh, renderDetail, select } from "/ui/operator/detail.js";
import { apply, keepOnly, renderQueue, visible } from "/ui/operator/queue.js";
import { state } from "/ui/operator/state.js";
import { $, el } from "/ui/shared/dom.js";
import { errorText, fmt, label, t } from "/ui/shared/i18n.js";
import { LiveSocket } from "/ui/shared/live.js";
import { preparePage, signedIn } from "/ui/shared/page.js";
import { api, can, landingFor, logout, me } from "/ui/shared/session.js";

let queueTimer = null;

// The queue filter (全部 / 告警 / 关怀呼叫): the selection moves to the first row shown when the filter hides it.
function installFilter() {
  for (const button of document.querySelectorAll("[data-filter]")) {
    button.addEventListener("click", () => {
      state.filter = button.dataset.filter;
      const shown = visible();
      if (!shown.some((alarm) => alarm.id === state.selectedId)) state.selectedId = shown[0]?.id ?? null;
      refresh();
    });
  }
}

function setLive(liveState) {
  $("#live").dataset.state = liveState;
  $("#live-text").textContent = t(`live_${liveState}`);
}

// The console is not for this role: say so and point to the page that is, instead of reconnecting forever.
function refuse(user) {
  clearInterval(queueTimer);
  live.stop();
  document.body.dataset.mode = "refused";
  $("#live").hidden = true;
  for (const id of ["#sound", "#handover-toggle", "#counts"]) $(id).hidden = true;
  $("#banner").hidden = true;
  const main = el("main", { class: "refused" }, el("section", { class: "panel", id: "refused" },
    el("h2", {}, fmt("consoleRefused", { role: label("role", user.role) })),
    el("p", {}, el("a", { href: landingFor(user), id: "landing-link" }, t("goToMyPage")))));
  $("main.console").replaceWith(main);
  $("#handover").hidden = true;
}

// The open queue is the truth: versions are taken before commit, so a change committed late can carry a lower
// version than one already seen. Reload it on every (re)connection.
async function onHello(data) {
  const first = state.version === null;
  if (!first) for (const alarm of data.missed) apply(alarm);
  const open = await api("/api/alarms");
  keepOnly(new Set(open.map((a) => a.id)));
  for (const alarm of open) apply(alarm, { alert: !first });
  state.version = Math.max(data.version, ...open.map((a) => a.version), state.version ?? 0);
  if (state.selectedId === null) state.selectedId = visible()[0]?.id ?? null;
  refresh();
}

// Did the server close the socket as a matter of policy (1008, or an application code 4xxx: not signed in, not
// allowed)? Then ask who we are: signed out goes to the sign-in page, not allowed gets the refusal, and only a
// user who is allowed after all tries again, slowly.
function onClose(event) {
  if (event.code === 4401) { // token expired or refused: sign in again
    logout();
    return true;
  }
  if (event.code !== 1008 && !(event.code >= 4000 && event.code < 5000)) return false;
  const slowly = () => live.retry(5000 + Math.random() * 5000);
  me(true).then((user) => {
    if (!can(user, "alarms.read")) refuse(user);
    else slowly();
  }).catch((error) => {
    if (error.status !== 401) slowly(); // 401: api() signed us out
  });
  return true;
}

const live = new LiveSocket({
  url: () => `/api/alarms/live?since=${state.version ?? Number.MAX_SAFE_INTEGER}`,
  onState: setLive,
  onClose,
  onMessage: (data) => {
    if (data.type === "hello") onHello(data).catch((error) => banner(errorText(error), "error"));
    else if (data.type === "alarm") {
      apply(data.alarm);
      refresh();
    } else if (data.type === "resync") live.reopen();
  },
});

async function start() {
  let user;
  try {
    user = await signedIn();
  } catch (error) {
    if (error.status === 401) return; // api() has sent the user to the sign-in page
    banner(errorText(error), "error");
    setTimeout(start, 3000);
    return;
  }
  $("#who").textContent = `${user.full_name} (${label("role", user.role)})`;
  if (!can(user, "alarms.read")) {
    refuse(user);
    return;
  }
  state.user = user;
  state.canHandle = can(user, "alarms.handle");
  document.body.dataset.mode = state.canHandle ? "handle" : "read-only";
  installActions();
  installFilter();
  renderDetail().catch(() => {});
  queueTimer = setInterval(() => renderQueue(select), 1000);
  live.connect();
}

if (preparePage()) {
  installSoundButton();
  start();
}
