"""The zh/en column labels of each section's export (the same keys as its figures)."""

from __future__ import annotations

from collections.abc import Iterable

from eldercare_platform.core.exports import Column

ALARMS = [
    Column("alarms", "告警数", "Alarms"),
    Column("acknowledged", "已接警", "Acknowledged"),
    Column("resolved", "已处置", "Resolved"),
    Column("ack_p50_s", "接警时长中位数(秒)", "Time to acknowledge p50 (s)"),
    Column("ack_p90_s", "接警时长P90(秒)", "Time to acknowledge p90 (s)"),
    Column("resolve_p50_s", "处置时长中位数(秒)", "Time to resolve p50 (s)"),
    Column("resolve_p90_s", "处置时长P90(秒)", "Time to resolve p90 (s)"),
    Column("ack_within_60s", "60秒内接警", "Acknowledged ≤ 60 s"),
    Column("ack_within_180s", "180秒内接警", "Acknowledged ≤ 180 s"),
    Column("ack_within_60s_share", "60秒接警率", "Share acknowledged ≤ 60 s"),
    Column("ack_within_180s_share", "180秒接警率", "Share acknowledged ≤ 180 s"),
    Column("repeat_callers", "频繁呼叫老人(≥3次)", "Repeat callers (≥ 3)"),
    Column("active_residents", "在册老人", "Active residents"),
    Column("alarms_per_1000_residents", "每千名老人告警数", "Alarms per 1,000 residents"),
]
VISITS = [
    Column("due", "应探访", "Visits due"),
    Column("done", "已探访", "Visits done"),
    Column("visit_rate", "探访率", "Visit rate"),
    Column("late", "迟到", "Late"),
    Column("missed", "未完成", "Missed"),
    Column("excused", "住院/外出免计", "Excused (hospital, away, cancelled)"),
    Column("pending", "进行中", "Pending"),
    Column("problems", "发现问题", "Problems found"),
    Column("closed", "已闭环", "Closed"),
    Column("close_rate", "闭环率", "Closed share"),
    Column("close_median_s", "闭环时长中位数(秒)", "Median time to close (s)"),
]
CAREGIVERS = [
    Column("name", "护理员", "Caregiver"),
    Column("institution", "所属机构", "Institution"),
    *VISITS[:5],
    *VISITS[7:],
]
MEALS = [
    Column("orders", "订餐数", "Orders"),
    Column("cancelled", "已取消", "Cancelled"),
    Column("delivered", "已送达", "Delivered"),
    Column("collected", "已取餐", "Collected"),
    Column("not_collected", "未取餐", "Not collected"),
    Column("settled", "应送达", "Settled orders"),
    Column("served_rate", "送达率", "Served rate"),
]
MEAL_POINTS = [
    Column("name", "助餐点", "Meal point"),
    Column("capacity_per_meal", "每餐座位", "Seats per meal"),
    Column("meals", "餐次", "Meals served"),
    Column("orders", "订餐数", "Orders"),
    Column("seats_taken", "占用座位", "Seats taken"),
    Column("peak_seats", "最高占用", "Peak seats"),
    Column("capacity_use", "座位使用率", "Capacity use"),
    Column("peak_use", "最高使用率", "Peak use"),
    Column("over_capacity_meals", "超员餐次", "Meals over capacity"),
]
DEVICES = [
    Column("devices", "设备数", "Devices"),
    Column("online", "在线", "Online"),
    Column("online_share", "在线率", "Online share"),
    Column("silent_1_24h", "失联1-24小时", "Silent 1–24 h"),
    Column("silent_1_7d", "失联1-7天", "Silent 1–7 d"),
    Column("silent_over_7d", "失联超过7天", "Silent > 7 d"),
    Column("never_seen", "从未上线", "Never seen"),
    Column("low_battery", "电量低", "Low battery"),
    Column("faults_opened", "新增故障", "Faults opened"),
    Column("faults_open", "未处置故障", "Faults open"),
    Column("faults_open_over_2h", "故障超过2小时", "Faults open > 2 h"),
    Column("faults_over_2h_substitute_cover", "替代照看", "…covered by substitute"),
    Column("faults_over_2h_task", "已派工单", "…covered by a task"),
    Column("faults_over_2h_uncovered", "无照看", "…not covered"),
]
PREFIXES = {
    "type": ("类型", "Type"),
    "outcome": ("结果", "Outcome"),
    "missed": ("未完成原因", "Missed"),
    "not_collected": ("未取餐后续", "Not collected →"),
}


def with_dotted(columns: list[Column], keys: Iterable[str]) -> list[Column]:
    """The section's columns plus one per dotted key found in the figures (`type.sos` → 类型: sos)."""
    extra = []
    for key in sorted(keys):
        prefix, _, value = key.partition(".")
        if value and prefix in PREFIXES:
            zh, en = PREFIXES[prefix]
            extra.append(Column(key, f"{zh}: {value}", f"{en}: {value}"))
    return [*columns, *extra]


def _figures() -> dict[str, Column]:
    found: dict[str, Column] = {}
    for column in [*ALARMS, *VISITS, *MEALS, *DEVICES, *MEAL_POINTS[1:]]:
        found.setdefault(column.key, column)
    return found


FIGURES: dict[str, Column] = _figures()
"""Every figure key of the alarms, visits, meals and devices sections (and the meal-point table) with its words."""
