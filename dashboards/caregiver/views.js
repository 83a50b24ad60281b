// What the caregiver sees: the bars (connection, not-yet-sent, notices), today's route (#/) and a task (#/task/ID):
// the resident's essentials, what to do, and the step that comes next — check in, the visit record, check out.
// Parts are redrawn only when what they show changes (shared/dom.js renderPart), so a half-written record keeps
// its text, and the record's fields live in a draft per task in any case.
import { $, el, renderPart } from "/ui/shared/dom.js";
import { currentLocale, errorText, fmt, label, labelCodes, t } from "/ui/shared/i18n.js";
import { act, sendNow } from "/ui/caregiver/main.js";
import { acknowledge } from "/ui/caregiver/notices.js";
import * as outbox from "/ui/caregiver/outbox.js";
import { downscale } from "/ui/caregiver/photos.js";
import { here } from "/ui/caregiver/geo.js";
import { checkInPlace, dayTime, effective, hhmm, isMeal, isUrgent, keep, kept, state, taskById } from "/ui/caregiver/state.js";

// The values come with their words from GET /api/meta/labels (labelCodes); these are only for a phone that has
// never loaded the labels (first start offline).
const OFFLINE_CODES = {
  problemCategory: ["health", "safety", "home_repair", "hygiene", "food", "social", "other"],
  mealOutcome: ["handed_over", "left_with_neighbour"],
  checklistAnswer: ["ok", "problem", "na"],
};
const CONDITIONS = ["good", "fair", "poor", "emergency"]; // findings.resident_condition (no label kind of its own)

function codes(kind) {
  const served = labelCodes(kind);
  return served.length ? served : OFFLINE_CODES[kind];
}

// A code in words: the server's label, else the app's own words, else the code.
function words(kind, code) {
  return label(kind, code, t(`${kind}.${code}`));
}

function serviceText(task) {
  if (task.service && task.service !== task.kind) return label("purchasedService", task.service, label("skill", task.service));
  return label("taskKind", task.kind);
}

function statusChip(task) {
  if (task.status === "published" && task.accepted_at) {
    return el("span", { class: "chip status-accepted", "data-status": task.status }, t("accepted"));
  }
  return el("span", { class: `chip status-${task.status}`, "data-status": task.status }, label("taskStatus", task.status));
}

function pendingMarks(task) {
  const marks = [];
  if (task.pending.length) marks.push(el("span", { class: "chip pending", "data-pending": task.pending.length }, t("pendingMark")));
  if (task.rejected.length) marks.push(el("span", { class: "chip rejected" }, t("rejectedMark")));
  return marks;
}

function essentialsOf(task) {
  const resident = state.residents.get(task.resident_id);
  return {
    id: task.resident_id,
    name: resident?.name || task.resident_name,
    gender: resident?.gender,
    age: resident?.age ?? task.resident_age,
    phone: resident?.phone || task.resident_phone,
    landline: resident?.landline,
    address: resident?.address || task.address,
    access_notes: resident?.access_notes || task.access_notes,
    latitude: resident?.home_latitude ?? task.home_latitude,
    longitude: resident?.home_longitude ?? task.home_longitude,
    health_conditions: resident?.health_conditions || [],
    dialect_notes: resident?.dialect_notes,
    capability_level: resident?.capability_level,
    care_tier: resident?.care_tier,
    emergency_contacts: resident?.emergency_contacts || [],
    keyholders: resident?.keyholders || [],
    full: Boolean(resident),
  };
}

function navigateHref(person) {
  if (person.latitude == null || person.longitude == null) return person.address ? `geo:0,0?q=${encodeURIComponent(person.address)}` : null;
  const q = person.address ? `?q=${encodeURIComponent(`${person.latitude},${person.longitude}(${person.address})`)}` : "";
  return `geo:${person.latitude},${person.longitude}${q}`;
}

