"""A visit's photos (table `task_photo`, migration 0013): uploaded by the caregiver of the task while checked in
or within `UPLOAD_AFTER` of completing it; read by the caregiver or a coordinator whose scope holds the task.

The type is judged by the bytes (JPEG, PNG, WebP magic numbers), never by the client's word; the size by the
setting `photo_max_bytes` (the app downscales in a canvas before it uploads).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.errors import DomainError, NotFoundError
from eldercare_platform.tasks.moments import when
from eldercare_platform.tasks.schemas import PhotoPublic
from eldercare_platform.tasks.service import TaskRuleError, TaskStateConflictError, lock_task, scope_clause
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import Permission, permissions_of

UPLOAD_AFTER = timedelta(hours=2)
"""A completed visit takes photos this long after it was completed (the phone may have been offline)."""


class PhotoNotFoundError(NotFoundError):
    """No such photo of this task for this user: 404 `photo_not_found`."""

    code = "photo_not_found"


class PhotoTooLargeError(DomainError):
    """413 `photo_too_large` (with `limit` in bytes)."""

    status = 413
    code = "photo_too_large"


def content_type_of(data: bytes) -> str | None:
    """The image type by its magic number: image/jpeg, image/png, image/webp, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_image(data: bytes, *, max_bytes: int) -> str:
    """The content type of an acceptable photo; 413 `photo_too_large`, 422 `photo_type_not_allowed`."""
    if len(data) > max_bytes:
        raise PhotoTooLargeError(f"a photo may be at most {max_bytes} bytes", limit=max_bytes, size=len(data))
    kind = content_type_of(data)
    if kind is None or len(data) < 16:
        raise TaskRuleError(
            "a photo must be a JPEG, PNG or WebP image",
            code="photo_type_not_allowed",
            allowed=["image/jpeg", "image/png", "image/webp"],
        )
    return kind


def add(
    session: Session,
    *,
    user: User,
    task_id: int,
    data: bytes,
    taken_at: datetime | None,
    now: datetime,
    max_bytes: int,
) -> PhotoPublic:
    """Store a photo of the caregiver's own task (checked in, or completed within `UPLOAD_AFTER`); 409
    `task_state_conflict` otherwise. `taken_at` (the phone's) must be within the last 24 h, not in the future."""
    task = lock_task(session, user=user, task_id=task_id, own=True)
    kind = check_image(data, max_bytes=max_bytes)
    open_for_photos = task.status == "checked_in" or (
        task.status == "completed" and task.completed_at is not None and task.completed_at >= now - UPLOAD_AFTER
    )
    if not open_for_photos:
        raise TaskStateConflictError(
            f"task {task_id} takes photos while checked in or within 2 h of completing it",
            code="photo_not_accepted",
            task_status=str(task.status),
        )
    taken = None if taken_at is None else when(taken_at, now=now)
    row = session.execute(
        text(
            "INSERT INTO task_photo (task_id, staff_id, content_type, size, sha256, data, taken_at, created_at)"
            " VALUES (:task, :staff, :type, :size, :sha, :data, :taken, :now)"
            " RETURNING id, task_id, size, content_type, sha256, taken_at, created_at"
        ),
        {
            "task": task_id,
            "staff": user.staff_id,
            "type": kind,
            "size": len(data),
            "sha": hashlib.sha256(data).hexdigest(),
            "data": data,
            "taken": taken,
            "now": now,
        },
    ).one()
    return PhotoPublic.model_validate(dict(row._mapping))


@dataclass(frozen=True)
class PhotoBytes:
    """A photo's bytes and how to serve them."""

    data: bytes
    content_type: str
    sha256: str


def read(session: Session, *, user: User, task_id: int, photo_id: int) -> PhotoBytes:
    """A photo of a task in the user's scope; a caregiver only of their own task (404 `photo_not_found`)."""
    clause, params = scope_clause(session, user)
    if Permission.TASKS_READ not in permissions_of(user.role):  # a caregiver: only their own tasks
        clause += " AND t.assignee_staff_id = :me"
        params = {**params, "me": user.staff_id if user.staff_id is not None else -1}
    row = session.execute(
        text(
            "SELECT p.data, p.content_type, p.sha256 FROM task_photo p JOIN task t ON t.id = p.task_id"
            f" WHERE p.id = :photo AND p.task_id = :task AND {clause}"
        ),
        {**params, "photo": photo_id, "task": task_id},
    ).first()
    if row is None:
        raise PhotoNotFoundError(f"photo {photo_id} of task {task_id} not found")
    return PhotoBytes(data=bytes(row.data), content_type=str(row.content_type), sha256=str(row.sha256))


def missing(session: Session, *, task_id: int, photo_ids: Sequence[int]) -> list[int]:
    """The ids of `photo_ids` that are not photos of this task."""
    found = set(
        session.execute(
            text("SELECT id FROM task_photo WHERE task_id = :task AND id = ANY(:ids)"),
            {"task": task_id, "ids": list(photo_ids)},
        ).scalars()
    )
    return sorted({int(i) for i in photo_ids} - {int(i) for i in found})
