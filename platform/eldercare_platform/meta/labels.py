"""The one place where the platform's enum values get their words, in zh-CN (first) and English.

Pages load these once after sign-in (`GET /api/meta/labels`) instead of copying enum lists into JavaScript, so a
new value reaches every page with its label. tests/unit/test_labels.py fails when a member of a listed enum has no
label in either language (or a label names a value the enum does not have).

Alarm types are the exception that proves the rule: the queue shows the label of the priority table
(`alarm_type.label_zh/label_en`, editable per deployment) that every alarm carries; the labels here
(`eventType`) name what a device reported, for lists such as the card's last 24 hours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import get_args

from eldercare_common.contract.v1 import EventType, FaultType
from eldercare_platform.alarms.models import AlarmState, CallResult, Outcome, ReachMethod, TraceAction
from eldercare_platform.devices.models import DeviceKind, DeviceState
from eldercare_platform.residents.models import CapabilityLevel, CareTier, Gender, ResidentCategory, ResidentStatus
from eldercare_platform.users.models import Role
from eldercare_platform.users.permissions import Permission
from eldercare_platform.users.schemas import Scope

LOCALES = ("zh-CN", "en")

Words = tuple[str, str]  # (zh-CN, en)
"""A value's label: Chinese first, then English."""

ALARM_STATE: dict[str, Words] = {
    AlarmState.NEW: ("待接警", "New"),
    AlarmState.ACKNOWLEDGED: ("已接警", "Acknowledged"),
    AlarmState.IN_PROGRESS: ("处理中", "In progress"),
    AlarmState.RESOLVED: ("已结案", "Resolved"),
}

TRACE_ACTION: dict[str, Words] = {
    TraceAction.OPENED: ("生成告警", "opened"),
    TraceAction.EVENT_ATTACHED: ("重复呼叫", "pressed again"),
    TraceAction.ACKNOWLEDGE: ("接警", "Acknowledge"),
    TraceAction.CALL_BACK: ("回拨", "call back"),
    TraceAction.NOTIFY_CONTACTS: ("通知联系人", "contacts notified"),
    TraceAction.DISPATCH: ("派人上门", "Dispatch"),
    TraceAction.CALL_EMERGENCY: ("呼叫急救/消防", "emergency services called"),
    TraceAction.ESCALATE: ("超时升级", "escalated"),
    TraceAction.RESIDENT_CANCELLED: ("老人取消", "resident cancelled"),
    TraceAction.SUBSTITUTE_COVER: ("需替代照看", "substitute cover needed"),
    TraceAction.NOTE: ("备注", "Note"),
    TraceAction.RESOLVE: ("结案", "Resolve"),
}

CALL_RESULT: dict[str, Words] = {
    CallResult.REACHED: ("已接通", "reached"),
    CallResult.NO_ANSWER: ("无人接听", "no answer"),
    CallResult.BUSY: ("占线", "busy"),
}

OUTCOME: dict[str, Words] = {
    Outcome.ASSISTED_BY_PHONE: ("电话协助解决", "Assisted by phone"),
    Outcome.ASSISTED_AT_HOME: ("上门协助", "Assisted at home"),
    Outcome.TAKEN_TO_HOSPITAL: ("送医", "Taken to hospital"),
    Outcome.FALSE_ALARM: ("误报", "False alarm"),
    Outcome.DEVICE_TEST: ("设备测试", "Device test"),
    Outcome.RESIDENT_CANCELLED: ("老人取消", "Resident cancelled"),
    Outcome.DEVICE_FIXED: ("设备已修复", "Device fixed"),
    Outcome.REFERRED: ("转介处理", "Referred"),
}

REACH_METHOD: dict[str, Words] = {
    ReachMethod.PHONE: ("电话", "Phone"),
    ReachMethod.DEVICE_VOICE: ("设备通话", "Device voice"),
    ReachMethod.STAFF_AT_HOME: ("工作人员上门", "Staff at home"),
    ReachMethod.CONTACT_AT_HOME: ("家属/邻居上门", "Contact at home"),
    ReachMethod.EMERGENCY_SERVICES: ("急救/消防", "Emergency services"),
    ReachMethod.NOT_REACHED: ("未联系上(已派人)", "Not reached (dispatched)"),
}

