"""User accounts: authentication (audited), creation, and what a user's scope covers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from eldercare_platform.areas.models import Area
from eldercare_platform.audit.service import record
from eldercare_platform.core.errors import ConflictError, known_constraints
from eldercare_platform.core.security import hash_password, verify_password
from eldercare_platform.facilities.models import Institution
from eldercare_platform.roster.models import Staff
from eldercare_platform.users.models import Role, User
from eldercare_platform.users.schemas import Scope, UserCreate


class UsernameTakenError(ConflictError):
    """Another account has this username."""

    code = "username_taken"


class StaffAlreadyLinkedError(ConflictError):
    """The staff record already has a user account."""

    code = "staff_already_linked"


class ScopeInvalidError(ConflictError):
    """A supervisor needs exactly one scope."""

    code = "scope_invalid"


_SCOPE_INVALID = "a supervisor or coordinator needs exactly one scope: an area or an institution"

# A race past the checks in `create_user` (two admins at once) is answered the same way.
known_constraints(
    app_user_username_key=(409, UsernameTakenError.code, "username taken"),
    app_user_staff_id_key=(409, StaffAlreadyLinkedError.code, "that staff record already has a user account"),
    supervisor_has_one_scope=(409, ScopeInvalidError.code, _SCOPE_INVALID),
)


def authenticate(session: Session, *, username: str, password: str, now: datetime) -> User | None:
    """The active user with these credentials, or None (same work whether or not the user exists).

    A successful login is stamped `last_login_at = now` (the platform's clock).
    """
    user = session.exec(select(User).where(User.username == username)).first()
    if not verify_password(password, user.password_hash if user else None):
        return None
    if user is None or not user.active:
        return None
    user.last_login_at = now
    session.add(user)
    return user


def log_in(session: Session, *, username: str, password: str, now: datetime, client_ip: str | None) -> User | None:
    """`authenticate`, with the attempt (failed or not) written to the audit log in the caller's transaction."""
    user = authenticate(session, username=username, password=password, now=now)
    if user is None:
        record(
            session, user_id=None, action="login_failed", entity="user", entity_id=username[:64], client_ip=client_ip
        )
    else:
        record(session, user_id=user.id, action="login", entity="user", entity_id=user.id, client_ip=client_ip)
    return user


def create_user(session: Session, *, data: UserCreate) -> User:
    """Create a user with a hashed password (flushes to get the id); refuses a clash before the database does."""
    if data.role in (Role.SUPERVISOR, Role.COORDINATOR) and (data.scope_area_id is None) == (
        data.scope_institution_id is None
    ):
        raise ScopeInvalidError(_SCOPE_INVALID)
    if session.execute(text("SELECT 1 FROM app_user WHERE username = :u"), {"u": data.username}).first():
        raise UsernameTakenError("username taken")
    if (
        data.staff_id is not None
        and session.execute(text("SELECT 1 FROM app_user WHERE staff_id = :s"), {"s": data.staff_id}).first()
    ):
        raise StaffAlreadyLinkedError("that staff record already has a user account")
    user = User.model_validate(data, update={"password_hash": hash_password(data.password)})
    session.add(user)
    session.flush()
    return user


def add_user(session: Session, *, admin: User, data: UserCreate) -> User:
    """Create a user account (audited)."""
    user = create_user(session, data=data)
    record(session, user_id=admin.id, action="create", entity="user", entity_id=user.id, detail={"role": user.role})
    return user


def list_users(session: Session) -> list[User]:
    """Every user account, by username."""
    return list(session.exec(select(User).order_by(col(User.username))).all())


def scope_description(session: Session, *, user: User) -> Scope:
    """What the user's records cover, for people to read (the rule itself is `core/scope.py`)."""
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
