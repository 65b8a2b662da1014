"""Users, their role assignments with scopes, server-side sessions and sign-in attempts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    SUPERVISOR = "supervisor"
    CLINIC = "clinic"
    ADMIN = "admin"


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    phone: str | None = Field(default=None, max_length=20, unique=True)
    full_name: str = Field(max_length=120)
    password_hash: str = Field(max_length=255)
    language: str = Field(default="vi", max_length=5)
    is_active: bool = True
    must_change_password: bool = False
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_at: datetime = created_field()
    password_changed_at: datetime | None = None
    version: int = 1


class RoleAssignment(SQLModel, table=True):
    """One role with one scope: a place (commune/province) or a facility."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    role: Role = enum_field(Role)
    place_id: int | None = Field(default=None, foreign_key="place.id")
    facility_id: int | None = Field(default=None, foreign_key="organisation.id")
    created_at: datetime = created_field()


class RoleRequest(SQLModel, table=True):
    """A role an administrator asked for that needs a second administrator's approval: one
    that would let an account hold the administrator role together with a role that reads
    client records. Granted only when another administrator approves; both steps audited."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    role: Role = enum_field(Role)
    place_id: int | None = Field(default=None, foreign_key="place.id")
    facility_id: int | None = Field(default=None, foreign_key="organisation.id")
    requested_by: int = Field(foreign_key="user.id")
    requested_at: datetime = created_field()
    decided_by: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = None
    # pending | approved | rejected
    status: str = Field(default="pending", max_length=10)


class AuthSession(SQLModel, table=True):
    """A signed-in session. Only the SHA-256 of the token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: Role = enum_field(Role)
    created_at: datetime = created_field()
    last_seen_at: datetime = created_field()
    expires_at: datetime
    ended_at: datetime | None = None
    ended_reason: str = Field(default="", max_length=40)
    client_addr: str = Field(default="", max_length=64)


class LoginAttempt(SQLModel, table=True):
    __table_args__ = (
        Index("ix_loginattempt_account_at", "account_key", "at"),
        Index("ix_loginattempt_addr_at", "client_addr", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_key: str = Field(max_length=128)
    client_addr: str = Field(default="", max_length=64)
    at: datetime = created_field()
    success: bool = False


class TotpCredential(SQLModel, table=True):
    """A user's TOTP second factor (RFC 6238: 6 digits, 30 s, SHA-1, what authenticator apps
    read from a QR code). The secret is shown only while the enrolment is unconfirmed; once a
    first code confirms it, no service returns it again. Stored sealed under the server key
    kept outside the database (`second_factor.seal`; see docs/SECURITY.md)."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    secret: str = Field(max_length=64)  # 's1:' + 60 characters (sealed)
    created_at: datetime = created_field()
    confirmed_at: datetime | None = None
    # The latest time step accepted: a code (a step) is accepted once per account.
    last_step: int = 0


class RecoveryCode(SQLModel, table=True):
    """One single-use recovery code of a user with a second factor: only its SHA-256 stored
    (the codes carry ~79 random bits, like tokens, so a fast hash is enough)."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = created_field()
    used_at: datetime | None = None


class SecondFactorChallenge(SQLModel, table=True):
    """A sign-in whose password was right and whose second step is pending: a few minutes,
    one use. The browser holds the token in an HttpOnly cookie; only its SHA-256 is here."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    role: Role = enum_field(Role)
    created_at: datetime = created_field()
    expires_at: datetime
    used_at: datetime | None = None
    failures: int = 0
    client_addr: str = Field(default="", max_length=64)
