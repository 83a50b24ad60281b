// The i18n core of every page: UI strings (zh-CN first, English as the alternative; the choice is kept in
// localStorage), labels for the platform's codes (loaded from the API by labels.js, never copied here), error
// texts by the API's `code`, and times in Asia/Shanghai. A page adds its own strings with addStrings().
export const STRINGS = {
  "zh-CN": {
    title: "虚拟养老院服务平台",
    subtitle: "居家养老 · 一键呼叫 · 服务监管",
    username: "用户名",
    password: "密码",
    signIn: "登录",
    signOut: "退出",
    badLogin: "用户名或密码错误",
    networkError: "无法连接服务器",
    status: "系统状态",
    components: "组件健康",
    database: "数据库",
    broker: "消息服务器 (MQTT)",
    counts: "概况",
    residents: "在册老人",
    households: "家庭户数",
    devices: "设备总数",
    devices_online: "在线设备",
    staff: "服务人员",
    events_24h: "24小时设备事件",
    dead_letters_24h: "24小时异常报文",
    residentList: "老人名册",
    name: "姓名",
    gender: "性别",
    age: "年龄",
    community: "社区",
    categories: "类别",
    capability: "能力等级",
    tier: "探访等级",
    noAccess: "您的角色无权查看此内容",
    signedInAs: "当前用户",
    updated: "更新时间",
    ok: "正常",
    language: "English",
    consoleTitle: "接警台",
    // UI words for codes that are no platform enum (telemetry fields, check states, device status lines).
    "device.online": "在线", "device.offline": "离线", "device.battery": "电量 {pct}%", "device.batteryUnknown": "电量未知",
    "device.mainsOn": "市电正常", "device.mainsOff": "市电断开", "device.lastSeen": "最后在线 {at}",
    "vital.heart_rate": "心率", "vital.spo2": "血氧", "vital.systolic": "收缩压", "vital.diastolic": "舒张压",
    "vital.temperature": "体温", "vital.in_bed": "在床", "vital.respiration_rate": "呼吸", "vital.movement": "体动",
    "vital.humidity": "湿度", "vital.co2_ppm": "二氧化碳", "yes": "是", "no": "否", "unknown": "未知",
    "check.ok": "正常", "check.disabled": "未启用", "check.error": "故障",
    "reason.escalation_realert": "超过 {after} 无人接警：已再次提醒全体坐席",
    "reason.escalation_supervisor": "超过 {after} 仍无人接警：已通知值班主管",
    "reason.device_silent_substitute_cover": "设备失联超过 {silent}：需安排替代设备或人工照看",
    "reason.resident_pressed_cancel": "老人按下了取消键",
    "duration.h": "{n}小时", "duration.m": "{n}分钟", "duration.s": "{n}秒", "duration.join": "",
    // Errors, by the API's `code` (see docs/alarm-center.md); `http.<status>` when the code is unknown.
    "error.network_error": "无法连接服务器，请检查网络后重试",
    "error.card_unavailable": "无法加载该告警的老人信息",
    "error.bad_request": "请求无法识别，请刷新页面后重试",
    "error.not_authenticated": "登录已失效，请重新登录", "error.invalid_credentials": "用户名或密码错误",
    "error.forbidden": "您的角色无权进行此操作",
    "error.not_found": "未找到相关记录（或不在您的负责范围内）",
    "error.resident_not_found": "未找到该老人（或不在您的负责范围内）",
    "error.alarm_not_found": "未找到该告警（或不在您的负责范围内）",
    "error.device_not_found": "未找到该设备（或不在您的负责范围内）",
    "error.device_event_not_found": "未找到该设备事件", "error.alarm_type_not_found": "未知的告警类型",
    "error.method_not_allowed": "不支持此操作", "error.not_acceptable": "不支持此操作",
    "error.alarm_already_acknowledged": "已由 {by} 于 {at} 接警",
    "error.alarm_resolved": "已结案，不能再操作",
    "error.alarm_state_conflict": "当前状态为“{state}”，不能执行此操作",
    "error.serial_taken": "该设备序列号已被使用", "error.device_owner_required": "请指定设备所属的家庭或机构",
    "error.username_taken": "该用户名已被使用", "error.staff_already_linked": "该工作人员已有账号",
    "error.scope_invalid": "监管人员需且只能指定一个辖区或机构", "error.duplicate": "记录已存在",
    "error.conflict": "操作冲突：数据已被他人更改，请刷新后重试",
    "error.validation_error": "提交的内容有误，请检查后重试", "error.nul_character": "提交的内容含有非法字符",
    "error.result_required": "请选择通话结果：已接通、无人接听或占线",
    "error.service_required": "请选择呼叫的电话：120、119 或 110",
    "error.dispatch_required": "未联系上老人：请先派人上门（或呼叫120/119/110）再结案",
    "error.staff_not_found": "所选人员不存在", "error.staff_inactive": "所选人员已停用，请改派他人",
    "error.unknown_reference": "引用的记录不存在", "error.invalid_value": "提交的值无效",
    "error.unprocessable": "请求无法处理，请检查后重试",
    "error.payload_too_large": "提交的内容过大", "error.unsupported_media_type": "不支持的提交格式",
    "error.too_many_requests": "操作过于频繁，请稍后重试",
    "error.internal_error": "服务器内部错误，请稍后重试或联系管理员",
    "error.busy": "系统繁忙，请稍后重试", "error.unavailable": "服务暂不可用，请稍后重试",
    "alarmError": "告警 #{id}：{message}",
    "http.400": "请求无法识别，请刷新页面后重试", "http.401": "登录已失效，请重新登录", "http.403": "您的角色无权进行此操作",
    "http.404": "未找到相关记录", "http.409": "操作冲突：数据已被他人更改，请刷新后重试",
    "http.413": "提交的内容过大", "http.422": "提交的内容有误，请检查后重试", "http.429": "操作过于频繁，请稍后重试",
    "http.500": "服务器内部错误，请稍后重试或联系管理员", "http.503": "系统繁忙，请稍后重试",
    "http.other": "请求失败（{status}），请稍后重试",
    // Pages and roles
    "myPage": "我的页面", "myPageTitle": "我的工作台", "username.label": "账号", "role": "角色", "scope": "负责范围",
    "permissions": "可用功能", "myWorkSoon": "护理员请用手机打开护理员 App（今日工作）：今日路线、上门签到签退、服务记录，离线也能用。",
    "pagesForYou": "您可以使用的页面", "consoleRefused": "您的角色（{role}）不能使用接警台。",
    "goToMyPage": "前往适合您的页面", "readOnlyConsole": "只读：您可以查看告警，但不能处理",
    "noPermissions": "暂无", "boardTitle": "服务调度看板", "caregiverApp": "护理员 App（今日工作）",
  },
  en: {
    title: "Virtual Nursing Home Platform",
    subtitle: "Home care · one-button alarm · oversight",
    username: "Username",
    password: "Password",
    signIn: "Sign in",
    signOut: "Sign out",
    badLogin: "Incorrect username or password",
    networkError: "Cannot reach the server",
    status: "System status",
    components: "Component health",
    database: "Database",
    broker: "Message broker (MQTT)",
    counts: "Overview",
    residents: "Residents",
    households: "Households",
    devices: "Devices",
    devices_online: "Devices online",
    staff: "Staff",
    events_24h: "Device events (24 h)",
    dead_letters_24h: "Dead letters (24 h)",
    residentList: "Residents",
    name: "Name",
    gender: "Gender",
    age: "Age",
    community: "Community",
    categories: "Categories",
    capability: "Capability",
    tier: "Visit tier",
    noAccess: "Your role may not see this",
    signedInAs: "Signed in as",
    updated: "Updated",
    ok: "OK",
    language: "中文",
    consoleTitle: "Alarm console",
    "device.online": "online", "device.offline": "offline", "device.battery": "battery {pct}%",
    "device.batteryUnknown": "battery unknown", "device.mainsOn": "mains on", "device.mainsOff": "mains lost",
    "device.lastSeen": "last seen {at}",
    "vital.heart_rate": "Heart rate", "vital.spo2": "SpO₂", "vital.systolic": "Systolic", "vital.diastolic": "Diastolic",
    "vital.temperature": "Temperature", "vital.in_bed": "In bed", "vital.respiration_rate": "Respiration",
    "vital.movement": "Movement", "vital.humidity": "Humidity", "vital.co2_ppm": "CO₂", yes: "yes", no: "no",
    unknown: "unknown",
    "check.ok": "OK", "check.disabled": "disabled", "check.error": "failing",
    "reason.escalation_realert": "Unanswered for {after}: every operator alerted again",
    "reason.escalation_supervisor": "Still unanswered after {after}: the supervisor on duty is told",
    "reason.device_silent_substitute_cover": "Device silent for more than {silent}: substitute device or manual cover",
    "reason.resident_pressed_cancel": "The resident pressed cancel",
    "duration.h": "{n} h", "duration.m": "{n} min", "duration.s": "{n} s", "duration.join": " ",
    "error.network_error": "Cannot reach the server; check the network and retry",
    "error.card_unavailable": "The resident card could not be loaded",
    "error.bad_request": "The request could not be read; reload the page and retry",
    "error.not_authenticated": "Your session has ended; sign in again", "error.invalid_credentials": "Incorrect username or password",
    "error.forbidden": "Your role may not do this",
    "error.not_found": "Not found (or outside your scope)", "error.resident_not_found": "Resident not found (or outside your scope)",
    "error.alarm_not_found": "Alarm not found (or outside your scope)",
    "error.device_not_found": "Device not found (or outside your scope)", "error.device_event_not_found": "Device event not found",
    "error.alarm_type_not_found": "Unknown alarm type", "error.method_not_allowed": "Not supported",
    "error.not_acceptable": "Not supported",
    "error.alarm_already_acknowledged": "already acknowledged by {by} at {at}",
    "error.alarm_resolved": "already resolved; no more actions",
    "error.alarm_state_conflict": "it is {state}; this action is not possible now",
    "error.serial_taken": "This serial number is taken", "error.device_owner_required": "Name the device's household or institution",
    "error.username_taken": "This username is taken", "error.staff_already_linked": "This staff member already has an account",
    "error.scope_invalid": "A supervisor needs exactly one scope: an area or an institution", "error.duplicate": "Already exists",
    "error.conflict": "Conflict: someone changed this first; refresh and retry",
    "error.validation_error": "Some input is invalid; check and retry", "error.nul_character": "The input contains an invalid character",
    "error.result_required": "Choose how the call went: reached, no answer or busy",
    "error.service_required": "Choose the service called: 120, 119 or 110",
    "error.dispatch_required": "The resident was not reached: dispatch someone (or call 120/119/110) before closing",
    "error.staff_not_found": "That staff member does not exist", "error.staff_inactive": "That staff member is no longer active; send someone else",
    "error.unknown_reference": "A referenced record does not exist", "error.invalid_value": "Invalid value",
    "error.unprocessable": "The request cannot be processed; check and retry",
    "error.payload_too_large": "Too large", "error.unsupported_media_type": "Unsupported format",
    "error.too_many_requests": "Too many requests; retry in a moment",
    "error.internal_error": "Server error; retry later or call the administrator",
    "error.busy": "The platform is busy; retry in a moment", "error.unavailable": "The service is unavailable; retry later",
    "alarmError": "Alarm #{id}: {message}",
    "http.400": "The request could not be read; reload the page and retry", "http.401": "Your session has ended; sign in again",
    "http.403": "Your role may not do this", "http.404": "Not found",
    "http.409": "Conflict: someone changed this first; refresh and retry",
    "http.413": "Too large", "http.422": "Some input is invalid; check and retry", "http.429": "Too many requests; retry in a moment",
    "http.500": "Server error; retry later or call the administrator", "http.503": "The platform is busy; retry in a moment",
    "http.other": "Request failed ({status}); retry later",
    "myPage": "My page", "myPageTitle": "My page", "username.label": "Account", "role": "Role", "scope": "Scope",
    "permissions": "What you may do",
    "myWorkSoon": "Caregivers: open the caregiver app (Today) on your phone: today's route, check-in/out and the visit record, offline too.",
    "pagesForYou": "Pages you can use", "consoleRefused": "Your role ({role}) cannot use the alarm console.",
    "goToMyPage": "Go to your page", "readOnlyConsole": "Read-only: you may see alarms but not handle them",
    "noPermissions": "none", "boardTitle": "Service board", "caregiverApp": "Caregiver app (Today)",
  },
};

