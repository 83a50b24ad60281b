"""Users' API shapes: the token, the signed-in user with permissions and scope, user administration."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel
from sqlmodel import Field

from eldercare_platform.users.models import Role, UserBase


class UserPublic(UserBase):
    """A user as the API returns it."""

    id: int


class UserCreate(UserBase):
    """What an admin sends to create a user."""

    password: str = Field(min_length=10, max_length=128)


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    role: Role


class Scope(BaseModel):
    """What the user's records cover, for people to read: everything, an area subtree, an institution, or the
    zone a field worker covers (`name` is that area's or institution's name)."""

    kind: Literal["all", "area", "institution", "zone", "none"]
    name: str | None = None


class Me(UserPublic):
    """The signed-in user, what they may do (permission names) and what their records cover."""

    permissions: list[str]
    scope: Scope
