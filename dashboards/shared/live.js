// A live WebSocket to the platform: the token goes in the first message (never in the URL: URLs end up in logs),
// a ping keeps proxies from closing an idle connection, and a lost connection is opened again with a growing,
// jittered delay (1 s, 2 s, 4 s, then 5 s at most; reset once a connection opens).
import { token } from "/ui/shared/session.js";

const PING_EVERY_MS = 20_000;
const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 5_000;

export class LiveSocket {
  // `url()` → the path and query to open (read at every (re)connection, e.g. `?since=<version>`);
  // `onMessage(data)` gets each decoded JSON message; `onState("connecting" | "open" | "closed")`;
  // `onClose(event)` may return true when it handles the close itself (then nothing reconnects by itself).
  constructor({ url, onMessage, onState = () => {}, onClose = () => false }) {
    Object.assign(this, { url, onMessage, onState, onClose });
    this.socket = null;
    this.delay = FIRST_DELAY_MS;
    this.timer = null;
    this.stopped = false;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.onState("connecting");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}${this.url()}`);
    this.socket = socket;
    let pinger = null;
    socket.onopen = () => {
      socket.send(JSON.stringify({ type: "auth", token: token() }));
      this.delay = FIRST_DELAY_MS;
      this.onState("open");
      pinger = setInterval(() => socket.readyState === WebSocket.OPEN && socket.send("ping"), PING_EVERY_MS);
    };
    socket.onmessage = (message) => {
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return; // "pong" and anything else that is not JSON
      }
      this.onMessage(data);
    };
    socket.onclose = (event) => {
      clearInterval(pinger);
      if (this.socket !== socket || this.stopped) return;
      this.onState("closed");
      if (this.onClose(event)) return;
      this.retry();
    };
  }

  // Open again after the current delay (which then grows), or after `delayMs` when given.
  retry(delayMs) {
    clearTimeout(this.timer);
    const wait = delayMs ?? this.delay * (1 + Math.random() * 0.5);
    this.delay = Math.min(MAX_DELAY_MS, this.delay * 2);
    this.timer = setTimeout(() => this.connect(), wait);
  }

  // Close this connection; the usual reconnection follows (a resync).
  reopen() {
    this.socket?.close();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close();
  }
}
