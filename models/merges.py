"""The log of merged duplicate clients: who merged which record into which, what moved, undo."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from models.base import created_field


class ClientMerge(SQLModel, table=True):
    """One merge of a duplicate record (`merged_id`) into the record kept (`kept_id`).

    `moved` is JSON: for each table, the ids of the rows re-pointed from the merged client to
    the kept one, and the prior values of anything else the merge changed (revoked cards,
    group-activity attendance rows that collided), so that an undo restores exactly."""

    __table_args__ = (
        Index("ix_clientmerge_kept", "kept_id"),
        Index("ix_clientmerge_merged", "merged_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kept_id: int = Field(foreign_key="client.id")
    merged_id: int = Field(foreign_key="client.id")
    merged_by_id: int | None = Field(default=None, foreign_key="user.id")
    merged_at: datetime = created_field()
    prior_status: str = Field(default="active", max_length=20)
    moved: str = Field(default="{}", sa_type=Text)
    undone_at: datetime | None = None
    undone_by_id: int | None = Field(default=None, foreign_key="user.id")
