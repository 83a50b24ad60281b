"""Login (OAuth2 password flow), the current user, and user administration."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from eldercare_platform.areas.models import Area
from eldercare_platform.audit.service import record
from eldercare_platform.core.deps import CurrentUser, NowDep, SessionDep, SettingsDep, require_roles
from eldercare_platform.core.errors import constraint_refusal, errors
from eldercare_platform.core.security import create_access_token
from eldercare_platform.facilities.models import Institution
from eldercare_platform.roster.models import Staff
from eldercare_platform.users.models import Role, User, UserCreate, UserPublic
from eldercare_platform.users.permissions import permissions_of
from eldercare_platform.users.service import authenticate, create_user

router = APIRouter(tags=["auth & users"])


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: Role


@router.post("/auth/token", response_model=Token, responses=errors(401))
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    now: NowDep,
) -> Token:
    """Exchange username and password for a bearer token valid for one shift."""
    user = authenticate(session, username=form.username, password=form.password, now=now)
    client_ip = request.client.host if request.client else None
    if user is None:
        record(
            session,
            user_id=None,
            action="login_failed",
            entity="user",
            entity_id=form.username[:64],
            client_ip=client_ip,
        )
        session.commit()
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail={"detail": "Incorrect username or password", "code": "invalid_credentials"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    record(session, user_id=user.id, action="login", entity="user", entity_id=user.id, client_ip=client_ip)
    session.commit()
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


class Scope(BaseModel):
    """What the user's records cover, for people to read: everything, an area subtree, an institution, or the
    zone a field worker covers (`name` is that area's or institution's name)."""

    kind: Literal["all", "area", "institution", "zone", "none"]
    name: str | None = None


class Me(UserPublic):
    """The signed-in user, what they may do (permission names) and what their records cover."""

    permissions: list[str]
    scope: Scope


def _scope_of(session: Session, user: User) -> Scope:
    if user.scope_area_id is not None:
        area = session.get(Area, user.scope_area_id)
        return Scope(kind="area", name=area.name if area else None)
    if user.scope_institution_id is not None:
        institution = session.get(Institution, user.scope_institution_id)
        return Scope(kind="institution", name=institution.name if institution else None)
    if user.role in (Role.OPERATOR, Role.ADMIN):
        return Scope(kind="all")
    if user.staff_id is not None:
        staff = session.get(Staff, user.staff_id)
        zone = session.get(Area, staff.home_area_id) if staff else None
        return Scope(kind="zone", name=zone.name if zone else None)
    return Scope(kind="none")


@router.get("/auth/me", response_model=Me)
def me(user: CurrentUser, session: SessionDep) -> Me:
    """The signed-in user with `permissions` (pages show only what the user may use) and `scope`."""
    return Me.model_validate(
        user, from_attributes=True, update={"permissions": permissions_of(user.role), "scope": _scope_of(session, user)}
    )


@router.get("/users", response_model=list[UserPublic], dependencies=[Depends(require_roles(Role.ADMIN))])
def list_users(session: SessionDep) -> list[User]:
    """Every user account (admin only)."""
    return list(session.exec(select(User).order_by(User.username)).all())


_USER_REFUSALS = {
    "app_user_username_key": (409, "username_taken", "username taken"),
    "app_user_staff_id_key": (409, "staff_already_linked", "that staff record already has a user account"),
    "supervisor_has_one_scope": (
        409,
        "scope_invalid",
        "a supervisor needs exactly one scope: an area or an institution",
    ),
}


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED, responses=errors(409, 422))
def add_user(data: UserCreate, session: SessionDep, admin: Annotated[User, Depends(require_roles(Role.ADMIN))]) -> User:
    """Create a user account (admin only)."""
    try:
        user = create_user(session, data=data)
        record(
            session,
            user_id=admin.id,
            action="create",
            entity="user",
            entity_id=user.id,
            detail={"role": user.role},
        )
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise constraint_refusal(exc, _USER_REFUSALS) from exc
    session.refresh(user)
    return user
