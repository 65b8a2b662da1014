"""Shared column helpers: UTC clock, enum-as-string columns, audit timestamps."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String
from sqlmodel import Field


def utcnow() -> datetime:
    """Now, timezone-aware in UTC. SQLModel's datetime columns refuse naive values and
    return aware UTC datetimes on every database."""
    return datetime.now(UTC)


def enum_field(enum: type[StrEnum], *, default: Any = ..., index: bool = False) -> Any:
    """A column holding an enum's value as a short string (no native DB enum to migrate)."""
    width = max(len(m.value) for m in enum) + 8
    return Field(default=default, sa_type=String(width), index=index)


def created_field() -> Any:
    return Field(default_factory=utcnow, nullable=False)