export function currentLocale() {
  return localStorage.getItem("locale") || "zh-CN";
}

export function t(key) {
  const table = STRINGS[currentLocale()] || STRINGS["zh-CN"];
  return table[key] ?? STRINGS["zh-CN"][key] ?? key;
}

// The translation of `key`, or undefined when neither language has it.
export function lookup(key) {
  const table = STRINGS[currentLocale()] || STRINGS["zh-CN"];
  return table[key] ?? STRINGS["zh-CN"][key];
}

// Fill `{name}` placeholders of a translated template.
export function fmt(key, params = {}) {
  return (lookup(key) ?? key).replace(/\{(\w+)\}/g, (all, name) => (params[name] === undefined || params[name] === null ? "—" : String(params[name])));
}

// Labels of the platform's codes by kind (alarmState, outcome, role, permission...): GET /api/meta/labels.
const LABELS = {};

export function setLabels(labels) {
  for (const [kind, values] of Object.entries(labels || {})) LABELS[kind] = values;
}

// The codes of a kind in the server's order (e.g. the outcomes a resolve dialog offers).
export function labelCodes(kind) {
  return Object.keys(LABELS[kind] || {});
}

// A code the API returns in words: the server's label for the kind (GET /api/meta/labels), else the page's own UI
// words (`kind.code` in STRINGS: telemetry fields, check states), else `fallback` (e.g. a label the server sent
// with the record), and the code itself only as the very last resort.
export function label(kind, code, fallback) {
  if (code === null || code === undefined || code === "") return t("unknown");
  const served = LABELS[kind]?.[code];
  if (served) return served[currentLocale()] ?? served["zh-CN"];
  return lookup(`${kind}.${code}`) ?? fallback ?? String(code);
}

