// The console's state, shared by its modules. Only queue.js changes `alarms`; only detail.js changes `loaded`.
export const state = {
  alarms: new Map(), // open alarms by id, as the live socket and the API last told them
  selectedId: null,
  version: null, // the highest alarm version seen; null until the first hello
  // What the detail panel shows: the card of exactly one alarm ({ id, card, trace }), or null while it is
  // cleared (loading, failed, nothing selected). Actions are possible only when `loaded.id` is the selected id.
  loaded: null,
  user: null,
  canHandle: false, // permission alarms.handle (from /api/auth/me)
  filter: "all", // the queue filter: "all", "device" (alarms) or "welfare" (welfare calls: no device)
};

export const ACTING_STATES = ["acknowledged", "in_progress"];
export const OPEN_STATES = ["new", ...ACTING_STATES];
