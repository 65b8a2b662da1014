"""SQLModel tables and enums. No Reflex here: import from `models` anywhere."""

from models.accounts import AuthSession, LoginAttempt, Role, RoleAssignment, User
from models.activities import (
    ContactCategory,
    DrugTest,
    GroupActivity,
    GroupActivityClient,
    GroupActivityKind,
    OutreachContact,
    Referral,
    ReferralService,
    ReferralStatus,
    Support,
    SupportKind,
    TestResult,
    Visit,
    VisitKind,
)
from models.base import utcnow
from models.clients import (
    Client,
    ClientStatus,
    Consent,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    Sex,
)
from models.places import Organisation, OrgKind, Place, PlaceKind, TeamMember
from models.records import (
    AuditEvent,
    Card,
    CardStatus,
    DurationRule,
    Incident,
    Setting,
    Submission,
)

__all__ = [
    "AuditEvent", "AuthSession", "Card", "CardStatus", "Client", "ClientStatus", "Consent",
    "ContactCategory", "DrugTest", "DurationRule", "EndReason", "Episode", "EpisodeStatus",
    "EpisodeType", "GroupActivity", "GroupActivityClient", "GroupActivityKind", "Incident",
    "LoginAttempt", "OrgKind", "Organisation", "OutreachContact", "Place", "PlaceKind",
    "Referral", "ReferralService", "ReferralStatus", "Role", "RoleAssignment", "Setting", "Sex",
    "Submission", "Support", "SupportKind", "TeamMember", "TestResult", "User", "Visit",
    "VisitKind", "utcnow",
]
