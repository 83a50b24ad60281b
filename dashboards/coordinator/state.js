// The board's state, shared by its modules.
export const state = {
  user: null,
  areaId: null, // the community (or street) shown
  day: null, // "YYYY-MM-DD", a local day in Asia/Shanghai
  board: null, // the last GET /api/tasks/board answer
  plan: null, // the latest plan of the area and day (GET /api/plans/{id}), if any
  openTaskId: null, // the task in the drawer
  canManage: false, // tasks.manage: reassign
  canHandleAlerts: false, // alerts.handle: acknowledge, resolve
};

export const ZONE = "Asia/Shanghai";
export const POLL_MS = 15_000; // the board reloads every 15 s (docs/services/board.md)

// "YYYY-MM-DD" of a Date in Asia/Shanghai.
export function localDate(date = new Date()) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: ZONE, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
}

export function addDays(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

// "08:30" in Asia/Shanghai.
export function hhmm(iso) {
  if (!iso) return "—";
  return new Intl.DateTimeFormat("zh-CN", { timeZone: ZONE, hour: "2-digit", minute: "2-digit", hour12: false }).format(new Date(iso));
}

export function span(start, end) {
  return `${hhmm(start)}–${hhmm(end)}`;
}

// Every task of the board by id.
export function tasksById(board) {
  const all = new Map();
  for (const task of board?.unassigned || []) all.set(task.id, task);
  for (const staff of board?.staff || []) for (const task of staff.tasks) all.set(task.id, task);
  return all;
}
