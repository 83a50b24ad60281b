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
from eldercare_platform.alarms.models import AlarmSource, AlarmState, CallResult, Outcome, ReachMethod, TraceAction
from eldercare_platform.alerts.models import AlertKind, AlertState
from eldercare_platform.care_plans.models import AssessmentReason, Funder, Meal, MealMode, PurchasedService, StateKind
from eldercare_platform.care_plans.rules import TierReason
from eldercare_platform.care_plans.scale import LevelAdjustment
from eldercare_platform.devices.models import DeviceKind, DeviceState
from eldercare_platform.meals.models import CollectedVia, MealReason, OrderSource, OrderStatus
from eldercare_platform.planning.models import PlanKind, PlanReason, PlanStatus
from eldercare_platform.residents.models import CapabilityLevel, CareTier, Gender, ResidentCategory, ResidentStatus
from eldercare_platform.roster.models import (
    CertificateStatus,
    LeaveKind,
    PreferenceKind,
    Skill,
    StaffRole,
    TravelMode,
    Unassignable,
)
from eldercare_platform.routing.problem import UNASSIGNED_REASONS
from eldercare_platform.supervision.columns import FIGURES as SUPERVISION_FIGURES
from eldercare_platform.supervision.models import ExceptionKind
from eldercare_platform.supervision.monitor_columns import FIGURES as SERVICES_MONITOR_FIGURES
from eldercare_platform.supervision.monitor_schemas import FacilityKind, MonitorExceptionKind, StatementExceptionKind
from eldercare_platform.tasks.checklists import ALL_ITEMS, GROUPS, MEAL_OUTCOMES, PROBLEM_CATEGORIES, ChecklistAnswer
from eldercare_platform.tasks.models import EngineReason, TaskAction, TaskKind, TaskSource, TaskStatus
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
    TraceAction.VISIT_PROGRESS: ("上门进展", "visit progress"),
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
    Outcome.RESIDENT_AWAY: ("老人不在家(住院/外出)", "Resident away (hospital, family)"),
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
    Role.COORDINATOR: ("社区协调员", "Coordinator"),
    Role.SUPERVISOR: ("监管人员", "Supervisor"),
    Role.ADMIN: ("管理员", "Administrator"),
}

