"""The zh/en words of the services statement's and the care-center monitor's columns and figure keys (exports and
`GET /api/meta/labels`, kind `supervisionFigure`)."""

from __future__ import annotations

from eldercare_platform.core.exports import Column

STATEMENT_COLUMNS = (
    Column("area_name", "社区", "Community"),
    Column("resident_id", "老人编号", "Resident id"),
    Column("resident_name", "老人", "Resident"),
    Column("service", "服务项目", "Service"),
    Column("funder", "资金来源", "Funder"),
    Column("provider", "服务机构", "Provider"),
    Column("hours_entitled", "应享时长(小时)", "Hours entitled"),
    Column("hours_delivered", "实际服务时长(小时)", "Hours delivered"),
    Column("sessions", "服务次数", "Sessions"),
    Column("evv_verified_sessions", "EVV核验次数", "EVV-verified sessions"),
    Column("evv_verified_share", "EVV核验率", "EVV-verified share"),
    Column("evidence", "服务记录(任务号)", "Evidence (task ids)"),
)

SERVICES_FIGURES = (
    Column("residents", "老人数", "Residents"),
    Column("lines", "结算行数", "Lines"),
    Column("hours_entitled", "应享时长(小时)", "Hours entitled"),
    Column("hours_delivered", "实际服务时长(小时)", "Hours delivered"),
    Column("delivered_share", "服务完成率", "Delivered share"),
    Column("sessions", "服务次数", "Sessions"),
    Column("evv_verified_sessions", "EVV核验次数", "EVV-verified sessions"),
    Column("evv_verified_share", "EVV核验率", "EVV-verified share"),
)
"""The statement's figure keys (totals and children)."""

MONITOR_COLUMNS = (
    Column("care_centers", "照料中心", "Care centers"),
    Column("institutions", "养老机构", "Institutions"),
    Column("terminals", "终端数", "Terminals"),
    Column("vitals_samples", "体征数据条数", "Vitals samples"),
    Column("vitals_out_of_range", "体征异常条数", "Vitals out of range"),
    Column("night_bed_exits", "夜间离床次数", "Bed exits at night"),
    Column("room_samples", "环境数据条数", "Room samples"),
    Column("room_out_of_range", "温湿度异常条数", "Room out of range"),
    Column("smoke", "烟雾报告", "Smoke"),
    Column("checkins", "签到次数", "Check-ins"),
    Column("checkin_residents", "签到人数", "Residents checked in"),
    Column("cameras", "摄像头", "Cameras"),
    Column("cameras_online", "在线摄像头", "Cameras online"),
    Column("camera_online_share", "摄像头在线率", "Camera online share"),
    Column("exceptions", "异常数", "Exceptions"),
)

FIGURES: dict[str, Column] = {column.key: column for column in (*SERVICES_FIGURES, *MONITOR_COLUMNS)}
"""Every figure key of the services statement and the monitor with its words."""
