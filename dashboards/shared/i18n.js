// UI strings: zh-CN first, English as the alternative. The choice is kept in localStorage.
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
    female: "女", male: "男",
    intact: "能力完好", mild: "轻度受损", moderate: "中度受损", severe: "重度受损", total: "完全丧失",
    high_risk: "高风险(每周)", key: "重点(每月)", regular: "一般(每季)",
    extreme_poverty: "特困", minimum_income: "低保", marginal_income: "低边", advanced_age: "高龄",
    living_alone: "独居", empty_nest: "空巢", left_behind: "留守", lost_only_child: "失独",
    disabled: "失能", semi_disabled: "半失能", dementia: "认知障碍",
    operator: "坐席", caregiver: "护理员", supervisor: "监管人员", admin: "管理员",
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
    female: "F", male: "M",
    intact: "Intact", mild: "Mild", moderate: "Moderate", severe: "Severe", total: "Total loss",
    high_risk: "High risk (weekly)", key: "Key (monthly)", regular: "Regular (quarterly)",
    extreme_poverty: "Extreme poverty", minimum_income: "Minimum income", marginal_income: "Marginal income",
    advanced_age: "80+", living_alone: "Living alone", empty_nest: "Empty nest", left_behind: "Left behind",
    lost_only_child: "Lost only child", disabled: "Disabled", semi_disabled: "Semi-disabled", dementia: "Dementia",
    operator: "Operator", caregiver: "Caregiver", supervisor: "Supervisor", admin: "Administrator",
  },
};

export function currentLocale() {
  return localStorage.getItem("locale") || "zh-CN";
}

export function t(key) {
  const table = STRINGS[currentLocale()] || STRINGS["zh-CN"];
  return table[key] ?? STRINGS["zh-CN"][key] ?? key;
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
