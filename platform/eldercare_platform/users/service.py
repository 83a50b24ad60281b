"""User accounts: authentication and creation."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from eldercare_platform.core.security import hash_password, verify_password
from eldercare_platform.users.models import User, UserCreate


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


def create_user(session: Session, *, data: UserCreate) -> User:
    """Create a user with a hashed password (flushes to get the id)."""
    user = User.model_validate(data, update={"password_hash": hash_password(data.password)})
    session.add(user)
    session.flush()
    return user