// --- the bars ------------------------------------------------------------------------------------------------------------
function renderBars() {
  const net = $("#net");
  const online = state.online;
  net.dataset.state = online ? "online" : "offline";
  net.textContent = online ? (state.live === "open" ? `${t("online")} · ${t("live")}` : t("online")) : t("offline");
  const cached = $("#cached");
  const showCached = Boolean(state.cachedAt) || !online;
  cached.hidden = !showCached;
  if (showCached) cached.textContent = fmt("cachedData", { at: state.cachedAt ? dayTime(state.cachedAt) : "—" });
  renderOutbox();
  renderNotices();
}

function itemTitle(item) {
  const task = taskById(item.task_id);
  return [t(`action.${item.kind}`), task?.resident_name || item.resident_name || `#${item.task_id}`, hhmm(item.at || item.created_at)].join(" · ");
}

function renderOutbox() {
  const waiting = state.outbox.filter((item) => item.state !== "rejected");
  const rejected = state.outbox.filter((item) => item.state === "rejected");
  const bar = $("#outbox-bar");
  bar.hidden = state.outbox.length === 0;
  bar.dataset.count = String(waiting.length);
  bar.dataset.rejected = String(rejected.length);
  bar.classList.toggle("has-rejected", rejected.length > 0);
  const parts = [];
  if (waiting.length) parts.push(fmt("outboxBar", { n: waiting.length }));
  if (rejected.length) parts.push(fmt("outboxRejected", { n: rejected.length }));
  bar.textContent = parts.join(" · ") + (state.authLost ? ` · ${t("signInToSend")}` : "");
  const panel = $("#outbox-panel");
  if (!state.outbox.length) panel.hidden = true;
  const key = JSON.stringify([state.outbox.map((i) => [i.seq, i.state, i.attempts, outbox.sending.has(i.seq)]), currentLocale(), state.authLost]);
  renderPart(panel, key, () => [
    el("h2", {}, t("outboxTitle")),
    el("p", { class: "hint" }, t("outboxHint")),
    el("ol", { class: "outbox-list" }, state.outbox.map((item) => {
      const stateWord = item.state === "rejected"
        ? fmt("state.rejected", { reason: errorText(item.error || {}) })
        : t(outbox.sending.has(item.seq) ? "state.sending" : "state.queued");
      return el("li", { "data-seq": item.seq, "data-kind": item.kind, "data-state": item.state, "data-task-id": item.task_id },
        el("div", { class: "item-title" }, itemTitle(item)),
        el("div", { class: "item-state" }, stateWord),
        item.state === "rejected"
          ? el("button", { type: "button", class: "small", onclick: () => outbox.remove(item.seq) }, t("dismiss"))
          : "");
    })),
    el("button", { type: "button", class: "secondary", id: "retry-now", onclick: () => sendNow() }, t("retryNow")),
  ]);
}

function renderNotices() {
  const box = $("#notices");
  const key = JSON.stringify([state.notices, currentLocale()]);
  renderPart(box, key, () => state.notices.map((notice) => el("div", {
    class: `notice${notice.urgent ? " urgent" : ""}`, role: "alertdialog", "data-task-id": notice.task_id,
    "data-change": notice.change, "data-version": notice.version,
  },
  el("h2", {}, notice.urgent ? t("urgentTitle") : t("changeTitle"),
    el("span", { class: "change" }, ` · ${lookupChange(notice.change)}`)),
  el("p", { class: "who" }, notice.resident_name || `#${notice.task_id}`),
  notice.address ? el("p", { class: "where" }, notice.address) : "",
  el("p", { class: "when" }, notice.planned_start ? fmt("planned", { time: hhmm(notice.planned_start) }) : hhmm(notice.window_start)),
  el("button", { type: "button", class: "ack", onclick: () => acknowledge(notice.task_id) },
    notice.urgent ? t("urgentAccept") : t("ack")))));
  box.hidden = state.notices.length === 0;
}

function lookupChange(change) {
  const text = t(`change.${change}`);
  return text === `change.${change}` ? t("change.other") : text;
}