// Add a page's own UI strings ({ "zh-CN": {...}, en: {...} }).
export function addStrings(strings) {
  for (const [locale, table] of Object.entries(strings)) Object.assign((STRINGS[locale] ||= {}), table);
}

// Seconds as "1分30秒" / "1 min 30 s".
export function humanSeconds(seconds) {
  const total = Math.max(0, Math.round(Number(seconds) || 0));
  const parts = [];
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  if (h) parts.push(fmt("duration.h", { n: h }));
  if (m) parts.push(fmt("duration.m", { n: m }));
  if (s || !parts.length) parts.push(fmt("duration.s", { n: s }));
  return parts.join(lookup("duration.join") ?? "");
}

// A trace line's reason: system reasons are codes with parameters in `detail` (translated here); anything else
// (an operator's note, or a reason stored as text before reasons became codes) is shown as written.
export function reasonText(reason, detail = {}) {
  if (!reason) return "";
  const code = detail?.reason_code;
  if (code && code === reason && lookup(`reason.${code}`)) {
    return fmt(`reason.${code}`, { ...detail, after: humanSeconds(detail.after_s), silent: humanSeconds(detail.silent_for_s) });
  }
  return reason;
}

// An API error (http.js: ApiError) in the reader's language: by its `code`; for a code the page has no words
// for, the status's words plus the server's own `detail` (English: the detail alone), never a bare "HTTP 500".
export function errorText(error) {
  const fields = { ...(error?.fields || {}) };
  const code = error?.code;
  if (code && lookup(`error.${code}`)) {
    if (fields.at) fields.at = formatTime(fields.at);
    if (fields.state) fields.state = label("alarmState", fields.state);
    return fmt(`error.${code}`, fields);
  }
  const status = error?.status;
  const detail = typeof error?.detail === "string" && error.detail ? error.detail : null;
  if (currentLocale() === "en" && detail) return detail;
  let text;
  if (status && lookup(`http.${status}`)) text = t(`http.${status}`);
  else if (status >= 500) text = t("http.500");
  else if (status) text = fmt("http.other", { status });
  else return t("error.network_error");
  return detail ? `${text}（${detail}）` : text;
}

export function toggleLocale() {
  localStorage.setItem("locale", currentLocale() === "zh-CN" ? "en" : "zh-CN");
  location.reload();
}

// Apply data-i18n attributes and the document language.
export function translatePage() {
  document.documentElement.lang = currentLocale();
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

// Times are stored in UTC; people read them in Asia/Shanghai unless the server says otherwise.
export function formatTime(iso, timeZone = "Asia/Shanghai") {
  if (!iso) return "—";
  return new Intl.DateTimeFormat(currentLocale(), {
    timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
    hour12: false,
  }).format(new Date(iso));
}
