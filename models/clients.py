"""Clients (đối tượng), their consents and management episodes (đợt quản lý)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    OTHER = "other"


class ClientStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"
    MERGED = "merged"


class Client(SQLModel, table=True):
    __table_args__ = (
        Index("ix_client_commune_status", "commune_id", "status"),
        Index("ix_client_volunteer_status", "assigned_volunteer_id", "status"),
        Index("ix_client_dup", "birth_year", "commune_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=120)
    name_key: str = Field(max_length=120, index=True)  # folded for search and sort
    other_names: str = Field(default="", max_length=200)
    birth_year: int
    birth_date: date | None = None
    sex: Sex = enum_field(Sex)
    national_id: str | None = Field(default=None, max_length=12, index=True)
    phone: str = Field(default="", max_length=20)
    commune_id: int = Field(foreign_key="place.id")
    address: str = Field(default="", max_length=200)
    former_address: str = Field(default="", max_length=200)
    legal_rep_name: str = Field(default="", max_length=120)
    legal_rep_phone: str = Field(default="", max_length=20)
    family_contact: str = Field(default="", max_length=200)
    priority_group: str = Field(default="", max_length=60)
    substances: str = Field(default="", max_length=200)
    injects: bool = False
    # Sensitive: only returned to roles the policy allows.
    hiv_status: str = Field(default="", max_length=20)
    ethnicity: str = Field(default="", max_length=40)
    photo_path: str = Field(default="", max_length=200)
    assigned_volunteer_id: int | None = Field(default=None, foreign_key="user.id")
    status: ClientStatus = enum_field(ClientStatus, default=ClientStatus.ACTIVE)
    merged_into_id: int | None = Field(default=None, foreign_key="client.id")
    created_at: datetime = created_field()
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    version: int = 1
    # Set when identifying fields were erased (a deletion request or the retention schedule):
    # the row stays for the figures and the audit trail, and leaves every list and search.
    anonymised_at: datetime | None = None


class Consent(SQLModel, table=True):
    """Consent to one purpose: who gave it (the person or a legal representative), how (a
    signed paper form, or on screen), which sensitive categories were shown; withdrawal dated."""

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    purpose: str = Field(max_length=60)
    sensitive_categories: str = Field(default="", max_length=200)
    given_on: date
    withdrawn_on: date | None = None
    recorded_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()
    given_by: str = Field(default="subject", max_length=20)  # subject | representative
    representative_name: str = Field(default="", max_length=120)
    representative_relation: str = Field(default="", max_length=60)
    method: str = Field(default="screen", max_length=20)  # screen | paper
    form_number: str = Field(default="", max_length=40)
    withdrawn_recorded_by_id: int | None = Field(default=None, foreign_key="user.id")


class EpisodeType(StrEnum):
    ILLEGAL_USE = "illegal_use"  # quản lý người sử dụng trái phép
    VOLUNTARY_COMMUNITY = "voluntary_community"
    VOLUNTARY_FACILITY = "voluntary_facility"
    MMT = "mmt"
    COMPULSORY = "compulsory"
    PENDING_COMPULSORY = "pending_compulsory"
    POST_REHAB = "post_rehab"


class EpisodeStatus(StrEnum):
    OPEN = "open"
    CLOSURE_PROPOSED = "closure_proposed"
    CLOSED = "closed"


class EndReason(StrEnum):
    COMPLETED = "completed"
    QUIT = "quit"
    RELAPSE = "relapse"
    MOVED = "moved"
    IMPRISONED = "imprisoned"
    DIED = "died"
    # Set by the law's transitions, not chosen on a form: admission under the court decision
    # ends pending-compulsory management; a determination of dependence ends illegal-use one.
    ADMITTED = "admitted"
    DEPENDENT = "dependent"


class Episode(SQLModel, table=True):
    __table_args__ = (
        Index("ix_episode_client_status", "client_id", "status"),
        Index("ix_episode_type_start", "episode_type", "start_date"),
        # A facility's admissions and residents (reports): its episodes, not the country's.
        Index("ix_episode_provider_start", "provider_id", "start_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    episode_type: EpisodeType = enum_field(EpisodeType)
    decision_number: str = Field(default="", max_length=60)
    decision_date: date | None = None
    decision_signer: str = Field(default="", max_length=120)
    decision_authority: str = Field(default="", max_length=120)
    start_date: date
    expected_end: date | None = Field(default=None, index=True)
    actual_end: date | None = None
    end_reason: EndReason | None = enum_field(EndReason, default=None)
    rehab_count: int = 1
    manager_id: int | None = Field(default=None, foreign_key="user.id")
    provider_id: int | None = Field(default=None, foreign_key="organisation.id")
    stages_completed: str = Field(default="", max_length=200)
    status: EpisodeStatus = enum_field(EpisodeStatus, default=EpisodeStatus.OPEN)
    created_at: datetime = created_field()
    version: int = 1
    # The law's terms (app/services/law): the rule row applied on the decision date, the age
    # band and first/repeat rehab it was chosen by, the term the decision set (None: the
    # rule's default), and the days held at a facility before admission credited against it.
    rule_id: int | None = Field(default=None, foreign_key="durationrule.id")
    age_band: str = Field(default="", max_length=10)
    decided_months: int | None = None
    credited_days: int = 0
    previous_episode_id: int | None = Field(default=None, foreign_key="episode.id")
    # Pending-compulsory management: "family" or "facility" (only facility time is credited).
    held_at: str = Field(default="", max_length=10)
    # A provider tells the commune within its clock when a person starts and ends (Decree
    # 116/2021 Art 32): the dates the notices were received.
    start_notice_on: date | None = None
    end_notice_on: date | None = None
    # When a supervisor reviewed this episode's expected end against the rules (issue 16).
    term_checked_at: datetime | None = None
    # A supervisor kept the expected end although the rules gave another one: the end the
    # rules gave then (ISO date, or "open" for open-ended). It is not proposed again until the
    # rules give yet another end.
    term_kept_for: str = Field(default="", max_length=10)
