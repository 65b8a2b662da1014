"""What the drug law records besides episodes: term reductions, clocks, addiction
determinations, electronic monitoring, changes of residence (Law 120/2025/QH15, issue 16)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field
from models.clients import EpisodeType


class EpisodeReduction(SQLModel, table=True):
    """A term shortened by its own decision (e.g. 3-6 months off a compulsory term)."""

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", index=True)
    months: int
    decision_number: str = Field(default="", max_length=60)
    decision_date: date
    decision_authority: str = Field(default="", max_length=120)
    decision_signer: str = Field(default="", max_length=120)
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class LawClock(SQLModel, table=True):
    """A deadline the law sets (24 hours, 5 working days, valid 6 months), by effective date.

    unit: "hours", "days", "working_days" or "months"."""

    __table_args__ = (Index("ix_lawclock_key_from", "key", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40)
    amount: int
    unit: str = Field(max_length=14)
    effective_from: date
    effective_to: date | None = None
    legal_basis: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=200)
    needs_review: bool = False


class AddictionDetermination(SQLModel, table=True):
    """Xác định tình trạng nghiện: which facility, when, what it found (Decree 109/2021)."""

    __table_args__ = (Index("ix_determination_client_on", "client_id", "determined_on"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    facility_id: int | None = Field(default=None, foreign_key="organisation.id")
    facility_name: str = Field(default="", max_length=200)
    determined_on: date
    dependent: bool
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class ElectronicMonitoring(SQLModel, table=True):
    """Giám sát điện tử on a voluntary community rehab, methadone or post-rehab episode
    (Law 120/2025 Art 12): the commune police chief's decision, the device, the period."""

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id", index=True)
    decision_number: str = Field(default="", max_length=60)
    decision_date: date
    decision_signer: str = Field(default="", max_length=120)
    device: str = Field(max_length=80)
    start_on: date
    end_on: date | None = None
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class MonitoringFault(SQLModel, table=True):
    """A fault of a monitoring device (lost signal, removed, broken)."""

    id: int | None = Field(default=None, primary_key=True)
    monitoring_id: int = Field(foreign_key="electronicmonitoring.id", index=True)
    occurred_on: date
    description: str = Field(max_length=200)
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class ResidenceChange(SQLModel, table=True):
    """A person under management moves: the old commune notifies the new one within 24 h,
    the person reports at the new address within 24 h (Law 120/2025)."""

    __table_args__ = (Index("ix_residence_client_moved", "client_id", "moved_on"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    from_commune_id: int = Field(foreign_key="place.id")
    to_commune_id: int = Field(foreign_key="place.id")
    moved_on: date
    notice_sent_on: date | None = None
    notice_received_on: date | None = None
    reported_on: date | None = None
    # The law counts these in hours (24 h, LAW.md L3): the time when it is known. Rows from
    # before the times were recorded hold only the dates, and are counted by whole days.
    moved_at: datetime | None = None
    notice_sent_at: datetime | None = None
    notice_received_at: datetime | None = None
    reported_at: datetime | None = None
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class OverlapRule(SQLModel, table=True):
    """Whether an episode of `new_type` may be opened while one of `live_type` runs, by the
    law in force on the new episode's decision date (see app/services/law/rules.py).

    outcome: "refuse" (the message `message_key` names the rule) or "ends_live" (opening the
    new one ends the live one: admission under the court decision ends pending-compulsory
    management). A pair with no row in force is allowed."""

    __table_args__ = (Index("ix_overlaprule_types", "new_type", "live_type", "effective_from"),)

    id: int | None = Field(default=None, primary_key=True)
    new_type: EpisodeType = enum_field(EpisodeType)
    live_type: EpisodeType = enum_field(EpisodeType)
    outcome: str = Field(default="refuse", max_length=10)
    message_key: str = Field(default="", max_length=60)
    effective_from: date
    effective_to: date | None = None
    legal_basis: str = Field(default="", max_length=200)
    source: str = Field(default="", max_length=200)
    needs_review: bool = False


class PostRehabDismissal(SQLModel, table=True):
    """A supervisor decided that no post-rehab episode follows this completed one (e.g. the
    person moved away or died, or the episode was entered twice), with the reason."""

    id: int | None = Field(default=None, primary_key=True)
    previous_episode_id: int = Field(foreign_key="episode.id", unique=True)
    reason: str = Field(max_length=200)
    dismissed_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


__all__ = [
    "AddictionDetermination",
    "ElectronicMonitoring",
    "EpisodeReduction",
    "LawClock",
    "MonitoringFault",
    "OverlapRule",
    "PostRehabDismissal",
    "ResidenceChange",
]
