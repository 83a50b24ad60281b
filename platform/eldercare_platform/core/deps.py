"""Typed FastAPI dependencies: settings, clock, database session, current user, role guards."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from datetime import UTC, datetime
from typing import Annotated

import jwt
from fastapi import Depends, HTTPException, Request, status
from fastapi.requests import HTTPConnection
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from eldercare_platform.core.clock import Clock
from eldercare_platform.core.config import ApiSettings
from eldercare_platform.core.db import engine_for
from eldercare_platform.core.security import decode_access_token
from eldercare_platform.users.models import Role, User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


async def get_settings(request: Request) -> ApiSettings:
    """The settings the app was created with (a coroutine: no thread-pool hand-off for an attribute read)."""
    settings: ApiSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]


def get_clock(connection: HTTPConnection) -> Clock:
    """The clock the app was created with (`app.state.clock`); works for HTTP and WebSocket routes."""
    clock: Clock = connection.app.state.clock
    return clock


async def _clock_dependency(connection: HTTPConnection) -> Clock:
    """`get_clock` as a dependency, a coroutine (no thread-pool hand-off); the sockets call `get_clock` itself."""
    return get_clock(connection)


ClockDep = Annotated[Clock, Depends(_clock_dependency)]


async def get_now(clock: ClockDep) -> datetime:
    """The request's "now" (aware UTC), read once so that every step of one request agrees on it."""
    return clock.now()


NowDep = Annotated[datetime, Depends(get_now)]


def get_db(settings: SettingsDep) -> Iterator[Session]:
    """A database session per request, rolled back when the request fails (services raise, views commit)."""
    with Session(engine_for(settings.sqlalchemy_url, settings.db_pool_size), expire_on_commit=False) as session:
        yield from rolled_back_on_error(session)


def rolled_back_on_error(session: Session) -> Iterator[Session]:
    """Yield the session; roll back its transaction if the request raised (a refusal, a constraint, a bug)."""
    try:
        yield session
    except Exception:
        session.rollback()
        raise


SessionDep = Annotated[Session, Depends(get_db)]
TokenDep = Annotated[str | None, Depends(oauth2_scheme)]

_UNAUTHENTICATED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="Not authenticated",
    headers={"WWW-Authenticate": "Bearer"},
)


_MAX_USER_ID = 2**31 - 1  # app_user.id is an integer column


def token_holder(
    session: Session, settings: ApiSettings, token: str | None, *, now: datetime
) -> tuple[User, datetime] | None:
    """The active user a bearer token names and when the token expires, or None for anything else
    (missing, malformed, forged, expired by the app's clock, a `sub` that is not a user id, a user
    deactivated or whose role changed).

    The one reading of a token, for HTTP requests and the alarm WebSocket alike; it never raises for a bad token.
    """
    if not token:
        return None
    assert settings.jwt_secret is not None  # filled in by ApiSettings
    try:
        claims = decode_access_token(
            token, secret=settings.jwt_secret.get_secret_value(), algorithm=settings.jwt_algorithm, now=now
        )
    except jwt.InvalidTokenError:
        return None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.isascii() or not subject.isdecimal():
        return None
    user_id = int(subject)
    if not 0 < user_id <= _MAX_USER_ID:
        return None
    user = session.get(User, user_id)
    if user is None or not user.active or user.role != claims.get("role"):
        return None
    return user, datetime.fromtimestamp(claims["exp"], UTC)


def user_for_token(session: Session, settings: ApiSettings, token: str | None, *, now: datetime) -> User | None:
    """The active user a bearer token names, or None (see `token_holder`)."""
    held = token_holder(session, settings, token, now=now)
    return None if held is None else held[0]


def get_current_user(session: SessionDep, token: TokenDep, settings: SettingsDep, now: NowDep) -> User:
    """The active user named by the bearer token; 401 otherwise (expiry is judged by the app's clock)."""
    user = user_for_token(session, settings, token, now=now)
    if user is None:
        raise _UNAUTHENTICATED
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: Role) -> Callable[[User], Coroutine[None, None, User]]:
    """A dependency that lets only the given roles through (403 for the others).

    A coroutine, like the app's other dependencies that do no I/O (settings, clock, now): FastAPI runs a plain
    function dependency in its thread pool, a hand-off per dependency per request for a set lookup.
    """
    allowed = frozenset(roles)

    async def guard(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"role {user.role} may not do this; needs one of: {', '.join(sorted(allowed))}",
            )
        return user

    guard.refuses_roles = True  # type: ignore[attr-defined]  # core/errors.py documents 403 for its routes
    return guard
