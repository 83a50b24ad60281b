"""Login (OAuth2 password flow), the current user, and user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from eldercare_platform.core.deps import CurrentUser, NowDep, SessionDep, SettingsDep
from eldercare_platform.core.errors import errors
from eldercare_platform.core.security import create_access_token
from eldercare_platform.users import service
from eldercare_platform.users.deps import UsersAdmin
from eldercare_platform.users.models import User
from eldercare_platform.users.permissions import permissions_of
from eldercare_platform.users.schemas import Me, Token, UserCreate, UserPublic

router = APIRouter(tags=["auth & users"])


@router.post("/auth/token", response_model=Token, responses=errors(401))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    now: NowDep,
) -> Token:
    """Exchange username and password for a bearer token valid for one shift."""
    client_ip = request.client.host if request.client else None
    user = service.log_in(session, username=form.username, password=form.password, now=now, client_ip=client_ip)
    session.commit()
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail={"detail": "Incorrect username or password", "code": "invalid_credentials"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    assert settings.jwt_secret is not None
    token = create_access_token(
        subject=str(user.id),
        role=user.role,
        secret=settings.jwt_secret.get_secret_value(),
        algorithm=settings.jwt_algorithm,
        minutes=settings.access_token_minutes,
        now=now,
    )
    return Token(access_token=token, expires_in=settings.access_token_minutes * 60, role=user.role)


@router.get("/auth/me", response_model=Me)
def me(user: CurrentUser, session: SessionDep) -> Me:
    """The signed-in user with `permissions` (pages show only what the user may use) and `scope`."""
    return Me.model_validate(
        user,
        from_attributes=True,
        update={"permissions": permissions_of(user.role), "scope": service.scope_description(session, user=user)},
    )


@router.get("/users", response_model=list[UserPublic])
def list_users(session: SessionDep, _admin: UsersAdmin) -> list[User]:
    """Every user account (admin only)."""
    return service.list_users(session)


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, responses=errors(409, 422))
def add_user(data: UserCreate, session: SessionDep, admin: UsersAdmin) -> User:
    """Create a user account (admin only)."""
    user = service.add_user(session, admin=admin, data=data)
    session.commit()
    session.refresh(user)
    return user