// --- today -----------------------------------------------------------------------------------------------------------------
function sketch(tasks) {
  const stops = tasks.map((task, index) => ({ task, index, person: essentialsOf(task) }))
    .filter(({ person }) => person.latitude != null && person.longitude != null);
  if (stops.length === 0) return "";
  const W = 320, H = 180, PAD = 22;
  const lats = stops.map((s) => Number(s.person.latitude));
  const lons = stops.map((s) => Number(s.person.longitude));
  const meanLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const kx = Math.cos((meanLat * Math.PI) / 180);
  const spanX = Math.max((Math.max(...lons) - Math.min(...lons)) * kx, 1e-4);
  const spanY = Math.max(Math.max(...lats) - Math.min(...lats), 1e-4);
  const scale = Math.min((W - 2 * PAD) / spanX, (H - 2 * PAD) / spanY);
  const x = (lon) => PAD + (Number(lon) - Math.min(...lons)) * kx * scale + ((W - 2 * PAD) - spanX * scale) / 2;
  const y = (lat) => H - PAD - (Number(lat) - Math.min(...lats)) * scale - ((H - 2 * PAD) - spanY * scale) / 2;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("class", "sketch");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", t("sketchNote"));
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
    return node;
  };
  add("polyline", { points: stops.map((s) => `${x(s.person.longitude).toFixed(1)},${y(s.person.latitude).toFixed(1)}`).join(" "), class: "leg" });
  for (const s of stops) {
    const done = ["completed", "missed", "cancelled"].includes(s.task.status);
    const cls = ["stop", done ? "done" : "", isUrgent(s.task) ? "urgent" : ""].join(" ").trim();
    add("circle", { cx: x(s.person.longitude).toFixed(1), cy: y(s.person.latitude).toFixed(1), r: 11, class: cls, "data-task-id": s.task.id });
    add("text", { x: x(s.person.longitude).toFixed(1), y: (y(s.person.latitude) + 4.5).toFixed(1), class: "stop-no" }, String(s.index + 1));
  }
  const widthKm = (spanX * 111.32).toFixed(1);
  add("text", { x: W - 6, y: H - 6, class: "scale" }, `↔ ${widthKm} km`);
  return el("figure", { class: "sketch-box" }, svg, el("figcaption", {}, t("sketchNote")));
}

function stopCard(task, index) {
  const person = essentialsOf(task);
  return el("li", {
    class: `stop${isUrgent(task) ? " urgent" : ""}`, "data-task-id": task.id, "data-status": task.status,
    "data-pending": task.pending.length,
  },
  el("a", { href: `#/task/${task.id}` },
    el("span", { class: "seq" }, String(index + 1)),
    el("div", { class: "stop-body" },
      el("div", { class: "line1" },
        el("span", { class: "time" }, task.planned_start ? hhmm(task.planned_start) : hhmm(task.window_start)),
        el("span", { class: "window" }, fmt("window", { from: hhmm(task.window_start), to: hhmm(task.window_end) })),
        statusChip(task), ...pendingMarks(task)),
      el("div", { class: "name" }, person.name || "—", person.age != null ? el("span", { class: "age" }, fmt("age", { n: person.age })) : ""),
      el("div", { class: "addr" }, person.address || ""),
      el("div", { class: "what" }, isUrgent(task) ? el("span", { class: "chip urgent" }, t("urgentTitle")) : "", serviceText(task)))));
}

function renderToday(view) {
  const tasks = state.tasks.map(effective);
  const done = tasks.filter((task) => ["completed", "missed", "cancelled"].includes(task.status)).length;
  const key = JSON.stringify(["today", tasks, [...state.residents.keys()], state.loadError?.code, currentLocale()]);
  renderPart(view, key, () => {
    if (state.loadError && !tasks.length) return el("p", { class: "error", role: "alert" }, fmt("loadFailed", { message: errorText(state.loadError) }));
    return [
      el("div", { class: "summary" }, el("strong", {}, state.day), " ", fmt("taskCount", { n: tasks.length, done })),
      tasks.length ? sketch(tasks) : el("p", { class: "empty" }, t("noTasks")),
      el("ol", { id: "route", class: "route" }, tasks.map(stopCard)),
    ];
  });
  document.body.dataset.view = "today";
}

