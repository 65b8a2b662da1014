"""The device outbox on the server: each device's key, and the ledger of every record a
volunteer's device sent (issue 14).

`OutboxDevice`: one AES key per (user, device id). The device wraps it under a key derived
from the user's PIN or password; the server hands it only to that user, over a signed-in
session, so another user of the same phone gets their own key and nothing of this one.

`OutboxRecord`: one row per record key a device sent. It makes every key exactly-once across
retries (with the `submission` row the service writes), maps a client registered offline
(temporary id `tmp:<key>`) to the real client, and keeps whatever the server refused — the
whole record — in the review list until it is applied or dismissed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field


class OutboxDevice(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("user_id", "device_id", name="uq_outboxdevice_user_device"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    device_id: str = Field(max_length=36)
    key: str = Field(max_length=64)  # 64 hex characters: AES-256
    created_at: datetime = created_field()
    last_seen_at: datetime = created_field()


class OutboxStatus(StrEnum):
    APPLIED = "applied"  # stored (by the sync, a link to an existing client, or a supervisor)
    QUESTION = "question"  # a registration that may be a duplicate: the volunteer must answer
    KEPT = "kept"  # refused: kept whole in the review list
    DISMISSED = "dismissed"  # a supervisor dismissed it, or its author withdrew it


class OutboxRecord(SQLModel, table=True):
    __table_args__ = (
        Index("ix_outboxrecord_user_status", "user_id", "status"),
        Index("ix_outboxrecord_status_commune", "status", "commune_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id")
    device_id: str = Field(default="", max_length=36)
    kind: str = Field(max_length=20)
    status: OutboxStatus = enum_field(OutboxStatus)
    # The record as the device sent it (JSON); emptied ("{}") once applied.
    payload: str = Field(default="{}", sa_type=Text)
    episode_id: int | None = None  # the client's open episode when the form was made
    saved_at: datetime | None = None  # on the device
    received_at: datetime = created_field()
    applied_at: datetime | None = None
    record_id: int | None = None
    # The real client: the one registered or linked (kind "client"), or the record's client.
    client_id: int | None = None
    linked: bool = False  # a registration answered "same person": linked, nothing created
    # Where a supervisor finds it: the client's commune, else the record's place.
    commune_id: int | None = None
    reason: str = Field(default="", max_length=80)  # catalogue key
    fields: str = Field(default="{}", max_length=2000)  # JSON: field -> catalogue key
    params: str = Field(default="{}", max_length=500)  # JSON: message parameters
    confirmable: bool = False
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    decided_at: datetime | None = None
    decision: str = Field(default="", max_length=20)  # applied, linked, dismissed, withdrawn
    decision_reason: str = Field(default="", max_length=500)


__all__ = ["OutboxDevice", "OutboxRecord", "OutboxStatus"]
