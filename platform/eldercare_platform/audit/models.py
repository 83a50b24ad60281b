"""Audit rows, append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column
from sqlmodel import Field, SQLModel

from eldercare_platform.core.types import jsonb_field, timestamp_field


class AuditLog(SQLModel, table=True):
    """One access to or change of sensitive data."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    at: datetime = timestamp_field(default_now=True, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id", index=True)
    action: str = Field(max_length=32, description="read, create, update, delete, login, login_failed")
    entity: str = Field(max_length=32)
    entity_id: str | None = Field(default=None, max_length=64)
    detail: dict[str, Any] = jsonb_field()
    client_ip: str | None = Field(default=None, max_length=64)
