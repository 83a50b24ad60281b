"""Password hashing (Argon2 via pwdlib) and JWT access tokens (PyJWT)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt
from pwdlib import PasswordHash

from eldercare_platform.core.clock import as_utc

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


# A token issued this far "in the future" still passes (replicas' clocks differ a little); expiry is exact.
CLOCK_LEEWAY = timedelta(seconds=30)


def create_access_token(*, subject: str, role: str, secret: str, algorithm: str, minutes: int, now: datetime) -> str:
    """A signed JWT naming the user and role, valid for `minutes` from `now` (the platform's clock)."""
    now = as_utc(now)
    claims: dict[str, Any] = {
        "sub": subject,
        "role": role,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm=algorithm)


def decode_access_token(token: str, *, secret: str, algorithm: str, now: datetime) -> dict[str, Any]:
    """Verify a JWT and return its claims; raises `jwt.InvalidTokenError`.

    Expiry and issue time are judged against `now`, the platform's clock, not the process clock PyJWT
    would read: a token is valid exactly as long as the clock that issued it says.
    """
    claims: dict[str, Any] = jwt.decode(
        token,
        secret,
        algorithms=[algorithm],
        options={"require": ["exp", "sub", "role"], "verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    moment = as_utc(now).timestamp()
    leeway = CLOCK_LEEWAY.total_seconds()
    exp = _timestamp_claim(claims, "exp")
    if exp is not None and exp <= moment:
        raise jwt.ExpiredSignatureError("Signature has expired")
    for name in ("iat", "nbf"):
        issued = _timestamp_claim(claims, name)
        if issued is not None and issued > moment + leeway:
            raise jwt.ImmatureSignatureError(f"The token is not yet valid ({name})")
    return claims


def _timestamp_claim(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim as seconds since the epoch (None when absent); DecodeError when it is not a number."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise jwt.DecodeError(f"The {name} claim must be a number")
    return float(value)