// --- a task -----------------------------------------------------------------------------------------------------------------
const drafts = new Map(); // task id → the record being written (checklist, condition, notes, photos, problem)
function draftOf(taskId) {
  if (!drafts.has(taskId)) drafts.set(taskId, { checklist: {}, condition: null, notes: "", photos: [], problem: false, category: null, problemText: "", outcome: null });
  return drafts.get(taskId);
}

function essentialsCard(task) {
  const p = essentialsOf(task);
  const row = (labelKey, ...value) => (value.flat().some((v) => v !== null && v !== undefined && v !== "")
    ? el("div", { class: "row", "data-field": labelKey }, el("span", { class: "k" }, t(labelKey)), el("span", { class: "v" }, ...value))
    : "");
  const tel = (number) => (number ? el("a", { href: `tel:${number}`, class: "tel" }, number) : "");
  return el("section", { class: "card essentials", id: "essentials", "data-full": p.full ? "yes" : "no" },
    el("h3", {}, t("essentials")),
    row("residentPhone", tel(p.phone)),
    row("landline", tel(p.landline)),
    row("address", p.address || ""),
    row("accessNotes", p.access_notes || ""),
    row("keyholders", p.keyholders.map((k) => el("span", { class: "person" }, `${k.name} `, tel(k.phone)))),
    row("conditions", (Array.isArray(p.health_conditions) ? p.health_conditions : [p.health_conditions]).filter(Boolean).map((c) => el("span", { class: "tag" }, String(c)))),
    row("dialect", p.dialect_notes || ""),
    row("capability", p.capability_level ? label("capability", p.capability_level) : ""),
    row("tier", p.care_tier ? label("careTier", p.care_tier) : ""),
    p.emergency_contacts.length ? el("div", { class: "contacts", "data-field": "contacts" }, el("span", { class: "k" }, t("contacts")),
      el("ul", {}, p.emergency_contacts.map((c) => el("li", {},
        `${c.name}${c.relation ? `（${c.relation}）` : ""} `, tel(c.phone),
        c.is_keyholder ? el("span", { class: "tag" }, t("keyholder")) : "",
        c.lives_nearby ? el("span", { class: "tag" }, t("nearby")) : "")))) : "",
    p.full ? "" : el("p", { class: "hint" }, t("essentialsOffline")));
}

function checklistOf(task) {
  return Array.isArray(task.checklist) ? task.checklist : [];
}

function itemLabel(item) {
  return currentLocale() === "en" ? item.label_en || item.label_zh || item.key : item.label_zh || item.label_en || item.key;
}

function groupName(group) {
  const own = t(`group.${group}`);
  return label("checklistGroup", group, own === `group.${group}` ? group : own);
}

function todoCard(task) {
  const items = checklistOf(task);
  return el("section", { class: "card todo", id: "todo" },
    el("h3", {}, t("whatToDo")),
    el("p", { class: "service" }, serviceText(task)),
    task.notes ? el("p", { class: "notes" }, `${t("taskNotes")}：${task.notes}`) : "",
    items.length && ["published", "en_route"].includes(task.status)
      ? el("ul", { class: "checklist-preview" }, items.map((item) => el("li", {}, itemLabel(item)))) : "");
}

function segmented(name, options, current, onPick) {
  return el("div", { class: "seg", role: "radiogroup", "data-name": name }, options.flatMap(([value, text]) => {
    const id = `${name}-${value}`;
    return [
      el("input", { type: "radio", name, id, value, checked: current === value, onchange: () => onPick(value) }),
      el("label", { for: id }, text),
    ];
  }));
}

function errorLine(id) {
  return el("p", { class: "error", id, role: "alert" });
}

