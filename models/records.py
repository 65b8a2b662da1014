"""Cross-cutting records: cards, the audit trail, incidents, rule tables, settings, idempotency."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field
from models.clients import EpisodeType


class CardStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class Card(SQLModel, table=True):
    """A QR card. The token is opaque and random; nothing personal is derivable from it.

    Neither the token nor the short code is stored: only their keyed hashes (HMAC-SHA256 under
    the server key, `app.services.cards.token_hash` / `code_hash`), so the database alone gives
    no card that scans. The clear values exist only in the answer that issued the card."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    code_hash: str = Field(max_length=64, unique=True)
    status: CardStatus = enum_field(CardStatus, default=CardStatus.ACTIVE)
    issued_at: datetime = created_field()
    issued_by_id: int | None = Field(default=None, foreign_key="user.id")
    revoked_at: datetime | None = None
    revoked_reason: str = Field(default="", max_length=40)


class AuditEvent(SQLModel, table=True):
    """Append-only: who did what to which record, when, with what outcome. Never the values."""

    __table_args__ = (
        Index("ix_audit_target", "target_type", "target_id"),
        Index("ix_audit_actor_at", "actor_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = created_field()
    actor_id: int | None = Field(default=None)
    role: str = Field(default="", max_length=20)
    action: str = Field(max_length=60)
    target_type: str = Field(default="", max_length=40)
    target_id: int | None = None
    outcome: str = Field(default="ok", max_length=20)  # ok, denied, failed
    detail: str = Field(default="", max_length=200)


class Incident(SQLModel, table=True):
    """A personal-data breach and its written record (PDPL Art 23, Decree 356/2025 Art 28).

    The authority (A05) must be notified within the `breach.notify` term of discovery."""

    id: int | None = Field(default=None, primary_key=True)
    reported_at: datetime = created_field()
    reported_by_id: int | None = Field(default=None, foreign_key="user.id")
    description: str = Field(max_length=2000)
    severity: str = Field(default="low", max_length=20)
    resolved_at: datetime | None = None
    discovered_at: datetime | None = None
    notify_due_at: datetime | None = Field(default=None, index=True)
    notified_at: datetime | None = None
    notification_ref: str = Field(default="", max_length=60)
    data_categories: str = Field(default="", max_length=300)
    subjects_count: int | None = None
    consequences: str = Field(default="", max_length=1000)
    measures: str = Field(default="", max_length=1000)
    contact: str = Field(default="", max_length=200)


class DurationRule(SQLModel, table=True):
    """The term of an episode type by the law in force on the decision date, for an age band
    ("minor" 12 to under 18, "adult", "any"), a first or repeat rehab ("first", "repeat",
    "any") and the previous episode's type (None: any). `months` is the default term, within
    [min_months, max_months]; 0 everywhere means open-ended. See app/services/law/rules.py."""

    __table_args__ = (Index("ix_rule_type_from", "episode_type", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    episode_type: EpisodeType = enum_field(EpisodeType)
    months: int
    effective_from: date
    effective_to: date | None = None
    legal_basis: str = Field(default="", max_length=200)
    needs_review: bool = False
    age_band: str = Field(default="any", max_length=10)
    rehab_order: str = Field(default="any", max_length=10)
    previous_type: EpisodeType | None = enum_field(EpisodeType, default=None)
    min_months: int = 0
    max_months: int = 0
    source: str = Field(default="", max_length=200)
    # The term runs from the episode's "start" date, or from its "decision" date (management
    # of illegal use: 1 year from the management decision).
    counts_from: str = Field(default="start", max_length=10)
    # How many months one reduction decision may take off the term (LAW.md L6: 3-6 months
    # for adults' compulsory rehab); None: the law names no reduction for this term.
    reduction_min_months: int | None = None
    reduction_max_months: int | None = None


class Setting(SQLModel, table=True):
    key: str = Field(primary_key=True, max_length=60)
    value: str = Field(default="", max_length=500)


class Submission(SQLModel, table=True):
    """Idempotency: a form submission key seen once maps to the record it created."""

    key: str = Field(primary_key=True, max_length=64)
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    kind: str = Field(max_length=40)
    record_id: int | None = None
    created_at: datetime = created_field()


__all__ = [
    "AuditEvent",
    "Card",
    "CardStatus",
    "DurationRule",
    "Incident",
    "Setting",
    "Submission",
]
