"""What volunteers record: visits, outreach, referrals, drug tests, support, group activities."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index
from sqlmodel import Field, SQLModel

from models.base import created_field, enum_field


class VisitKind(StrEnum):
    HOME = "home"
    PHONE = "phone"  # phone / Zalo
    COMMUNITY_MEETING = "community_meeting"
    CLINIC_ATTENDANCE = "clinic_attendance"


class Visit(SQLModel, table=True):
    __table_args__ = (
        Index("ix_visit_client_date", "client_id", "visit_date"),
        # By date, with the client: a place's visits in a period are read from the index
        # alone (reports: the trend; PostgreSQL fetched ~270,000 heap rows for a province).
        Index("ix_visit_date_client", "visit_date", "client_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    visit_date: date
    kind: VisitKind = enum_field(VisitKind)
    author_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    content: str = Field(default="", max_length=120)  # counselling,education,support
    notes: str = Field(default="", max_length=2000)  # observed situation: never for clinic staff
    risk_flags: str = Field(default="", max_length=200)
    next_appointment: date | None = None
    created_at: datetime = created_field()


class ContactCategory(StrEnum):
    PERSON_WHO_USES_DRUGS = "pwud"
    RELATIVE = "relative"
    PERSON_WITH_HIV = "hiv"
    HIGH_RISK = "high_risk"
    STUDENT = "student"
    OTHER = "other"


class OutreachContact(SQLModel, table=True):
    """People reached: counted, not named (a client link is optional)."""

    __table_args__ = (Index("ix_contact_place_date", "place_id", "contact_date"),)

    id: int | None = Field(default=None, primary_key=True)
    contact_date: date
    place_id: int = Field(foreign_key="place.id")
    category: ContactCategory = enum_field(ContactCategory)
    count: int = 1
    topic: str = Field(default="", max_length=200)
    client_id: int | None = Field(default=None, foreign_key="client.id")
    author_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class ReferralService(StrEnum):
    TREATMENT = "treatment"
    MMT = "mmt"
    HIV_TEST = "hiv_test"
    ARV = "arv"
    PREP = "prep"
    TB_HEPATITIS = "tb_hepatitis"
    MENTAL_HEALTH = "mental_health"
    HEALTH_CHECK = "health_check"
    LEGAL_AID = "legal_aid"
    IDENTITY_PAPERS = "identity_papers"
    VOCATIONAL = "vocational"
    JOB = "job"
    LOAN = "loan"


class ReferralStatus(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    USED = "used"
    DECLINED = "declined"
    EXPIRED = "expired"


class Referral(SQLModel, table=True):
    __table_args__ = (
        Index("ix_referral_client_status", "client_id", "status"),
        Index("ix_referral_facility_status", "facility_id", "status"),
        Index("ix_referral_date", "referred_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    service: ReferralService = enum_field(ReferralService)
    facility_id: int | None = Field(default=None, foreign_key="organisation.id")
    referred_on: date
    consent: bool = False
    status: ReferralStatus = enum_field(ReferralStatus, default=ReferralStatus.SENT)
    status_changed_at: datetime = created_field()
    feedback_on: date | None = None
    expires_on: date | None = None
    author_id: int | None = Field(default=None, foreign_key="user.id")
    closed_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()
    version: int = 1


class TestResult(StrEnum):
    NEGATIVE = "negative"
    POSITIVE = "positive"
    INVALID = "invalid"


class DrugTest(SQLModel, table=True):
    __table_args__ = (Index("ix_drugtest_client_date", "client_id", "tested_on"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id")
    tested_on: date
    # The time of the test when it is known: the management decision is due 24 hours after a
    # positive one (LAW.md L3). Tests saved with a date only are counted by whole days.
    tested_at: datetime | None = None
    sample: str = Field(default="urine", max_length=20)
    method: str = Field(default="rapid", max_length=40)
    substances: str = Field(default="", max_length=200)
    result: TestResult = enum_field(TestResult)
    performed_by: str = Field(default="", max_length=120)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class SupportKind(StrEnum):
    VOCATIONAL_TRAINING = "vocational_training"
    JOB_PLACEMENT = "job_placement"
    LOAN = "loan"
    SCHOOLING = "schooling"
    SOCIAL_ASSISTANCE = "social_assistance"


class Support(SQLModel, table=True):
    __table_args__ = (Index("ix_support_kind_date", "kind", "started_on"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    kind: SupportKind = enum_field(SupportKind)
    started_on: date
    # Whole đồng (VND has no minor unit); BIGINT: loans reach billions, past a 32-bit INTEGER.
    amount_vnd: int | None = Field(default=None, sa_type=BigInteger)
    term_months: int | None = None
    fund_source: str = Field(default="", max_length=120)
    status: str = Field(default="active", max_length=20)
    notes: str = Field(default="", max_length=500)
    author_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class GroupActivityKind(StrEnum):
    CONFERENCE = "conference"
    THEMATIC_TALK = "thematic_talk"
    CLUB_MEETING = "club_meeting"
    CAMPAIGN_EVENT = "campaign_event"
    TRAINING = "training"


class GroupActivity(SQLModel, table=True):
    __table_args__ = (
        Index("ix_group_place_date", "place_id", "held_on"),
        # Classes a facility organised (reports: vocational training), wherever they were held.
        Index("ix_group_organiser_date", "organiser_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: GroupActivityKind = enum_field(GroupActivityKind)
    held_on: date
    place_id: int = Field(foreign_key="place.id")
    organiser_id: int | None = Field(default=None, foreign_key="organisation.id")
    topic: str = Field(default="", max_length=200)
    attendees_total: int = 0
    attendees_clients: int = 0
    author_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = created_field()


class GroupActivityClient(SQLModel, table=True):
    activity_id: int = Field(foreign_key="groupactivity.id", primary_key=True)
    client_id: int = Field(foreign_key="client.id", primary_key=True)
