"""Exactly-once writes for clients that retry: the `Idempotency-Key` header.

The caregiver's app queues every action offline and replays the queue when the connection returns; a response
lost on the way back makes it send the same action again. With a key (1–100 of `A-Z a-z 0-9 . _ : -`, else 422
`bad_idempotency_key`) a write happens once:

- the first request claims (user, key) in table `idempotent_request` with `INSERT … ON CONFLICT DO NOTHING` in
  the transaction of its effect, and stores its successful response there before it commits. A concurrent
  duplicate's INSERT waits on the primary key until that transaction ends: then it finds the stored row (and
  replays it), or, if the first one failed and rolled back, claims the key itself;
- a repeat with the same key, method, path and body gets the stored status and body back, with the header
  `Idempotent-Replayed: true`, and changes nothing;
- the same key with another body or path is refused: 422 `idempotency_key_reused`;
- a request that fails stores nothing (its transaction rolls back): the client may retry it with the same key.

Without the header a write behaves as it always did. The key is the user's own: two users never share one.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlmodel import Session

from eldercare_platform.core.errors import UnprocessableError

T = TypeVar("T", bound=BaseModel)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,100}")
IDEMPOTENCY_KEEP_DAYS = 7
"""Stored answers are deleted after this many days (the scheduler's `telemetry_retention` job): the app replays
its queue within a day (a step's `at` may be at most 24 h old)."""


class BadIdempotencyKeyError(UnprocessableError):
    """The header's value is not a key: 422 `bad_idempotency_key`."""

    code = "bad_idempotency_key"


class IdempotencyKeyReusedError(UnprocessableError):
    """The key was used for another request (body, method or path): 422 `idempotency_key_reused`."""

    code = "idempotency_key_reused"


@dataclass(frozen=True)
class IdempotentRequest:
    """A write's key (None: no header) and what identifies the request besides its body."""

    key: str | None
    method: str
    path: str


def idempotent_request(
    request: Request,
    key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            description="Makes the write exactly-once: a repeat with the same key and body replays the first"
            " answer (header `Idempotent-Replayed: true`); 1–100 characters of `A-Z a-z 0-9 . _ : -`",
        ),
    ] = None,
) -> IdempotentRequest:
    """The request's idempotency key, checked (422 `bad_idempotency_key`)."""
    if key is not None and not KEY_PATTERN.fullmatch(key):
        raise BadIdempotencyKeyError(
            f"{HEADER} must be 1-100 characters of A-Z a-z 0-9 . _ : -", header=HEADER, length=len(key)
        )
    return IdempotentRequest(key=key, method=request.method, path=request.url.path)


IdempotencyDep = Annotated[IdempotentRequest, Depends(idempotent_request)]


def request_hash(request: IdempotentRequest, body: Any) -> str:
    """sha256 of the method, path and body (JSON-able; `BaseModel`s as their JSON dump)."""
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    canonical = json.dumps(
        {"method": request.method, "path": request.path, "body": body},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


_CLAIM = """
INSERT INTO idempotent_request (user_id, key, method, path, request_hash, created_at)
VALUES (:user, :key, :method, :path, :hash, :now)
ON CONFLICT (user_id, key) DO NOTHING
RETURNING key
"""

_STORED = """
SELECT method, path, request_hash, status_code, response FROM idempotent_request WHERE user_id = :user AND key = :key
"""

_STORE = """
UPDATE idempotent_request SET status_code = :status, response = CAST(:response AS jsonb)
WHERE user_id = :user AND key = :key
"""


def once(
    session: Session,
    *,
    request: IdempotentRequest,
    user_id: int,
    body: Any,
    now: datetime,
    effect: Callable[[], T],
    status_code: int = 200,
) -> T | JSONResponse:
    """Run `effect` (which writes and returns the response) and commit, exactly once per key.

    Without a key: the effect and a commit. With one: claim the key, run the effect, store its response, commit
    (all one transaction); or, when the key is stored already, roll back and return the stored answer as a
    `JSONResponse` (422 `idempotency_key_reused` when it was another request's). An effect that raises rolls
    the transaction back, the claim with it."""
    try:
        if request.key is None:
            result = effect()
            session.commit()
            return result
        digest = request_hash(request, body)
        who = {"user": user_id, "key": request.key}
        claimed = session.execute(
            text(_CLAIM), {**who, "method": request.method, "path": request.path, "hash": digest, "now": now}
        ).first()
        if claimed is None:
            return _replay(session, request=request, who=who, digest=digest)
        result = effect()
        session.execute(
            text(_STORE),
            {**who, "status": status_code, "response": json.dumps(result.model_dump(mode="json"), ensure_ascii=False)},
        )
        session.commit()
        return result
    except Exception:
        session.rollback()
        raise


def _replay(session: Session, *, request: IdempotentRequest, who: dict[str, Any], digest: str) -> JSONResponse:
    stored = session.execute(text(_STORED), who).one()
    session.rollback()  # nothing of this request is written
    if (stored.method, stored.path, stored.request_hash) != (request.method, request.path, digest):
        raise IdempotencyKeyReusedError(
            f"{HEADER} {request.key!r} was already used for another request",
            header=HEADER,
            first_path=stored.path,
        )
    return JSONResponse(stored.response, status_code=int(stored.status_code), headers={REPLAYED_HEADER: "true"})
