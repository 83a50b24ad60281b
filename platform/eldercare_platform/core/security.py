"""Password hashing (Argon2 via pwdlib) and JWT access tokens (PyJWT)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash

from eldercare_platform.core.types import utcnow

_hasher = PasswordHash.recommended()
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    """Hash a user password with Argon2id."""
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password; constant work whether or not the user exists."""
    if password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    return bool(_hasher.verify(password, password_hash))


def create_access_token(*, subject: str, role: str, secret: str, algorithm: str, minutes: int) -> str:
    """A signed JWT naming the user and role, valid for `minutes`."""
    now = utcnow()
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=algorithm)


def decode_access_token(token: str, *, secret: str, algorithm: str) -> dict[str, Any]:
    """Verify a JWT and return its claims; raises `jwt.InvalidTokenError`."""
    claims: dict[str, Any] = jwt.decode(
        token, secret, algorithms=[algorithm], options={"require": ["exp", "sub", "role"]}
    )
    return claims