EVENT_TYPE: dict[str, Words] = {
    EventType.SOS: ("紧急呼叫", "SOS call"),
    EventType.FALL: ("跌倒", "Fall"),
    EventType.SMOKE: ("烟雾报警", "Smoke"),
    EventType.GAS: ("燃气泄漏", "Gas leak"),
    EventType.WATER: ("漏水", "Water leak"),
    EventType.DOOR_OPEN: ("门未关", "Door left open"),
    EventType.INACTIVITY: ("长时间无活动", "Inactivity"),
    EventType.BED_EXIT: ("夜间离床", "Bed exit at night"),
    EventType.ABNORMAL_VITALS: ("生命体征异常", "Abnormal vitals"),
    EventType.TAMPER: ("设备被拆", "Tamper"),
    EventType.CANCEL: ("老人取消呼叫", "Resident cancelled"),
    FaultType.DEVICE_SILENT: ("设备失联", "Device silent"),
    FaultType.LOW_BATTERY: ("电量低", "Low battery"),
    FaultType.MAINS_LOST: ("市电断开", "Mains power lost"),
}

DEVICE_KIND: dict[str, Words] = {
    DeviceKind.HOME_ALARM_UNIT: ("一键通呼叫器", "Home alarm unit"),
    DeviceKind.FALL_DETECTOR: ("跌倒探测器", "Fall detector"),
    DeviceKind.SMOKE_SENSOR: ("烟感", "Smoke sensor"),
    DeviceKind.GAS_SENSOR: ("燃气探测器", "Gas sensor"),
    DeviceKind.WATER_SENSOR: ("水浸探测器", "Water sensor"),
    DeviceKind.DOOR_CONTACT: ("门磁", "Door contact"),
    DeviceKind.VITALS_MONITOR: ("生命体征监测仪", "Vitals monitor"),
    DeviceKind.SMART_MATTRESS: ("智能床垫", "Smart mattress"),
    DeviceKind.CHECKIN_TERMINAL: ("智能服务终端", "Check-in terminal"),
    DeviceKind.ROOM_SENSOR: ("环境传感器", "Room sensor"),
    DeviceKind.CANTEEN_CHECKIN: ("助餐签到机", "Canteen check-in"),
    DeviceKind.CAMERA: ("摄像头", "Camera"),
}

DEVICE_STATE: dict[str, Words] = {
    DeviceState.ACTIVE: ("在用", "Active"),
    DeviceState.MAINTENANCE: ("维护中", "Maintenance"),
    DeviceState.RETIRED: ("已停用", "Retired"),
}

ROLE: dict[str, Words] = {
    Role.OPERATOR: ("坐席", "Operator"),
    Role.CAREGIVER: ("护理员", "Caregiver"),
    Role.SUPERVISOR: ("监管人员", "Supervisor"),
    Role.ADMIN: ("管理员", "Administrator"),
}

PERMISSION: dict[str, Words] = {
    Permission.ALARMS_READ: ("查看告警", "See alarms"),
    Permission.ALARMS_HANDLE: ("处理告警", "Handle alarms"),
    Permission.ALARM_TYPES_EDIT: ("维护告警优先级", "Edit alarm priorities"),
    Permission.RESIDENTS_READ: ("查看老人档案", "See resident records"),
    Permission.DEVICES_READ: ("查看设备", "See devices"),
    Permission.DEVICES_COMMAND: ("向设备下发指令", "Command devices"),
    Permission.DEVICES_ADMIN: ("设备开通与管理", "Provision devices"),
    Permission.USERS_ADMIN: ("账号管理", "Manage accounts"),
    Permission.SYSTEM_STATUS: ("查看系统状态", "See system status"),
}

SCOPE: dict[str, Words] = {  # the kinds of /api/auth/me's `scope` (users/views.py: Scope.kind)
    "all": ("全部辖区", "All areas"),
    "area": ("辖区", "Area"),
    "institution": ("机构", "Institution"),
    "zone": ("服务片区", "Service zone"),
    "none": ("未设定", "Not set"),
}

GENDER: dict[str, Words] = {Gender.FEMALE: ("女", "F"), Gender.MALE: ("男", "M")}

