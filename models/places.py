"""Places (provinces, communes) and organisations / facilities that sit in them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field


class PlaceKind(StrEnum):
    PROVINCE = "province"
    COMMUNE = "commune"


class Place(SQLModel, table=True):
    """A province or commune of the two-tier system (from 1 July 2025)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=16, unique=True)
    name: str = Field(max_length=120)
    # Lower-cased, diacritics removed: what search compares against.
    name_key: str = Field(max_length=120, index=True)
    kind: PlaceKind = enum_field(PlaceKind, index=True)
    division_type: str = Field(default="", max_length=40)
    parent_id: int | None = Field(default=None, foreign_key="place.id", index=True)
    valid_from: date | None = None
    valid_to: date | None = None


class OrgKind(StrEnum):
    VOLUNTEER_TEAM = "volunteer_team"
    COMMUNE_OFFICE = "commune_office"
    COUNSELLING_POINT = "counselling_point"
    SUPPORT_CLUB = "support_club"
    TREATMENT_CLINIC = "treatment_clinic"
    HEALTH_FACILITY = "health_facility"
    LEGAL_AID = "legal_aid"
    VOCATIONAL_SCHOOL = "vocational_school"
    REHAB_FACILITY = "rehab_facility"
    POLICE = "police"
    AGENCY = "agency"


class Organisation(SQLModel, table=True):
    """A team, office or facility. Agency names are data, never code."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: OrgKind = enum_field(OrgKind, index=True)
    place_id: int = Field(foreign_key="place.id", index=True)
    founding_decision: str = Field(default="", max_length=120)
    founded_on: date | None = None
    active: bool = True
    created_at: datetime = created_field()
    # Street address of a facility (the commune is `place_id`).
    address: str = Field(default="", max_length=300)


class TeamMember(SQLModel, table=True):
    """Membership of a user in a volunteer team, counselling point or club."""

    __table_args__ = (Index("ix_teammember_org_user", "organisation_id", "user_id", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id")
    user_id: int = Field(foreign_key="user.id", index=True)
    joined_on: date | None = None
    left_on: date | None = None