async function withPlace(button, errorBox, run) {
  button.disabled = true;
  const original = button.textContent;
  button.textContent = t("locating");
  errorBox.textContent = "";
  try {
    const place = await here();
    await run(place);
  } catch (error) {
    errorBox.textContent = error.reason ? fmt("locationFailed", { reason: error.reason }) : errorText(error);
  } finally {
    button.disabled = false;
    button.textContent = original;
  }
}

function noAnswerPanel(task) {
  const note = el("textarea", { id: "no-answer-note", rows: 2 });
  note.value = t("noAnswerDefault");
  const errorBox = errorLine("no-answer-error");
  const panel = el("div", { class: "confirm", id: "no-answer-panel", hidden: true },
    el("label", { for: "no-answer-note" }, t("noAnswerNote")), note,
    el("p", { class: "hint" }, t("noAnswerHint")),
    el("div", { class: "buttons" },
      el("button", { type: "button", class: "secondary", onclick: () => { panel.hidden = true; } }, t("cancel")),
      el("button", { type: "button", class: "danger", id: "no-answer-confirm", onclick: async () => {
        let place = {};
        try {
          place = await here({ timeoutMs: 8_000 });
        } catch {
          place = {}; // the report matters more than the place
        }
        await act("no-answer", task.id, { note: note.value.trim() || t("noAnswerDefault"), latitude: place.latitude, longitude: place.longitude });
      } }, t("noAnswerConfirm"))),
    errorBox);
  return panel;
}

function atTheDoor(task) {
  const errorBox = errorLine("act-error");
  const panel = noAnswerPanel(task);
  const checkIn = el("button", { type: "button", class: "primary big", id: "check-in", onclick: () => withPlace(checkIn, errorBox, async (place) => {
    const places = kept("checkins", {});
    places[task.id] = { latitude: place.latitude, longitude: place.longitude, accuracy: place.accuracy };
    keep("checkins", places);
    await act("check-in", task.id, { latitude: place.latitude, longitude: place.longitude });
  }) }, t("checkIn"));
  return el("section", { class: "card act", id: "act" },
    task.status === "published"
      ? el("button", { type: "button", class: "secondary big", id: "en-route", onclick: () => act("en-route", task.id) }, t("enRoute")) : "",
    checkIn,
    el("button", { type: "button", class: "ghost", id: "no-answer", onclick: () => { panel.hidden = false; } }, isMeal(task) ? t("nobodyHome") : t("noAnswer")),
    panel, errorBox);
}

function checkInNote(task) {
  const place = checkInPlace(task);
  const at = task.checked_in_at ? fmt("checkedInAt", { time: hhmm(task.checked_in_at) }) : "";
  if (!place) return el("p", { class: "checkin", id: "checkin-note" }, at);
  return el("p", {
    class: `checkin${place.far ? " far" : ""}`, id: "checkin-note", "data-distance": place.metres,
    "data-flagged": place.far ? "yes" : "no", "data-source": place.source,
  },
    at, " · ", fmt(place.far ? "checkInFar" : "checkInNear", { m: place.metres, limit: place.limit }));
}

function photoField(task, draft) {
  const list = el("div", { class: "thumbs", id: "photo-thumbs" });
  const draw = () => list.replaceChildren(...draft.photos.map((photo, index) => el("figure", {},
    el("img", { src: photo.url, alt: "" }),
    el("button", { type: "button", class: "small", onclick: () => { URL.revokeObjectURL(photo.url); draft.photos.splice(index, 1); draw(); } }, t("removePhoto")))),
  draft.photos.length ? el("figcaption", {}, fmt("photoReady", { n: draft.photos.length })) : "");
  draw();
  const input = el("input", { type: "file", accept: "image/*", capture: "environment", multiple: true, id: "photo-input", onchange: async () => {
    for (const file of input.files) {
      const small = await downscale(file);
      // when the camera saved it, if that was today on this phone; a picture from the gallery counts from now
      const now = Date.now();
      const saved = Number(file.lastModified) || now;
      const takenAt = saved <= now && saved > now - 12 * 3600 * 1000 ? saved : now;
      draft.photos.push({ ...small, url: URL.createObjectURL(small.blob), taken_at: new Date(takenAt).toISOString() });
    }
    input.value = "";
    draw();
  } });
  return el("div", { class: "field" }, el("label", { for: "photo-input", class: "photo-button" }, t("addPhoto")), input, list);
}

