// The outbox: every action the caregiver takes (accept, on my way, check in, check out, nobody answers,
// acknowledge a change, a photo) is first written to IndexedDB (idb, from npm, served by us) with an
// Idempotency-Key and the phone's time (`at`), then sent in order when there is a connection. The server records
// each key once: a request sent again after a lost answer gets the stored answer (Idempotent-Replayed), never a
// second visit. A refusal (4xx) is kept as rejected, with the server's reason, for the caregiver to read; a network
// error or a 5xx stops the round (the order matters) and is retried later: on the `online` event, every
// RETRY_EVERY_MS, and right after each new action.
import { openDB } from "/ui/vendor/idb/index.js";
import { ApiError, request } from "/ui/shared/http.js";

const RETRY_EVERY_MS = 15_000;
const RETRY_STATUSES = new Set([0, 408, 425, 429]); // and every 5xx

let dbPromise = null;
function database() {
  dbPromise = dbPromise || openDB("eldercare-caregiver", 1, {
    upgrade(db) {
      db.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
      db.createObjectStore("uploaded", { keyPath: "ref" }); // a sent photo's local key → the server's photo id
    },
  });
  return dbPromise;
}

// A fresh Idempotency-Key (1–100 of [A-Za-z0-9._:-]).
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Queue an action: { user_id, kind, task_id, path, json?, photo?: {blob, taken_at}, photo_refs?: [key], at }.
// Resolves with the stored item (its `key` is the Idempotency-Key).
export async function enqueue(action) {
  const item = { key: newKey(), state: "queued", attempts: 0, error: null, created_at: new Date().toISOString(), ...action };
  const db = await database();
  item.seq = await db.add("outbox", item);
  dirty = true;
  changed();
  return item;
}

// The user's queued and rejected actions, oldest first.
export async function items(userId) {
  const db = await database();
  return (await db.getAll("outbox")).filter((item) => item.user_id === userId);
}

export async function remove(seq) {
  const db = await database();
  await db.delete("outbox", seq);
  changed();
}

const listeners = new Set();
export function onChange(listener) {
  listeners.add(listener);
}
function changed() {
  for (const listener of listeners) listener();
}

export const sending = new Set(); // seqs in flight (the bar says "sending")

function retryable(error) {
  return !(error instanceof ApiError) || RETRY_STATUSES.has(error.status) || error.status >= 500;
}

async function send(item, token) {
  const headers = { Authorization: `Bearer ${token}`, "Idempotency-Key": item.key };
  if (item.kind === "photo") {
    const form = new FormData();
    form.append("file", item.photo.blob, item.photo.name || "photo.jpg");
    if (item.photo.taken_at) form.append("taken_at", item.photo.taken_at);
    return request(item.path, { method: "POST", body: form, headers });
  }
  let json = item.json;
  if (item.photo_refs?.length) {
    const db = await database();
    const ids = [];
    for (const ref of item.photo_refs) {
      const uploaded = await db.get("uploaded", ref);
      if (uploaded) ids.push(uploaded.id); // a refused photo is left out; the record still goes
    }
    json = { ...json, findings: { ...(json.findings || {}), photo_ids: ids } };
  }
  return request(item.path, { method: "POST", json, headers });
}

let running = null;
let dirty = false; // an action queued while a round was running: the round reads the outbox again

// Send the user's queued actions in order. `token()` gives the bearer token (null: signed out); `onSent(item,
// answer)` lets the app apply the server's answer. Resolves with why it stopped: null (all sent or refused),
// "network" (to retry) or "auth" (sign in again). One round at a time.
export function flush(userId, token, onSent) {
  running = running || (async () => {
    try {
      do {
        dirty = false;
        for (const item of await items(userId)) {
          if (item.state === "rejected") continue;
          const bearer = token();
          if (!bearer) return "auth";
          sending.add(item.seq);
          changed();
          try {
            const answer = await send(item, bearer);
            const db = await database();
            if (item.kind === "photo" && answer?.id) await db.put("uploaded", { ref: item.key, id: answer.id });
            await db.delete("outbox", item.seq);
            // only now: a resend of the record must name the same photos (the server compares the body)
            if (item.photo_refs?.length) for (const ref of item.photo_refs) await db.delete("uploaded", ref);
            onSent(item, answer);
          } catch (error) {
            const db = await database();
            if (error instanceof ApiError && error.status === 401) return "auth";
            if (retryable(error)) {
              await db.put("outbox", { ...item, attempts: item.attempts + 1, last_error: error.code || String(error.status) });
              return "network";
            }
            await db.put("outbox", {
              ...item,
              state: "rejected",
              error: { status: error.status, code: error.code, detail: error.detail, fields: error.fields },
            });
          } finally {
            sending.delete(item.seq);
            changed();
          }
        }
      } while (dirty);
      return null;
    } finally {
      running = null;
    }
  })();
  return running;
}

// Keep sending: now, when the phone says it is online again, and every RETRY_EVERY_MS while anything waits.
export function keepSending(userId, token, onSent, onStopped = () => {}) {
  const round = async () => onStopped(await flush(userId, token, onSent));
  window.addEventListener("online", round);
  const timer = setInterval(async () => {
    const waiting = (await items(userId)).some((item) => item.state !== "rejected");
    if (waiting) round();
  }, RETRY_EVERY_MS);
  round();
  return { round, stop: () => clearInterval(timer) };
}

// Forget everything kept on this phone for a signed-out user's shift (their unsent actions stay only if asked).
export async function clearUploaded() {
  const db = await database();
  await db.clear("uploaded");
}
