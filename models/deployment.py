"""A deployment's own data: its logo, and the services each facility provides (issue 15)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, String
from sqlmodel import Field, SQLModel

from models.base import created_field


class FacilityService(StrEnum):
    """What a facility offers; the referral form lists a facility only for its services."""

    METHADONE = "methadone"
    TREATMENT = "treatment"
    VOLUNTARY_REHAB = "voluntary_rehab"
    COMPULSORY_REHAB = "compulsory_rehab"
    HEALTH = "health"
    LEGAL = "legal"
    VOCATIONAL = "vocational"


class OrganisationService(SQLModel, table=True):
    """One service one facility provides."""

    __table_args__ = (Index("ix_orgservice_service", "service", "organisation_id"),)

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    service: FacilityService = Field(sa_column=Column(String(24), primary_key=True))


class SettingFile(SQLModel, table=True):
    """A file-valued deployment setting (the organisation's logo), re-encoded as PNG."""

    key: str = Field(primary_key=True, max_length=60)
    media_type: str = Field(default="image/png", max_length=40)
    content: bytes = Field(sa_type=LargeBinary)
    updated_at: datetime = created_field()
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
