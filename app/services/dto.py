"""Input and output models of the domain services: what pages send in and what they get back.

Inputs (`...Create`, `...Update`) carry typed but otherwise unchecked values; the services
check the domain rules and raise `ValidationFailed` with catalogue keys. `parse()` turns
raw form values into an input model, reporting type errors the same way.

Outputs (`...Read`, items, pages) are small plain models, never ORM rows. Sensitive fields
live only on the `...Sensitive` / `...Full` subclasses, so a reader who may not see them
gets an object where they are *absent*, not blanked.
"""

from __future__ import annotations

from datetime import date, time
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from app.services.errors import ValidationFailed
from models import (
    ClientStatus,
    ContactCategory,
    EndReason,
    EpisodeStatus,
    EpisodeType,
    GroupActivityKind,
    PlaceKind,
    ReferralService,
    ReferralStatus,
    Sex,
    SupportKind,
    TestResult,
    VisitKind,
)

M = TypeVar("M", bound=BaseModel)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    # extra="forbid": a stripped field put back by mistake fails loudly instead of leaking.
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse(model: type[M], raw: dict[str, Any]) -> M:
    """Build an input model from raw form values; type errors become `ValidationFailed`."""
    try:
        return model.model_validate(raw)
    except PydanticValidationError as exc:
        fields = {
            str(err["loc"][0]) if err["loc"] else "_": "error.invalid_value" for err in exc.errors()
        }
        raise ValidationFailed(fields) from None


# --- places --------------------------------------------------------------------------------


class PlaceRead(_Out):
    id: int
    code: str
    name: str
    kind: PlaceKind
    parent_id: int | None


class PlaceLoadResult(_Out):
    provinces_added: int
    communes_added: int


# --- clients -------------------------------------------------------------------------------


class ConsentInput(_In):
    purpose: str = "case_management"
    # Named sensitive categories the person agreed to (see clients.SENSITIVE_CATEGORIES).
    sensitive_categories: list[str] = Field(default_factory=list)
    given_on: date


class ConsentRead(_Out):
    id: int
    purpose: str
    sensitive_categories: list[str]
    given_on: date
    withdrawn_on: date | None


class ClientCreate(_In):
    full_name: str
    other_names: str = ""
    birth_year: int
    birth_date: date | None = None
    sex: Sex
    national_id: str | None = None
    phone: str | None = None
    commune_id: int
    address: str = ""
    former_address: str = ""
    legal_rep_name: str = ""
    legal_rep_phone: str = ""
    family_contact: str = ""
    priority_group: str = ""
    substances: str = ""
    injects: bool = False
    hiv_status: str = ""
    ethnicity: str = ""
    # None: a volunteer registers for themself; a supervisor may leave it unassigned.
    assigned_volunteer_id: int | None = None
    consents: list[ConsentInput] = Field(default_factory=list)
    # Who gave the consents and how (as on the consent page). Absent (an older device form):
    # the person, on screen — or, for a minor, their legal representative.
    consent_given_by: str = "subject"  # subject | representative
    consent_representative_name: str = ""
    consent_representative_relation: str = ""
    consent_method: str = "screen"  # screen | paper
    consent_form_number: str = ""


class ClientUpdate(_In):
    """Only the fields that are not None change. Reassignment has its own service."""

    full_name: str | None = None
    other_names: str | None = None
    birth_year: int | None = None
    birth_date: date | None = None
    sex: Sex | None = None
    national_id: str | None = None
    phone: str | None = None
    commune_id: int | None = None
    address: str | None = None
    former_address: str | None = None
    legal_rep_name: str | None = None
    legal_rep_phone: str | None = None
    family_contact: str | None = None
    priority_group: str | None = None
    substances: str | None = None
    injects: bool | None = None
    hiv_status: str | None = None
    ethnicity: str | None = None
    status: ClientStatus | None = None


class ClientRead(_Out):
    """A client profile without sensitive fields."""

    id: int
    full_name: str
    other_names: str
    birth_year: int
    birth_date: date | None
    sex: Sex
    national_id: str | None
    phone: str
    commune_id: int
    commune_name: str
    address: str
    former_address: str
    legal_rep_name: str
    legal_rep_phone: str
    family_contact: str
    priority_group: str
    substances: str
    injects: bool
    assigned_volunteer_id: int | None
    assigned_volunteer_name: str  # staff data: the volunteer's full name ("" if unassigned)
    status: ClientStatus
    version: int
    consents: list[ConsentRead] = Field(default_factory=list)


class ClientReadSensitive(ClientRead):
    """A client profile for a reader the policy allows to see sensitive fields."""

    hiv_status: str
    ethnicity: str


class ClientListItem(_Out):
    id: int
    full_name: str
    birth_year: int
    sex: Sex
    commune_id: int
    assigned_volunteer_id: int | None
    status: ClientStatus


class ClientFilters(_In):
    commune_id: int | None = None
    status: ClientStatus | None = ClientStatus.ACTIVE
    assigned_volunteer_id: int | None = None
    unassigned_only: bool = False
    # Clients with a live (open or closure-proposed) episode of this type.
    episode_type: EpisodeType | None = None
    # Clients with a missed appointment (the latest visit's next appointment is before today
    # and no visit since) or an open episode past its expected end.
    overdue_only: bool = False


class ClientPage(_Out):
    items: list[ClientListItem]
    total: int
    page: int
    page_size: int


class DuplicateCandidate(_Out):
    id: int
    full_name: str
    birth_year: int
    commune_id: int


class TimelineItem(_Out):
    """One dated entry of a client's history. `fields` never holds what the reader may not see."""

    kind: str  # visit, test, referral, support, episode
    record_id: int
    on: date
    fields: dict[str, Any]


