"""The device registry. A device belongs to exactly one household, care center or institution."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, text
from sqlmodel import AutoString, Field, SQLModel

from eldercare_platform.core.params import INT4_MAX
from eldercare_platform.core.types import timestamp_field


class DeviceKind(StrEnum):
    """What a device is; the first group lives in homes, the second in care centers."""

    HOME_ALARM_UNIT = "home_alarm_unit"  # 一键通 / 家庭呼叫设备
    FALL_DETECTOR = "fall_detector"
    SMOKE_SENSOR = "smoke_sensor"
    GAS_SENSOR = "gas_sensor"
    WATER_SENSOR = "water_sensor"
    DOOR_CONTACT = "door_contact"
    VITALS_MONITOR = "vitals_monitor"
    SMART_MATTRESS = "smart_mattress"
    CHECKIN_TERMINAL = "checkin_terminal"  # 无感服务智能终端
    ROOM_SENSOR = "room_sensor"
    CANTEEN_CHECKIN = "canteen_checkin"
    CAMERA = "camera"


HOME_DEVICE_KINDS = frozenset(
    {
        DeviceKind.HOME_ALARM_UNIT,
        DeviceKind.FALL_DETECTOR,
        DeviceKind.SMOKE_SENSOR,
        DeviceKind.GAS_SENSOR,
        DeviceKind.WATER_SENSOR,
        DeviceKind.DOOR_CONTACT,
    }
)


class DeviceState(StrEnum):
    """Lifecycle of a registered device."""

    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


class DeviceBase(SQLModel):
    """Fields of a device that the API accepts."""

    serial: str = Field(
        max_length=64,
        unique=True,
        schema_extra={"pattern": r"^[A-Za-z0-9_-]+$"},
        description="Device id used in MQTT topics and as the MQTT username",
    )
    kind: DeviceKind = Field(sa_type=AutoString, index=True)
    model: str = Field(max_length=64)
    firmware: str | None = Field(default=None, max_length=32)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True, ge=1, le=INT4_MAX)
    care_center_id: int | None = Field(default=None, foreign_key="care_center.id", index=True, ge=1, le=INT4_MAX)
    institution_id: int | None = Field(default=None, foreign_key="institution.id", index=True, ge=1, le=INT4_MAX)
    resident_id: int | None = Field(
        default=None,
        foreign_key="resident.id",
        index=True,
        ge=1,
        le=INT4_MAX,
        description="Wearer, for personal devices",
    )
    heartbeat_interval_s: int = Field(default=60, ge=10, le=86_400)
    state: DeviceState = Field(default=DeviceState.ACTIVE, sa_type=AutoString)


class Device(DeviceBase, table=True):
    """A registered device."""

    __table_args__ = (
        CheckConstraint("num_nonnulls(household_id, care_center_id, institution_id) = 1", name="device_one_owner"),
    )
    id: int | None = Field(default=None, primary_key=True)
    credential_ref: str | None = Field(
        default=None, max_length=128, description="Which credential the broker holds for it (mqtt:<serial>)"
    )
    installed_at: datetime = timestamp_field(default_now=True)


class DeviceCredential(SQLModel, table=True):
    """The broker-side secret of a device: only a hash, the password is shown once at provisioning."""

    __tablename__ = "device_credential"
    __table_args__ = (
        Index(
            "uq_device_credential_active_username", "username", unique=True, postgresql_where=text("revoked_at IS NULL")
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    device_id: int = Field(foreign_key="device.id", index=True)
    username: str = Field(max_length=64)
    password_hash: str = Field(max_length=255, description="Mosquitto $7$ PBKDF2-SHA512 hash")
    created_at: datetime = timestamp_field(default_now=True)
    revoked_at: datetime | None = timestamp_field(nullable=True)