function recordForm(task) {
  const draft = draftOf(task.id);
  const errorBox = errorLine("record-error");
  const meal = isMeal(task);
  const items = checklistOf(task);
  const groups = [...new Set(items.map((item) => item.group || "service"))];
  const problemBox = el("div", { class: "problem-box", id: "problem-box", hidden: !draft.problem },
    el("span", { class: "k" }, t("problemCategory")),
    segmented("category", codes("problemCategory").map((c) => [c, words("problemCategory", c)]), draft.category, (v) => { draft.category = v; }),
    el("label", { for: "problem-text" }, t("problemText")),
    el("textarea", { id: "problem-text", rows: 3, placeholder: t("problemPlaceholder"), oninput: (e) => { draft.problemText = e.target.value; } }, draft.problemText));
  const submit = el("button", { type: "submit", class: "primary big", id: "check-out" }, meal ? t("deliver") : t("checkOut"));
  const form = el("form", { class: "card record", id: "record", novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    errorBox.textContent = "";
    if (meal && !draft.outcome) return void (errorBox.textContent = t("needOutcome"));
    if (draft.problem && !draft.category) return void (errorBox.textContent = t("needCategory"));
    if (draft.problem && !draft.problemText.trim()) return void (errorBox.textContent = t("needProblem"));
    withPlace(submit, errorBox, async (place) => {
      const refs = [];
      for (const photo of draft.photos) {
        const item = await act("photo", task.id, {}, { photo: { blob: photo.blob, name: photo.name, taken_at: photo.taken_at } });
        refs.push(item.key);
      }
      const findings = { notes: draft.notes.trim() || null };
      if (draft.condition) findings.resident_condition = draft.condition;
      if (items.length) findings.checklist = Object.fromEntries(items.filter((i) => draft.checklist[i.key]).map((i) => [i.key, draft.checklist[i.key]]));
      if (draft.problem) findings.problem_category = draft.category;
      if (meal) findings.meal_outcome = draft.outcome;
      await act("complete", task.id, {
        latitude: place.latitude, longitude: place.longitude, findings,
        problem_found: Boolean(draft.problem), problem: draft.problem ? draft.problemText.trim() : null,
      }, refs.length ? { photo_refs: refs } : {});
      draft.photos.forEach((photo) => URL.revokeObjectURL(photo.url));
      drafts.delete(task.id);
    });
  } },
  el("h3", {}, meal ? t("mealOutcome") : t("checklist")),
  meal ? segmented("outcome", codes("mealOutcome").map((o) => [o, words("mealOutcome", o)]), draft.outcome, (v) => { draft.outcome = v; }) : "",
  groups.map((group) => el("fieldset", { class: "group", "data-group": group },
    el("legend", {}, groupName(group)),
    items.filter((item) => (item.group || "service") === group).map((item) => el("div", { class: "check-item", "data-key": item.key },
      el("span", { class: "item-label" }, itemLabel(item)),
      segmented(`check-${item.key}`, codes("checklistAnswer").map((m) => [m, label("checklistAnswer", m, t(`mark.${m}`))]), draft.checklist[item.key] || null, (v) => { draft.checklist[item.key] = v; }))))),
  meal ? "" : el("div", { class: "field" }, el("span", { class: "k" }, t("condition")),
    segmented("condition", CONDITIONS.map((c) => [c, t(`condition.${c}`)]), draft.condition, (v) => { draft.condition = v; })),
  el("div", { class: "field" }, el("label", { for: "record-notes" }, t("notes")),
    el("textarea", { id: "record-notes", rows: 3, placeholder: t("notesPlaceholder"), oninput: (e) => { draft.notes = e.target.value; } }, draft.notes)),
  photoField(task, draft),
  el("label", { class: "toggle" },
    el("input", { type: "checkbox", id: "problem-found", checked: draft.problem, onchange: (e) => { draft.problem = e.target.checked; problemBox.hidden = !draft.problem; } }),
    t("problemFound")),
  problemBox,
  submit,
  errorBox);
  return form;
}