CAPABILITY: dict[str, Words] = {
    CapabilityLevel.INTACT: ("能力完好", "Intact"),
    CapabilityLevel.MILD: ("轻度受损", "Mild"),
    CapabilityLevel.MODERATE: ("中度受损", "Moderate"),
    CapabilityLevel.SEVERE: ("重度受损", "Severe"),
    CapabilityLevel.TOTAL: ("完全丧失", "Total loss"),
}

CARE_TIER: dict[str, Words] = {
    CareTier.HIGH_RISK: ("高风险(每周)", "High risk (weekly)"),
    CareTier.KEY: ("重点(每月)", "Key (monthly)"),
    CareTier.REGULAR: ("一般(每季)", "Regular (quarterly)"),
}

RESIDENT_CATEGORY: dict[str, Words] = {
    ResidentCategory.EXTREME_POVERTY: ("特困", "Extreme poverty"),
    ResidentCategory.MINIMUM_INCOME: ("低保", "Minimum income"),
    ResidentCategory.MARGINAL_INCOME: ("低边", "Marginal income"),
    ResidentCategory.ADVANCED_AGE: ("高龄", "80+"),
    ResidentCategory.LIVING_ALONE: ("独居", "Living alone"),
    ResidentCategory.EMPTY_NEST: ("空巢", "Empty nest"),
    ResidentCategory.LEFT_BEHIND: ("留守", "Left behind"),
    ResidentCategory.LOST_ONLY_CHILD: ("失独", "Lost only child"),
    ResidentCategory.DISABLED: ("失能", "Disabled"),
    ResidentCategory.SEMI_DISABLED: ("半失能", "Semi-disabled"),
    ResidentCategory.DEMENTIA: ("认知障碍", "Dementia"),
}

RESIDENT_STATUS: dict[str, Words] = {
    ResidentStatus.ACTIVE: ("在册", "Active"),
    ResidentStatus.IN_INSTITUTION: ("已入住机构", "In an institution"),
    ResidentStatus.MOVED_OUT: ("已迁出", "Moved out"),
    ResidentStatus.DECEASED: ("已故", "Deceased"),
}

# kind (the name pages look labels up by) → (every value the kind has, their labels).
KINDS: dict[str, tuple[tuple[str, ...], Mapping[str, Words]]] = {}


def _kind(name: str, values: Iterable[str], labels: Mapping[str, Words]) -> None:
    KINDS[name] = (tuple(str(value) for value in values), labels)


def _members(*enums: type[StrEnum]) -> list[str]:
    return [str(member) for enum in enums for member in enum]


_kind("alarmState", _members(AlarmState), ALARM_STATE)
_kind("traceAction", _members(TraceAction), TRACE_ACTION)
_kind("callResult", _members(CallResult), CALL_RESULT)
_kind("outcome", _members(Outcome), OUTCOME)
_kind("reachMethod", _members(ReachMethod), REACH_METHOD)
_kind("eventType", _members(EventType, FaultType), EVENT_TYPE)
_kind("deviceKind", _members(DeviceKind), DEVICE_KIND)
_kind("deviceState", _members(DeviceState), DEVICE_STATE)
_kind("role", _members(Role), ROLE)
_kind("permission", _members(Permission), PERMISSION)
_kind("scope", get_args(Scope.model_fields["kind"].annotation), SCOPE)
_kind("gender", _members(Gender), GENDER)
_kind("capability", _members(CapabilityLevel), CAPABILITY)
_kind("careTier", _members(CareTier), CARE_TIER)
_kind("residentCategory", _members(ResidentCategory), RESIDENT_CATEGORY)
_kind("residentStatus", _members(ResidentStatus), RESIDENT_STATUS)


def missing_labels() -> list[str]:
    """`kind.value` of every value without both labels, and of every label naming no value (for the test)."""
    problems = []
    for kind, (values, labels) in KINDS.items():
        for value in values:
            words = labels.get(value)
            if not words or len(words) != len(LOCALES) or not all(w.strip() for w in words):
                problems.append(f"{kind}.{value}")
        problems.extend(f"{kind}.{extra} (not a value)" for extra in set(labels) - set(values))
    return problems


def all_labels() -> dict[str, dict[str, dict[str, str]]]:
    """kind → value → {"zh-CN": ..., "en": ...}, values in declaration order."""
    return {
        kind: {value: dict(zip(LOCALES, labels[value], strict=True)) for value in values if value in labels}
        for kind, (values, labels) in KINDS.items()
    }
