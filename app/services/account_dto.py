"""Inputs and outputs of the account services: small plain models, never ORM rows."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from models import Role


class RoleScopeRead(BaseModel):
    """One role a user holds and where. Both ids None means everywhere (national admin)."""

    model_config = ConfigDict(frozen=True)

    id: int
    role: Role
    place_id: int | None = None
    facility_id: int | None = None


class UserRead(BaseModel):
    id: int
    username: str
    phone: str | None
    full_name: str
    language: str
    is_active: bool
    must_change_password: bool
    organisation_id: int | None
    version: int
    roles: list[RoleScopeRead] = Field(default_factory=list)
    # Roles asked for that wait for a second administrator's approval (id = the request's).
    pending: list[RoleScopeRead] = Field(default_factory=list)
    # Set only by create_user (and create_first_admin leaves it None): show once, never store.
    one_time_password: str | None = None
    # A confirmed second factor is on (an administrator may reset it: `reset_second_factor`).
    second_factor: bool = False


class UserCreate(BaseModel):
    """What an administrator types. Validation (with catalogue keys) happens in the service."""

    username: str
    full_name: str
    phone: str | None = None
    language: str = "vi"
    organisation_id: int | None = None
    # Optional first role, checked exactly like assign_role.
    role: Role | None = None
    place_id: int | None = None
    facility_id: int | None = None


class UserUpdate(BaseModel):
    """Fields left None are not changed. `phone=""` removes the phone number."""

    full_name: str | None = None
    phone: str | None = None
    language: str | None = None
    organisation_id: int | None = None


class UserPage(BaseModel):
    items: list[UserRead]
    total: int
    page: int
    page_size: int


class SignInResult(BaseModel):
    # The only time the plaintext token exists: the caller keeps it in a private var/cookie.
    token: str
    session_id: int
    user_id: int
    role: Role
    roles: list[Role]
    must_change_password: bool
    language: str
    full_name: str
    expires_at: datetime
    # The role requires a second factor the user has not enrolled: the session may only enrol.
    must_enrol_second_factor: bool = False


class SessionRead(BaseModel):
    id: int
    user_id: int
    role: Role
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_addr: str
    current: bool = False


class SecondStep(BaseModel):
    """The password was right and the account has a second factor: no session yet. The token
    (shown to the client once, in an HttpOnly cookie) names the pending step."""

    token: str
    expires_at: datetime


class SecondFactorStatus(BaseModel):
    enrolled: bool
    required: bool
    confirmed_at: datetime | None = None
    recovery_codes_left: int = 0


class SecondFactorEnrolment(BaseModel):
    """A started, unconfirmed enrolment: the only time the secret leaves the service."""

    secret: str
    uri: str