function closedCard(task) {
  const lines = [];
  if (task.status === "completed") {
    lines.push(el("p", { class: "done" }, t("recordDone"), " · ", fmt("completedAt", { time: hhmm(task.completed_at) })));
    if (task.problem_found) lines.push(el("p", { class: "follow-up", id: "follow-up-note" }, t("followUpSoon")));
  } else if (task.status === "missed") {
    lines.push(el("p", { class: "missed" }, fmt("missedAt", { reason: task.status_reason === "no_answer" ? t("noAnswer") : (task.status_reason || "—") })));
  } else {
    lines.push(el("p", {}, label("taskStatus", task.status)));
  }
  return el("section", { class: "card closed", id: "act" }, ...lines);
}

function renderTask(view, taskId) {
  const raw = taskById(taskId);
  if (!raw) {
    location.hash = "#/";
    return;
  }
  const task = effective(raw);
  const person = essentialsOf(task);
  const head = JSON.stringify(["task", task, person, currentLocale(), kept("checkins", {})[task.id]]);
  const stepKey = `${task.id}:${task.status}:${currentLocale()}`;
  if (view.dataset.task !== String(task.id) || view.dataset.step !== stepKey) {
    view.dataset.task = String(task.id);
    view.dataset.step = stepKey;
    view.dataset.key = "";
    view.replaceChildren(el("div", { id: "task-head" }), el("div", { id: "task-step" }), el("div", { id: "task-info" }));
  }
  renderPart($("#task-head", view), head, () => {
    const nav = navigateHref(person);
    return [
      el("a", { href: "#/", class: "back" }, t("back")),
      el("section", { class: `card who${isUrgent(task) ? " urgent" : ""}`, "data-task-id": task.id, "data-status": task.status },
        el("h2", {}, person.name || "—",
          person.age != null ? el("span", { class: "age" }, fmt("age", { n: person.age })) : "",
          person.gender ? el("span", { class: "age" }, label("gender", person.gender)) : ""),
        el("p", { class: "line1" }, statusChip(task), ...pendingMarks(task),
          el("span", { class: "time" }, task.planned_start ? fmt("planned", { time: hhmm(task.planned_start) }) : ""),
          el("span", { class: "window" }, fmt("window", { from: hhmm(task.window_start), to: hhmm(task.window_end) }))),
        task.rejected.length ? el("p", { class: "error" }, task.rejected.map((item) => `${t(`action.${item.kind}`)}：${errorText(item.error || {})}`).join("；")) : "",
        el("div", { class: "quick" },
          nav ? el("a", { class: "button", id: "navigate", href: nav }, t("navigate")) : "",
          person.phone ? el("a", { class: "button", id: "call", href: `tel:${person.phone}` }, t("call")) : ""),
        ["checked_in", "completed"].includes(task.status) ? checkInNote(task) : ""),
    ];
  });
  // the next step right under the name (one hand, no scrolling); what to know about the resident below it
  renderPart($("#task-info", view), JSON.stringify([task, person, currentLocale()]), () => [essentialsCard(task), todoCard(task)]);
  const step = $("#task-step", view);
  if (!step.firstChild) {
    if (["published", "en_route"].includes(task.status)) step.append(atTheDoor(task));
    else if (task.status === "checked_in") step.append(recordForm(task));
    else step.append(closedCard(task));
  }
  document.body.dataset.view = "task";
}

// --- everything ------------------------------------------------------------------------------------------------------------
export function render() {
  if (!state.user) return;
  renderBars();
  const view = $("#view");
  const match = /^#\/task\/(\d+)$/.exec(location.hash);
  if (match) {
    renderTask(view, Number(match[1]));
  } else {
    if (view.dataset.task) {
      delete view.dataset.task;
      delete view.dataset.step;
    }
    renderToday(view);
  }
}