# --- episodes and rules --------------------------------------------------------------------


class EpisodeCreate(_In):
    episode_type: EpisodeType
    start_date: date
    decision_number: str = ""
    decision_date: date | None = None
    decision_signer: str = ""
    decision_authority: str = ""
    decided_months: int | None = None  # None: the rule's default term
    rehab_count: int = 1  # raised to the rehab episodes on record + 1
    manager_id: int | None = None
    provider_id: int | None = None
    held_at: str = ""  # pending-compulsory only: "family" or "facility"
    previous_episode_id: int | None = None


class EpisodeRead(_Out):
    id: int
    client_id: int
    episode_type: EpisodeType
    decision_number: str
    decision_date: date | None
    decision_signer: str
    start_date: date
    expected_end: date | None
    actual_end: date | None
    end_reason: EndReason | None
    rehab_count: int
    manager_id: int | None
    provider_id: int | None
    stages_completed: str
    status: EpisodeStatus
    version: int
    decision_authority: str
    rule_id: int | None
    age_band: str
    decided_months: int | None
    credited_days: int
    previous_episode_id: int | None
    held_at: str


class EpisodeDueItem(_Out):
    episode_id: int
    client_id: int
    client_name: str
    episode_type: EpisodeType
    expected_end: date
    days_left: int  # negative: overdue by that many days


class DurationRuleCreate(_In):
    episode_type: EpisodeType
    months: int  # the default term; 0: open-ended (no expected end)
    effective_from: date
    effective_to: date | None = None  # the first day it no longer applies
    legal_basis: str = ""
    needs_review: bool = False
    age_band: str = "any"  # "minor" (12 to under 18), "adult", "any"
    rehab_order: str = "any"  # "first", "repeat", "any"
    previous_type: EpisodeType | None = None  # None: whatever came before
    min_months: int | None = None  # None: the default term
    max_months: int | None = None
    source: str = ""
    counts_from: str = "start"  # or "decision"
    # Months one reduction decision may take off the term; None: the law names no reduction.
    reduction_min_months: int | None = None
    reduction_max_months: int | None = None


class DurationRuleRead(_Out):
    id: int
    episode_type: EpisodeType
    months: int
    effective_from: date
    effective_to: date | None
    legal_basis: str
    needs_review: bool
    age_band: str
    rehab_order: str
    previous_type: EpisodeType | None
    min_months: int
    max_months: int
    source: str
    counts_from: str
    reduction_min_months: int | None = None
    reduction_max_months: int | None = None


# --- activities ----------------------------------------------------------------------------


class VisitCreate(_In):
    client_id: int
    visit_date: date
    kind: VisitKind
    content: str = ""  # comma-separated: counselling, education, support
    notes: str = ""
    risk_flags: str = ""
    next_appointment: date | None = None


class VisitRead(_Out):
    id: int
    client_id: int
    visit_date: date
    kind: VisitKind
    author_id: int | None
    content: str
    next_appointment: date | None


class VisitReadFull(VisitRead):
    notes: str
    risk_flags: str


class OutreachContactCreate(_In):
    contact_date: date
    place_id: int
    category: ContactCategory
    count: int = 1
    topic: str = ""
    client_id: int | None = None


class OutreachContactRead(_Out):
    id: int
    contact_date: date
    place_id: int
    category: ContactCategory
    count: int
    topic: str
    client_id: int | None


class DrugTestCreate(_In):
    client_id: int
    tested_on: date
    result: TestResult
    # The time of the test when known (local time): the 24-hour management decision counts
    # from it (LAW.md L3); without it the clock counts whole days.
    tested_time: time | None = None
    sample: str = "urine"
    method: str = "rapid"
    substances: str = ""
    performed_by: str = ""


class DrugTestRead(_Out):
    id: int
    client_id: int
    tested_on: date
    result: TestResult
    sample: str
    method: str
    substances: str
    performed_by: str


class ReferralCreate(_In):
    client_id: int
    service: ReferralService
    facility_id: int | None = None
    referred_on: date
    consent: bool = False
    expires_on: date | None = None  # default: referred_on + 30 days


class ReferralRead(_Out):
    id: int
    client_id: int
    service: ReferralService
    facility_id: int | None
    referred_on: date
    consent: bool
    status: ReferralStatus
    feedback_on: date | None
    expires_on: date | None
    version: int


class SupportCreate(_In):
    client_id: int
    kind: SupportKind
    started_on: date
    amount_vnd: int | None = None  # whole đồng
    term_months: int | None = None
    fund_source: str = ""
    notes: str = ""
    status: str = "active"  # active, completed or cancelled (activities.SUPPORT_STATUSES)


class SupportRead(_Out):
    id: int
    client_id: int
    kind: SupportKind
    started_on: date
    amount_vnd: int | None
    term_months: int | None
    fund_source: str
    status: str


class GroupActivityCreate(_In):
    kind: GroupActivityKind
    held_on: date
    place_id: int
    organiser_id: int | None = None
    topic: str = ""
    attendees_total: int = 0
    attendees_clients: int = 0
    client_ids: list[int] = Field(default_factory=list)


class GroupActivityRead(_Out):
    id: int
    kind: GroupActivityKind
    held_on: date
    place_id: int
    organiser_id: int | None
    topic: str
    attendees_total: int
    attendees_clients: int
    client_ids: list[int]


class DueItem(_Out):
    """One line of a volunteer's Today screen."""

    kind: str  # see activities.DueKind
    client_id: int
    client_name: str
    due_on: date | None
    record_id: int | None
    days_overdue: int
    # Tell apart two clients of the same name.
    birth_year: int = 0
    commune_name: str = ""
