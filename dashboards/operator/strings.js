// The console's own UI strings. Labels of the platform's codes (alarm states, outcomes, reach methods, trace
// actions, call results...) are not here: they come from GET /api/meta/labels (shared/labels.js).
import { addStrings } from "/ui/shared/i18n.js";

addStrings({
  "zh-CN": {
    consoleTitle: "接警台", queue: "告警队列", priorityShort: "级", type: "类型", waiting: "等待", sla: "时限",
    state: "状态", noAlarms: "当前没有待处理告警", selectAlarm: "选择一条告警查看详情", handover: "交接班",
    soundOn: "启用提示音", soundOff: "关闭提示音", live_open: "实时", live_connecting: "连接中…", live_closed: "已断开，重连中…",
    acknowledge: "接警", callReached: "回拨：已接通", callNoAnswer: "回拨：无人接听", notifyContacts: "已通知联系人",
    dispatch: "派人上门", dispatchTo: "派谁上门", call120: "呼叫120", call119: "呼叫119", resolve: "结案", note: "备注",
    addNote: "添加", resolveTitle: "结案", outcome: "处理结果", reachMethod: "如何联系到老人", notes: "备注", cancel: "取消",
    resident: "老人", address: "地址", members: "同住家人", conditions: "健康状况", contacts: "紧急联系人",
    keyholder: "钥匙托管", caregivers: "附近可派护理员", onShift: "在班", offShift: "不在班", last24h: "近24小时设备记录",
    trace: "处理记录", device: "设备", events: "次", overdue: "超时", newCritical: "新的紧急告警",
    escalatedAlarm: "告警超时未接", linked: "关联告警", substituteCover: "需替代设备/人工照看", call: "拨打",
    keys: "快捷键", or: "或", selectNext: "下一条", selectPrevious: "上一条",
    age: "岁", dispatched: "已派人", vitals: "生命体征", noRecords: "无记录", km: "公里", years: "岁", system: "系统",
    loading: "正在加载老人信息…", cardFailed: "无法显示此告警的详情",
    waitForCard: "所选告警的详情尚未加载完成，暂不能操作",
    acknowledged_by: "接警人", staleSelection: "所选告警已变化，操作已取消",
  },
  en: {
    consoleTitle: "Alarm console", queue: "Alarm queue", priorityShort: "P", type: "Type", waiting: "Waiting", sla: "SLA",
    state: "State", noAlarms: "No open alarms", selectAlarm: "Select an alarm to see it", handover: "Hand-over",
    soundOn: "Enable sound", soundOff: "Mute", live_open: "Live", live_connecting: "Connecting…",
    live_closed: "Disconnected, reconnecting…", acknowledge: "Acknowledge", callReached: "Call back: reached",
    callNoAnswer: "Call back: no answer", notifyContacts: "Contacts notified", dispatch: "Dispatch", dispatchTo: "Who goes",
    call120: "Call 120", call119: "Call 119", resolve: "Resolve", note: "Note", addNote: "Add", resolveTitle: "Resolve",
    outcome: "Outcome", reachMethod: "How the resident was reached", notes: "Notes", cancel: "Cancel",
    resident: "Resident", address: "Address", members: "Household", conditions: "Conditions",
    contacts: "Emergency contacts", keyholder: "keyholder", caregivers: "Nearest caregivers", onShift: "on shift",
    offShift: "off shift", last24h: "Devices, last 24 h", trace: "Trace", device: "Device", events: "events",
    overdue: "overdue", newCritical: "New critical alarm", escalatedAlarm: "Alarm unanswered", linked: "Linked alarms",
    substituteCover: "Substitute / manual cover needed", call: "Call",
    keys: "Keys", or: "or", selectNext: "next", selectPrevious: "previous",
    age: "y", dispatched: "Dispatched", vitals: "Vitals", noRecords: "None", km: "km", years: "y", system: "system",
    loading: "Loading the resident card…", cardFailed: "This alarm's details cannot be shown",
    waitForCard: "The selected alarm's details have not arrived yet; no action for now",
    acknowledged_by: "taken by", staleSelection: "The selected alarm changed; the action was cancelled",
  },
});
