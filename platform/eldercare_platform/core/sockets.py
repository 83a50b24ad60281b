"""What every live WebSocket of the API shares: first-message authentication and its close codes.

The alarm console's socket (`/api/alarms/live`) and the caregiver's (`/api/me/tasks/live`) both accept, then
wait up to 5 s for `{"type": "auth", "token": "<access token>", "since"?: <version>}` (never `?token=` in the
URL: URLs are logged), read the token exactly as an HTTP request's (`core.deps.token_holder`), and close with
4400 / 4401 / 4403 (an HTTP status + 4000) when refused; a socket is closed with 4401 when its token expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import WebSocket, WebSocketDisconnect
from sqlmodel import Session

from eldercare_platform.core.clock import Clock
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.deps import token_holder
from eldercare_platform.core.scope import Scope, scope_of
from eldercare_platform.users.models import User

WS_BAD_MESSAGE = 4400  # the first message is not {"type": "auth", "token": ...}
WS_UNAUTHENTICATED = 4401  # no, a bad or an expired token; no auth message in time; a token in the URL
WS_FORBIDDEN = 4403  # a role (or a user) that may not open this socket
AUTH_TIMEOUT_S = 5.0
TOKEN_IN_URL = "token in the URL refused: send it in the first message"
BAD_MESSAGE = 'the first message must be {"type": "auth", "token": "<access token>"}'
UNAUTHENTICATED = "not authenticated"


@dataclass(frozen=True)
class SocketUser:
    """Who opened the socket, what they may see, and when their token runs out."""

    user: User
    scope: Scope
    expires_at: datetime


def socket_user(settings: Any, token: str, now: datetime) -> SocketUser | None:
    """The user, scope and token expiry for a live socket, or None when the token does not name an active user
    (the same reading of the token as every HTTP request: `core/deps.py`). Blocking: call it in a thread."""
    with Session(engine_for(settings.sqlalchemy_url, settings.db_pool_size), expire_on_commit=False) as session:
        held = token_holder(session, settings, token, now=now)
        if held is None:
            return None
        user, expires_at = held
        return SocketUser(user=user, scope=scope_of(session, user), expires_at=expires_at)


async def first_message(websocket: WebSocket) -> tuple[str, int | None] | int:
    """The token (and `since`) of the auth message, or the close code to refuse with."""
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout=AUTH_TIMEOUT_S)
    except TimeoutError:
        return WS_UNAUTHENTICATED
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    try:
        body = json.loads(message.get("text") or "")
    except ValueError:
        return WS_BAD_MESSAGE
    if not isinstance(body, dict) or body.get("type") != "auth" or not isinstance(body.get("token"), str):
        return WS_BAD_MESSAGE
    since = body.get("since")
    if since is not None and (isinstance(since, bool) or not isinstance(since, int) or since < 0):
        return WS_BAD_MESSAGE
    return body["token"], since


async def serve_pings(websocket: WebSocket) -> None:
    """Answer "ping" with a pong until the client goes away (raises WebSocketDisconnect); ignore anything else."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        if message.get("text") == "ping":  # anything else (binary frames too) is ignored
            await websocket.send_json({"type": "pong"})


async def serve_live(
    websocket: WebSocket, queue: asyncio.Queue[dict[str, object]], *, expires_at: datetime, clock: Clock
) -> None:
    """A live channel after its hello: push what the hub queues, answer pings, and close when the token expires
    (judged by the app's clock); returns (or raises WebSocketDisconnect) when the client goes away."""

    async def pump() -> None:
        while True:
            await websocket.send_json(await queue.get())

    async def expire() -> None:
        await asyncio.sleep(max(0.0, (expires_at - clock.now()).total_seconds()))
        await websocket.close(code=WS_UNAUTHENTICATED, reason="token expired")

    tasks = [asyncio.create_task(pump()), asyncio.create_task(expire())]
    try:
        await serve_pings(websocket)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
