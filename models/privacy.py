"""Personal-data protection (Law 91/2025, Decree 356/2025): the terms and clocks as rows,
public holidays, data-subject requests, break-glass access. Consents and incidents live
beside the records they describe (models/clients.py, models/records.py)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field


class Holiday(SQLModel, table=True):
    """A day off in Vietnam that no legal clock counts (seeded from `holidays`, extendable)."""

    on: date = Field(primary_key=True)
    name: str = Field(max_length=120)
    source: str = Field(default="seed", max_length=10)  # seed | admin
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class TermUnit(StrEnum):
    WORKING_DAYS = "working_days"
    HOURS = "hours"
    YEARS = "years"


class PrivacyTerm(SQLModel, table=True):
    """One term of the law or of this deployment's policy, editable by an administrator:
    request clocks, the breach notification window, break-glass length, retention."""

    code: str = Field(primary_key=True, max_length=60)
    amount: int
    unit: TermUnit = enum_field(TermUnit)
    legal_basis: str = Field(default="", max_length=300)
    needs_review: bool = False
    updated_at: datetime = created_field()
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")


class RequestKind(StrEnum):
    ACCESS = "access"
    CORRECTION = "correction"
    COPY = "copy"
    WITHDRAWAL = "withdrawal"
    RESTRICTION = "restriction"
    OBJECTION = "objection"
    DELETION = "deletion"


class RequestStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ANSWERED = "answered"
    REFUSED = "refused"


class DataRequest(SQLModel, table=True):
    """A data subject's request (Decree 356/2025 Art 5) and its two clocks."""

    __table_args__ = (Index("ix_datarequest_status_due", "status", "answer_due"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    kind: RequestKind = enum_field(RequestKind)
    received_on: date
    requested_by: str = Field(default="subject", max_length=20)  # subject | representative
    requester_name: str = Field(default="", max_length=120)
    requester_relation: str = Field(default="", max_length=60)
    details: str = Field(default="", max_length=1000)
    ack_due: date
    answer_due: date
    acknowledged_on: date | None = None
    answered_on: date | None = None
    status: RequestStatus = enum_field(RequestStatus, default=RequestStatus.RECEIVED)
    outcome: str = Field(default="", max_length=1000)
    refusal_basis: str = Field(default="", max_length=300)
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class LimitKind(StrEnum):
    RESTRICTION = "restriction"  # liftable: the person (or the answer) ends it
    OBJECTION = "objection"  # like a withdrawn consent to the purpose


class ProcessingLimit(SQLModel, table=True):
    """A purpose the person restricted or objected to (Decree 356/2025 Art 5), carried out
    from the requests register: while it runs (`lifted_on` empty) the purpose stops for them,
    as a withdrawn consent does (`policy.stopped_ids`)."""

    __table_args__ = (Index("ix_processinglimit_purpose", "purpose", "client_id"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    kind: LimitKind = enum_field(LimitKind)
    purpose: str = Field(max_length=40)
    request_id: int | None = Field(default=None, foreign_key="datarequest.id")
    started_on: date
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    lifted_on: date | None = None
    lifted_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class BreakGlass(SQLModel, table=True):
    """Emergency access to one client outside one's scope, with a typed reason, for hours."""

    __table_args__ = (Index("ix_breakglass_user_expires", "user_id", "expires_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    role: str = Field(max_length=20)
    client_id: int = Field(foreign_key="client.id", index=True)
    reason_kind: str = Field(max_length=40)
    reason: str = Field(max_length=500)
    writable: bool = False
    opened_at: datetime = created_field()
    expires_at: datetime
    ended_at: datetime | None = None


__all__ = [
    "BreakGlass",
    "DataRequest",
    "Holiday",
    "LimitKind",
    "PrivacyTerm",
    "ProcessingLimit",
    "RequestKind",
    "RequestStatus",
    "TermUnit",
]