PERMISSION: dict[str, Words] = {
    Permission.CARE_PLANS_READ: ("查看评估与照护计划", "See assessments and care plans"),
    Permission.CARE_PLANS_EDIT: ("评估与编辑照护计划", "Assess and edit care plans"),
    Permission.ROSTER_READ: ("查看排班", "See the roster"),
    Permission.ROSTER_EDIT: ("维护排班与请假", "Edit shifts and leave"),
    Permission.TASKS_READ: ("查看任务", "See tasks"),
    Permission.TASKS_MANAGE: ("派单与调度", "Assign and manage tasks"),
    Permission.TASKS_WORK: ("执行本人任务", "Work one's own tasks"),
    Permission.ALERTS_READ: ("查看预警", "See alerts"),
    Permission.ALERTS_HANDLE: ("处理预警", "Handle alerts"),
    Permission.MEALS_READ: ("查看助餐", "See meals"),
    Permission.MEALS_MANAGE: ("管理助餐订单", "Manage meal orders"),
    Permission.ALARMS_READ: ("查看告警", "See alarms"),
    Permission.ALARMS_HANDLE: ("处理告警", "Handle alarms"),
    Permission.ALARM_TYPES_EDIT: ("维护告警优先级", "Edit alarm priorities"),
    Permission.RESIDENTS_READ: ("查看老人档案", "See resident records"),
    Permission.DEVICES_READ: ("查看设备", "See devices"),
    Permission.DEVICES_COMMAND: ("向设备下发指令", "Command devices"),
    Permission.DEVICES_ADMIN: ("设备开通与管理", "Provision devices"),
    Permission.USERS_ADMIN: ("账号管理", "Manage accounts"),
    Permission.SYSTEM_STATUS: ("查看系统状态", "See system status"),
    Permission.SUPERVISION_READ: ("查看监管统计与报表", "See supervision figures and reports"),
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

# --- the services (issue 11) ----------------------------------------------------------------------
TASK_KIND: dict[str, Words] = {
    TaskKind.ALARM_RESPONSE: ("告警上门", "Alarm response"),
    TaskKind.URGENT_VISIT: ("紧急探访", "Urgent visit"),
    TaskKind.VISIT: ("探访关爱", "Visit"),
    TaskKind.SERVICE: ("上门服务", "Home service"),
    TaskKind.MEAL_DELIVERY: ("送餐", "Meal delivery"),
    TaskKind.REASSESSMENT: ("能力复评", "Reassessment"),
    TaskKind.FOLLOW_UP: ("问题跟进", "Follow-up"),
    TaskKind.MAINTENANCE: ("设备维修", "Device maintenance"),
    TaskKind.SUBSTITUTE_COVER: ("替代照看", "Substitute cover"),
}
TASK_STATUS: dict[str, Words] = {
    TaskStatus.PLANNED: ("待派", "Planned"),
    TaskStatus.ASSIGNED: ("已派", "Assigned"),
    TaskStatus.PUBLISHED: ("已下发", "Published"),
    TaskStatus.EN_ROUTE: ("在途", "En route"),
    TaskStatus.CHECKED_IN: ("服务中", "Checked in"),
    TaskStatus.COMPLETED: ("已完成", "Completed"),
    TaskStatus.MISSED: ("已漏服", "Missed"),
    TaskStatus.CANCELLED: ("已取消", "Cancelled"),
    TaskStatus.SUSPENDED: ("暂停", "Suspended"),
}
TASK_SOURCE: dict[str, Words] = {
    TaskSource.PLAN: ("照护计划", "Care plan"),
    TaskSource.ALARM: ("告警", "Alarm"),
    TaskSource.MEAL: ("助餐", "Meal"),
    TaskSource.FINDING: ("探访发现", "Finding"),
    TaskSource.WELFARE: ("关怀呼叫", "Welfare call"),
    TaskSource.ASSESSMENT: ("能力评估", "Assessment"),
    TaskSource.DEVICE: ("设备", "Device"),
    TaskSource.MANUAL: ("手工创建", "Manual"),
}
TASK_ACTION: dict[str, Words] = {
    TaskAction.CREATED: ("创建", "created"),
    TaskAction.ASSIGNED: ("派单", "assigned"),
    TaskAction.UNASSIGNED: ("撤回派单", "unassigned"),
    TaskAction.PUBLISHED: ("下发", "published"),
    TaskAction.ACCEPTED: ("接单", "accepted"),
    TaskAction.EN_ROUTE: ("出发", "en route"),
    TaskAction.CHECKED_IN: ("签到", "checked in"),
    TaskAction.COMPLETED: ("完成", "completed"),
    TaskAction.NO_ANSWER: ("上门无人应答", "nobody answered"),
    TaskAction.MISSED: ("漏服", "missed"),
    TaskAction.CANCELLED: ("取消", "cancelled"),
    TaskAction.SUSPENDED: ("暂停", "suspended"),
    TaskAction.RESUMED: ("恢复", "resumed"),
    TaskAction.RESCHEDULED: ("改期", "rescheduled"),
    TaskAction.NOTE: ("备注", "note"),
    TaskAction.FOLLOW_UP_CREATED: ("生成跟进任务", "follow-up created"),
    TaskAction.ACKNOWLEDGED: ("护理员已确认", "acknowledged"),
}
ALERT_KIND: dict[str, Words] = {
    AlertKind.TASK_LATE: ("未按时签到", "Late check-in"),
    AlertKind.TASK_MISSED: ("任务漏服", "Task missed"),
    AlertKind.TASK_UNASSIGNED: ("任务无人可派", "Task unassigned"),
    AlertKind.TASK_NOT_ACKNOWLEDGED: ("紧急任务未确认", "Urgent task not acknowledged"),
    AlertKind.CERTIFICATION_EXPIRING: ("证书即将到期", "Certificate expiring"),
    AlertKind.CERTIFICATION_EXPIRED: ("证书已过期", "Certificate expired"),
    AlertKind.REASSESSMENT_OVERDUE: ("能力复评逾期", "Reassessment overdue"),
    AlertKind.COVERAGE_BEHIND: ("探访覆盖落后", "Visit coverage behind"),
    AlertKind.MEAL_CAPACITY: ("助餐点超员", "Meal point over capacity"),
    AlertKind.FOLLOW_UP_OPEN: ("问题待闭环", "Problem awaiting follow-up"),
    AlertKind.PLAN_FAILED: ("排班计划失败", "Plan failed"),
}
ALERT_STATE: dict[str, Words] = {
    AlertState.OPEN: ("待处理", "Open"),
    AlertState.ACKNOWLEDGED: ("处理中", "Acknowledged"),
    AlertState.RESOLVED: ("已解除", "Resolved"),
}
ASSESSMENT_REASON: dict[str, Words] = {
    AssessmentReason.INITIAL: ("首次评估", "Initial"),
    AssessmentReason.PERIODIC: ("定期复评", "Periodic"),
    AssessmentReason.HOSPITAL_DISCHARGE: ("出院后评估", "After hospital discharge"),
    AssessmentReason.FALL_INJURY: ("跌倒受伤后评估", "After a fall with injury"),
    AssessmentReason.CONDITION_CHANGE: ("状况变化", "Condition changed"),
    AssessmentReason.OTHER: ("其他", "Other"),
}
MEAL: dict[str, Words] = {
    Meal.BREAKFAST: ("早餐", "Breakfast"),
    Meal.LUNCH: ("午餐", "Lunch"),
    Meal.DINNER: ("晚餐", "Dinner"),
}
MEAL_MODE: dict[str, Words] = {
    MealMode.DINE_IN: ("堂食", "Dine in"),
    MealMode.PICK_UP: ("自取", "Pick up"),
    MealMode.DELIVERY: ("送餐上门", "Delivery"),
}
PURCHASED_SERVICE: dict[str, Words] = {
    PurchasedService.BATHING: ("助浴", "Bathing"),
    PurchasedService.CLEANING: ("助洁", "Cleaning"),
    PurchasedService.MEDICAL_ESCORT: ("助医陪诊", "Medical escort"),
    PurchasedService.SHOPPING: ("代购", "Shopping"),
    PurchasedService.ERRANDS: ("代办", "Errands"),
    PurchasedService.NURSING: ("护理", "Nursing"),
    PurchasedService.REHABILITATION: ("康复", "Rehabilitation"),
    PurchasedService.PSYCHOLOGICAL_COMFORT: ("精神慰藉", "Psychological comfort"),
}
FUNDER: dict[str, Words] = {
    Funder.GOVERNMENT: ("政府购买", "Government-purchased"),
    Funder.SELF_PAID: ("自费", "Self-paid"),
}
STATE_KIND: dict[str, Words] = {
    StateKind.HOSPITAL: ("住院", "In hospital"),
    StateKind.AWAY_WITH_FAMILY: ("随子女外出", "Away with family"),
    StateKind.MOVED: ("已迁出", "Moved away"),
    StateKind.DECEASED: ("已去世", "Deceased"),
}
ORDER_SOURCE: dict[str, Words] = {
    OrderSource.PLAN: ("计划订餐", "Meal plan"),
    OrderSource.AD_HOC: ("临时订餐", "Ad hoc"),
}
ORDER_STATUS: dict[str, Words] = {
    OrderStatus.ORDERED: ("已订", "Ordered"),
    OrderStatus.COLLECTED: ("已取餐", "Collected"),
    OrderStatus.DELIVERED: ("已送达", "Delivered"),
    OrderStatus.NOT_COLLECTED: ("未取餐", "Not collected"),
    OrderStatus.CANCELLED: ("已取消", "Cancelled"),
}
COLLECTED_VIA: dict[str, Words] = {
    CollectedVia.TERMINAL: ("终端签到", "Terminal"),
    CollectedVia.STAFF: ("送餐员确认", "Delivering staff"),
    CollectedVia.MANUAL: ("人工登记", "By hand"),
}
TRAVEL_MODE: dict[str, Words] = {
    TravelMode.FOOT: ("步行", "On foot"),
    TravelMode.EBIKE: ("电动车", "E-bike"),
    TravelMode.CAR: ("汽车", "Car"),
}

# care_plans: the tier rule's reason codes and GB/T 42195-2022's level changes (care_plans/rules.py, scale.py).
TIER_REASON: dict[str, Words] = {
    "capability_severe": ("能力重度受损或完全丧失", "Severely impaired or capability lost"),
    "alone_and_frail": ("无人照应且失能/认知障碍/中度以上受损", "Nobody at home, and frail"),
    "spouse_only_carer": ("空巢且失能/认知障碍/重度受损", "Empty nest, and dependent"),
    "advanced_age_alone": ("高龄独居或空巢", "80+ living alone or empty nest"),
    "frequent_alarms": ("近30天2次以上告警", "2+ alarms in 30 days"),
    "recent_major_event": ("近30天出院或跌倒受伤", "Discharge or injurious fall in 30 days"),
    "key_category": ("重点人群", "Key group"),
    "capability_impaired": ("能力中度受损", "Moderately impaired"),
    "recent_alarm": ("近30天有告警", "An alarm in 30 days"),
    "no_risk_factor": ("无风险因素", "No risk factor"),
}
LEVEL_ADJUSTMENT: dict[str, Words] = {
    "coma": ("处于昏迷状态", "In a coma"),
    "dementia": ("确诊为痴呆", "Diagnosed dementia"),
    "mental_disorder": ("精神科诊断的精神和行为障碍", "Psychiatric diagnosis"),
    "care_risk_events": ("近30天2次及以上照护风险事件", "2+ care-risk events in 30 days"),
}


# --- the roster (issue 11) ---
STAFF_ROLE: dict[str, Words] = {
    StaffRole.CAREGIVER: ("护理员", "Caregiver"),
    StaffRole.NURSE: ("护士", "Nurse"),
    StaffRole.SOCIAL_WORKER: ("社工", "Social worker"),
    StaffRole.COORDINATOR: ("协管员", "Coordinator"),
    StaffRole.VOLUNTEER: ("志愿者", "Volunteer"),
    StaffRole.OPERATOR: ("坐席", "Operator"),
}
SKILL: dict[str, Words] = {
    Skill.BATHING: ("助浴", "Bathing"),
    Skill.CLEANING: ("助洁", "Cleaning"),
    Skill.MEAL_DELIVERY: ("送餐", "Meal delivery"),
    Skill.MEDICAL_ESCORT: ("陪同就医", "Medical escort"),
    Skill.SHOPPING: ("代购", "Shopping"),
    Skill.NURSING: ("护理", "Nursing"),
    Skill.REHABILITATION: ("康复", "Rehabilitation"),
    Skill.PSYCHOLOGICAL_COMFORT: ("精神慰藉", "Psychological comfort"),
    Skill.VISIT: ("探访", "Visit"),
    Skill.ERRANDS: ("代办", "Errands"),
    Skill.DEVICE_MAINTENANCE: ("设备维护", "Device maintenance"),
}
LEAVE_KIND: dict[str, Words] = {
    LeaveKind.ANNUAL: ("年假", "Annual leave"),
    LeaveKind.SICK: ("病假", "Sick leave"),
    LeaveKind.TRAINING: ("培训", "Training"),
    LeaveKind.OTHER: ("其他", "Other"),
}
PREFERENCE_KIND: dict[str, Words] = {
    PreferenceKind.PREFERRED: ("优先", "Preferred"),
    PreferenceKind.DECLINED: ("回避", "Declined"),
}
CERTIFICATE_STATUS: dict[str, Words] = {
    CertificateStatus.VALID: ("有效", "Valid"),
    CertificateStatus.EXPIRING: ("即将到期", "Expiring"),
    CertificateStatus.EXPIRED: ("已过期", "Expired"),
}
UNASSIGNABLE: dict[str, Words] = {
    Unassignable.UNKNOWN_STAFF: ("无此人员", "Unknown staff member"),
    Unassignable.INACTIVE: ("已停用", "Inactive"),
    Unassignable.NOT_ON_SHIFT: ("不在班", "Not on shift"),
    Unassignable.ON_LEAVE: ("请假中", "On leave"),
    Unassignable.MISSING_SKILL: ("不具备该技能", "Lacks the skill"),
    Unassignable.CERTIFICATE_MISSING: ("缺少所需证书", "Required certificate missing"),
    Unassignable.CERTIFICATE_EXPIRED: ("所需证书已过期", "Required certificate expired"),
    Unassignable.DECLINED_RESIDENT: ("回避该老人", "Declined this resident"),
    Unassignable.MAX_TASKS_REACHED: ("本班任务已满", "Shift is full"),
}
# --- meals and welfare calls ---
ALARM_SOURCE: dict[str, Words] = {
    AlarmSource.DEVICE: ("设备告警", "Device"),
    AlarmSource.WELFARE: ("关怀呼叫", "Welfare call"),
}
MEAL_REASON: dict[str, Words] = {
    MealReason.DEADLINE_PASSED: ("超时未取", "Deadline passed"),
    MealReason.MEAL_NOT_COLLECTED: ("助餐未取", "Meal not collected"),
    MealReason.MEAL_NOT_COLLECTED_AGAIN: ("又一餐未取", "Another meal not collected"),
    MealReason.MEAL_COLLECTED_LATE: ("已补取/已送达", "Collected late"),
    MealReason.CHECKED_IN_WITHOUT_ORDER: ("未订餐签到", "Checked in without an order"),
    MealReason.CHECKED_IN_AFTER_NOT_COLLECTED: ("超时后签到", "Checked in after the deadline"),
    MealReason.CHECKED_IN_AFTER_CANCELLED: ("取消后签到", "Checked in after cancelling"),
    MealReason.DELIVERED_LATE: ("送餐超时", "Delivered late"),
    MealReason.MEAL_ORDER_CANCELLED: ("订餐已取消", "Meal order cancelled"),
    MealReason.MEAL_COLLECTED_AT_CANTEEN: ("已到食堂就餐", "Eaten at the canteen"),
    MealReason.MEAL_CAPACITY_OK: ("座位已够", "Capacity back within limits"),
    MealReason.RESIDENT_AWAY: ("老人不在家", "Resident away"),
    MealReason.LEFT_WITH_NEIGHBOUR: ("已交邻居代收", "Left with a neighbour"),
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
_kind("taskKind", _members(TaskKind), TASK_KIND)
_kind("taskStatus", _members(TaskStatus), TASK_STATUS)
_kind("taskSource", _members(TaskSource), TASK_SOURCE)
_kind("taskAction", _members(TaskAction), TASK_ACTION)
_kind("alertKind", _members(AlertKind), ALERT_KIND)
_kind("alertState", _members(AlertState), ALERT_STATE)
_kind("assessmentReason", _members(AssessmentReason), ASSESSMENT_REASON)
_kind("meal", _members(Meal), MEAL)
_kind("mealMode", _members(MealMode), MEAL_MODE)
_kind("purchasedService", _members(PurchasedService), PURCHASED_SERVICE)
_kind("funder", _members(Funder), FUNDER)
_kind("residentState", _members(StateKind), STATE_KIND)
_kind("mealOrderSource", _members(OrderSource), ORDER_SOURCE)
_kind("mealOrderStatus", _members(OrderStatus), ORDER_STATUS)
_kind("collectedVia", _members(CollectedVia), COLLECTED_VIA)
_kind("travelMode", _members(TravelMode), TRAVEL_MODE)
_kind("tierReason", TierReason.ALL, TIER_REASON)
_kind("levelAdjustment", _members(LevelAdjustment), LEVEL_ADJUSTMENT)
_kind("staffRole", _members(StaffRole), STAFF_ROLE)
_kind("skill", _members(Skill), SKILL)
_kind("leaveKind", _members(LeaveKind), LEAVE_KIND)
_kind("preferenceKind", _members(PreferenceKind), PREFERENCE_KIND)
_kind("certificateStatus", _members(CertificateStatus), CERTIFICATE_STATUS)
_kind("unassignableReason", _members(Unassignable), UNASSIGNABLE)

# --- the task engine's reason codes (tasks/generation.py, tasks/alerting.py) ---
TASK_ENGINE_REASON: dict[str, Words] = {
    EngineReason.PLAN_CHANGED: ("照护计划变更，任务取消", "Care plan changed: cancelled"),
    EngineReason.PLAN_RESCHEDULED: ("照护计划变更，任务改期", "Care plan changed: rescheduled"),
    EngineReason.NOT_DONE_IN_TIME: ("未按时完成", "Not done in time"),
    EngineReason.CHECKED_IN_OR_ENDED: ("已签到或任务已结束", "Checked in, or the task ended"),
    EngineReason.ASSIGNED_OR_ENDED: ("已派人或任务已结束", "Assigned, or the task ended"),
    EngineReason.REASSIGNED_OR_ESCALATED: ("已改派或上报", "Reassigned or escalated"),
    EngineReason.COVERAGE_RECOVERED: ("探访完成率已恢复", "Visit coverage recovered"),
    EngineReason.NO_ANSWER: ("上门无人应答", "Nobody answered at the door"),
    EngineReason.ACKNOWLEDGED_OR_MOVED_ON: ("护理员已确认或已接单", "Acknowledged or taken up by the caregiver"),
}
_kind("taskEngineReason", _members(EngineReason), TASK_ENGINE_REASON)
_kind("alarmSource", _members(AlarmSource), ALARM_SOURCE)
_kind("mealReason", _members(MealReason), MEAL_REASON)

# --- planning and routing (planning/models.py, routing/problem.py UNASSIGNED_REASONS) ---
PLAN_KIND: dict[str, Words] = {
    PlanKind.NIGHTLY: ("次日排班", "Nightly plan"),
    PlanKind.INTRADAY: ("当日调整", "Intraday replan"),
    PlanKind.URGENT_INSERTION: ("紧急插单", "Urgent insertion"),
    PlanKind.MANUAL: ("手动排班", "Manual plan"),
}
PLAN_STATUS: dict[str, Words] = {
    PlanStatus.DRAFT: ("草稿", "Draft"),
    PlanStatus.PUBLISHED: ("已发布", "Published"),
    PlanStatus.SUPERSEDED: ("已被替代", "Superseded"),
    PlanStatus.FAILED: ("失败", "Failed"),
}
PLAN_UNASSIGNED_REASON: dict[str, Words] = {
    "no_staff_on_shift": ("该时段无人当班", "Nobody on shift then"),
    "no_staff_with_skill": ("当班人员无此技能", "Nobody on shift has the skill"),
    "declined_by_all": ("合格人员均回避该老人", "Every qualified caregiver declined the resident"),
    "window_infeasible": ("时间窗内无法到达", "Nobody can get there in the window"),
    "no_capacity": ("合格人员任务已满", "Every qualified caregiver is full"),
    "no_location": ("住址无坐标", "The home has no coordinates"),
    "deferred": ("改期至其他日期", "Moved to another day"),
    "solver_failed": ("求解器未找到可行方案", "The solver found no feasible plan"),
}
PLAN_REASON: dict[str, Words] = {
    PlanReason.PLANNED: ("排班指派", "Assigned by the plan"),
    PlanReason.REPLANNED: ("重新排班改派", "Moved by a later plan"),
    PlanReason.CAREGIVER_UNAVAILABLE: ("原护理员不可用", "Caregiver no longer available"),
    PlanReason.NOT_SERVED: ("排班无法安排", "The plan could not serve it"),
    PlanReason.PLAN_PUBLISHED: ("随排班计划发布", "Published with its plan"),
    PlanReason.PLAN_SUCCEEDED: ("后续排班已成功", "A later plan succeeded"),
}
_kind("planKind", _members(PlanKind), PLAN_KIND)
_kind("planStatus", _members(PlanStatus), PLAN_STATUS)
_kind("planUnassignedReason", UNASSIGNED_REASONS, PLAN_UNASSIGNED_REASON)
_kind("planReason", _members(PlanReason), PLAN_REASON)


# --- the caregiver's visit record (tasks/checklists.py) ---
PROBLEM_CATEGORY: dict[str, Words] = {
    "health": ("健康状况", "Health"),
    "safety": ("居家安全", "Home safety"),
    "home_repair": ("房屋维修", "Home repair"),
    "hygiene": ("个人及居家卫生", "Hygiene"),
    "food": ("饮食", "Food"),
    "social": ("精神慰藉与社交", "Loneliness and social"),
    "other": ("其他", "Other"),
}
MEAL_OUTCOME: dict[str, Words] = {
    "handed_over": ("已送到老人手中", "Handed over"),
    "left_with_neighbour": ("已交邻居代收", "Left with a neighbour"),
}
CHECKLIST_ANSWER: dict[str, Words] = {
    "ok": ("正常", "OK"),
    "problem": ("有问题", "Problem"),
    "na": ("不适用", "Not applicable"),
}
CHECKLIST_GROUP: dict[str, Words] = {
    "wellbeing": ("身心状况", "Wellbeing"),
    "home_safety": ("居家安全", "Home safety"),
    "service": ("服务情况", "Service"),
}
_kind("problemCategory", PROBLEM_CATEGORIES, PROBLEM_CATEGORY)
_kind("mealOutcome", MEAL_OUTCOMES, MEAL_OUTCOME)
_kind("checklistAnswer", get_args(ChecklistAnswer), CHECKLIST_ANSWER)
_kind("checklistGroup", GROUPS, CHECKLIST_GROUP)
_kind(
    "checklistItem", [item.key for item in ALL_ITEMS], {item.key: (item.label_zh, item.label_en) for item in ALL_ITEMS}
)

# Issue 14: exceptions of the purchased-services statement and of the care-center monitor (supervision).
STATEMENT_EXCEPTION: dict[str, Words] = {
    StatementExceptionKind.EVV_UNVERIFIED: ("服务记录未通过EVV核验", "Sessions without verified EVV"),
    StatementExceptionKind.OVER_ENTITLEMENT: ("服务时长超出应享", "More hours delivered than entitled"),
    StatementExceptionKind.NOT_DELIVERED: ("应享服务未提供", "Entitled service not delivered"),
}
MONITOR_EXCEPTION: dict[str, Words] = {
    MonitorExceptionKind.SMOKE: ("烟雾报警", "Smoke"),
    MonitorExceptionKind.VITALS_OUT_OF_RANGE: ("体征异常", "Vitals out of range"),
    MonitorExceptionKind.NIGHT_BED_EXIT: ("夜间离床", "Bed exit at night"),
    MonitorExceptionKind.CAMERA_OFFLINE: ("摄像头离线", "Camera offline"),
    MonitorExceptionKind.ROOM_OUT_OF_RANGE: ("室内温湿度异常", "Room temperature or humidity out of range"),
}
FACILITY_KIND: dict[str, Words] = {
    FacilityKind.CARE_CENTER: ("照料中心", "Care center"),
    FacilityKind.INSTITUTION: ("养老机构", "Institution"),
}
_kind("facilityKind", _members(FacilityKind), FACILITY_KIND)


# --- issue 14: the supervision figures (supervision/models.py, supervision/columns.py) ---
SUPERVISION_EXCEPTION: dict[str, Words] = {
    ExceptionKind.ALARM_UNANSWERED: ("告警超时未接", "Alarm not acknowledged in time"),
    ExceptionKind.ALARM_UNRESOLVED: ("告警超时未处置", "Alarm not resolved in time"),
    ExceptionKind.ALARM_REPEAT_CALLER: ("频繁呼叫", "Repeat caller"),
    ExceptionKind.ALARM_ACK_60_BELOW_TARGET: ("60秒接警率未达标", "Answered within 60 s below target"),
    ExceptionKind.ALARM_ACK_180_BELOW_TARGET: ("180秒接警率未达标", "Answered within 180 s below target"),
    ExceptionKind.VISIT_MISSED: ("探访未完成且无后续", "Visit missed, not followed up"),
    ExceptionKind.VISIT_PROBLEM_OPEN: ("探访问题未闭环", "Problem found, not closed"),
    ExceptionKind.VISIT_RATE_BEHIND: ("探访率偏低", "Visit rate behind"),
    ExceptionKind.MEAL_NOT_COLLECTED_NO_CALL: ("未取餐且无关怀呼叫", "Meal not collected, no welfare call"),
    ExceptionKind.MEAL_NOT_COLLECTED_OPEN: ("未取餐，关怀呼叫未结", "Meal not collected, welfare call open"),
    ExceptionKind.MEAL_POINT_OVER_CAPACITY: ("助餐点超员", "Meal point over capacity"),
    ExceptionKind.DEVICE_FAULT_UNCOVERED: ("设备故障超2小时无照看", "Device fault > 2 h without cover"),
    ExceptionKind.DEVICE_SILENT_OVER_7D: ("设备失联超过7天", "Device silent for more than 7 days"),
}
_kind(  # the figures' sections, the services statement's and the monitor's: one kind for every `exceptions[].kind`
    "supervisionException",
    _members(ExceptionKind, StatementExceptionKind, MonitorExceptionKind),
    {**SUPERVISION_EXCEPTION, **STATEMENT_EXCEPTION, **MONITOR_EXCEPTION},
)
_kind(
    "supervisionFigure",
    list({**SUPERVISION_FIGURES, **SERVICES_MONITOR_FIGURES}),
    {key: (column.zh, column.en) for key, column in {**SUPERVISION_FIGURES, **SERVICES_MONITOR_FIGURES}.items()},
)


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
