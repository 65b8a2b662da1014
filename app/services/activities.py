"""What field workers record — visits, outreach contacts, drug tests, referrals, support, group
activities — and the due list of a volunteer's Today screen.

Each service checks the policy, validates every field (all errors at once, as catalogue keys),
then writes the record and its audit event in the caller's one transaction. Every create is
exactly-once per submission key, and a key answers only for its own client or place
(`app.services.submissions.Once`).
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.services import audit, facility_registry
from app.services.actor import Actor
from app.services.calendar import local_moment, today_vn
from app.services.dto import (
    DrugTestCreate,
    DrugTestRead,
    DueItem,
    GroupActivityCreate,
    GroupActivityRead,
    OutreachContactCreate,
    OutreachContactRead,
    ReferralCreate,
    ReferralRead,
    SupportCreate,
    SupportRead,
    VisitCreate,
    VisitRead,
    VisitReadFull,
)
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.places import place_name
from app.services.policy import (
    CASE_MANAGEMENT,
    REFERRAL_SHARING,
    Action,
    PlaceTarget,
    ReferralTarget,
    authorize,
    authorize_client,
    authorize_grant,
    client_scope_filter,
    client_target,
    purpose_stopped,
    strip_visit_fields,
)
from app.services.submissions import Once
from app.services.text import clean
from models import (
    Client,
    ClientStatus,
    DrugTest,
    Episode,
    EpisodeStatus,
    GroupActivity,
    GroupActivityClient,
    Organisation,
    OutreachContact,
    Place,
    Referral,
    ReferralStatus,
    Support,
    SupportKind,
    Visit,
    utcnow,
)

EARLIEST = date(2000, 1, 1)
MAX_CONTACT_COUNT = 10_000
MAX_LOAN_VND = 10_000_000_000
MAX_TERM_MONTHS = 120
MAX_ATTENDEES = 100_000
REFERRAL_VALID_DAYS = 30
SUPPORT_STATUSES = frozenset({"active", "completed", "cancelled"})
APPOINTMENT_HORIZON_DAYS = 365
# The codes the record forms offer (stored as codes; the timeline translates them).
VISIT_CONTENTS = ("counselling", "education", "support")
VISIT_RISKS = ("relapse", "health", "family", "housing", "legal", "money")
TEST_SAMPLES = ("urine", "saliva", "hair", "blood")
TEST_METHODS = ("rapid", "lab")
TEST_SUBSTANCES = ("heroin", "methamphetamine", "mdma", "ketamine", "cannabis", "other")
OPEN_REFERRALS = (ReferralStatus.SENT, ReferralStatus.RECEIVED)
# Where a referral may go next; anything else is refused.
REFERRAL_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.SENT: frozenset({ReferralStatus.RECEIVED, ReferralStatus.USED,
                                    ReferralStatus.DECLINED, ReferralStatus.EXPIRED}),
    ReferralStatus.RECEIVED: frozenset({ReferralStatus.USED, ReferralStatus.DECLINED,
                                        ReferralStatus.EXPIRED}),
}


class DueKind(StrEnum):
    APPOINTMENT = "appointment"  # next appointment today or missed, no visit since
    REFERRAL_OPEN = "referral_open"
    NOT_VISITED = "not_visited"  # never visited, or no visit in `stale_days`
    EPISODE_ENDING = "episode_ending"
    EPISODE_OVERDUE = "episode_overdue"


def _check_date(value: date, field: str, errors: dict[str, str], today: date) -> None:
    if not EARLIEST <= value <= today:
        errors[field] = "error.date_range"


def _text(value: str, field: str, limit: int, errors: dict[str, str]) -> str:
    text = clean(value)
    if len(text) > limit:
        errors[field] = "error.too_long"
    return text


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationFailed(errors)


# --- visits --------------------------------------------------------------------------------


def _visit_read(actor: Actor, visit: Visit) -> VisitRead:
    fields = {name: getattr(visit, name) for name in VisitReadFull.model_fields}
    record = strip_visit_fields(actor, fields)
    return VisitReadFull(**record) if "notes" in record else VisitRead(**record)


def log_visit(
    *, session: Session, actor: Actor | None, data: VisitCreate, submission_key: str | None = None
) -> VisitRead:
    """Record a visit to an assigned client. A repeated `submission_key` (an offline draft sent
    twice) returns the visit already saved and writes nothing."""
    me, _client, _target = authorize_client(session, actor, Action.VISIT_CREATE, data.client_id)
    once = Once(session, me, submission_key, "visit")
    if (seen := once.replayed(Visit, client_id=data.client_id)) is not None:
        return _visit_read(me, seen)
    today = today_vn()
    errors: dict[str, str] = {}
    _check_date(data.visit_date, "visit_date", errors, today)
    content = _text(data.content, "content", 120, errors)
    notes = _text(data.notes, "notes", 2000, errors)
    risk_flags = _text(data.risk_flags, "risk_flags", 200, errors)
    if data.next_appointment is not None and not (
        data.visit_date < data.next_appointment
        <= data.visit_date + timedelta(days=APPOINTMENT_HORIZON_DAYS)
    ):
        errors["next_appointment"] = "error.appointment_range"
    _raise_if(errors)
    visit = Visit(
        client_id=data.client_id, visit_date=data.visit_date, kind=data.kind, author_id=me.user_id,
        content=content, notes=notes, risk_flags=risk_flags,
        next_appointment=data.next_appointment,
    )
    once.store(visit, action=Action.VISIT_CREATE, target_type="visit",
               detail=f"client={data.client_id}")
    return _visit_read(me, visit)


# --- outreach contacts ---------------------------------------------------------------------


def _contact_read(contact: OutreachContact) -> OutreachContactRead:
    return OutreachContactRead(**{n: getattr(contact, n) for n in OutreachContactRead.model_fields})


def log_outreach_contact(
    *, session: Session, actor: Actor | None, data: OutreachContactCreate,
    submission_key: str | None = None,
) -> OutreachContactRead:
    """Count people reached in one of the actor's places; a client link is optional. A repeated
    `submission_key` returns the contact already saved and writes nothing."""
    me = authorize_grant(session, actor, Action.CONTACT_CREATE)
    once = Once(session, me, submission_key, "outreach_contact")
    seen = once.replayed(OutreachContact, place_id=data.place_id, client_id=data.client_id)
    if seen is not None:
        return _contact_read(seen)
    errors: dict[str, str] = {}
    _check_date(data.contact_date, "contact_date", errors, today_vn())
    if not 1 <= data.count <= MAX_CONTACT_COUNT:
        errors["count"] = "error.count_range"
    topic = _text(data.topic, "topic", 200, errors)
    if session.get(Place, data.place_id) is None:
        errors["place_id"] = "error.invalid_place"
    _raise_if(errors)
    authorize(session, me, Action.CONTACT_CREATE, PlaceTarget(data.place_id))
    if data.client_id is not None:
        if data.count != 1:
            raise ValidationFailed({"count": "error.count_named_contact"})
        authorize_client(session, me, Action.CONTACT_CREATE, data.client_id)
    contact = OutreachContact(
        contact_date=data.contact_date, place_id=data.place_id, category=data.category,
        count=data.count, topic=topic, client_id=data.client_id, author_id=me.user_id,
    )
    once.store(contact, action=Action.CONTACT_CREATE, target_type="outreachcontact")
    return _contact_read(contact)


# --- drug tests ----------------------------------------------------------------------------


def _test_read(test: DrugTest) -> DrugTestRead:
    return DrugTestRead(**{n: getattr(test, n) for n in DrugTestRead.model_fields})


def record_drug_test(
    *, session: Session, actor: Actor | None, data: DrugTestCreate,
    submission_key: str | None = None,
) -> DrugTestRead:
    """Record a drug test of an assigned client. A repeated `submission_key` returns the test
    already saved and writes nothing."""
    me, _client, _target = authorize_client(session, actor, Action.TEST_CREATE, data.client_id)
    once = Once(session, me, submission_key, "drug_test")
    if (seen := once.replayed(DrugTest, client_id=data.client_id)) is not None:
        return _test_read(seen)
    errors: dict[str, str] = {}
    _check_date(data.tested_on, "tested_on", errors, today_vn())
    tested_at = local_moment(data.tested_on, data.tested_time)
    if tested_at is not None and tested_at > utcnow() + timedelta(minutes=5):
        errors["tested_time"] = "error.date_range"
    sample = _text(data.sample, "sample", 20, errors) or "urine"
    method = _text(data.method, "method", 40, errors) or "rapid"
    substances = _text(data.substances, "substances", 200, errors)
    performed_by = _text(data.performed_by, "performed_by", 120, errors)
    _raise_if(errors)
    test = DrugTest(client_id=data.client_id, tested_on=data.tested_on,
                    tested_at=tested_at, result=data.result,
                    sample=sample, method=method, substances=substances,
                    performed_by=performed_by, author_id=me.user_id)
    once.store(test, action=Action.TEST_CREATE, target_type="drugtest",
               detail=f"client={data.client_id}")
    return _test_read(test)


# --- referrals -----------------------------------------------------------------------------


def _referral_read(ref: Referral) -> ReferralRead:
    return ReferralRead(**{n: getattr(ref, n) for n in ReferralRead.model_fields})


def create_referral(
    *, session: Session, actor: Actor | None, data: ReferralCreate,
    submission_key: str | None = None,
) -> ReferralRead:
    """Refer a client to a service; only with the client's consent. A repeated
    `submission_key` returns the referral already saved and writes nothing."""
    me, _client, _target = authorize_client(session, actor, Action.REFERRAL_CREATE, data.client_id)
    once = Once(session, me, submission_key, "referral")
    if (seen := once.replayed(Referral, client_id=data.client_id)) is not None:
        return _referral_read(seen)
    errors: dict[str, str] = {}
    if not data.consent:
        errors["consent"] = "error.consent_required"
    _check_date(data.referred_on, "referred_on", errors, today_vn())
    expires_on = data.expires_on or data.referred_on + timedelta(days=REFERRAL_VALID_DAYS)
    if expires_on <= data.referred_on or expires_on > data.referred_on + timedelta(days=366):
        errors["expires_on"] = "error.date_order"
    if data.facility_id is not None:
        facility = session.get(Organisation, data.facility_id)
        if facility is None or not facility.active:
            errors["facility_id"] = "error.invalid_facility"
        elif not facility_registry.provides(session, data.facility_id, data.service):
            errors["facility_id"] = "facility.error.not_providing"
        elif purpose_stopped(session, data.client_id, REFERRAL_SHARING):
            # The person withdrew consent to sharing with receiving facilities (or restricted
            # or objected to it).
            errors["facility_id"] = "privacy.error.sharing_withdrawn"
    if purpose_stopped(session, data.client_id, CASE_MANAGEMENT):
        # The person restricted or objected to case management: no new referral for them.
        errors["service"] = "privacy.error.restricted"
    _raise_if(errors)
    referral = Referral(
        client_id=data.client_id, service=data.service, facility_id=data.facility_id,
        referred_on=data.referred_on, consent=True, expires_on=expires_on, author_id=me.user_id,
    )
    once.store(referral, action=Action.REFERRAL_CREATE, target_type="referral",
               detail=f"client={data.client_id}")
    return _referral_read(referral)


def complete_referral(
    *,
    session: Session,
    actor: Actor | None,
    referral_id: int,
    status: ReferralStatus,
    expected_version: int | None = None,
    feedback_on: date | None = None,
) -> ReferralRead:
    """Move a referral on (received, used, declined, expired): staff of the receiving facility,
    or a supervisor of the client's commune. `feedback_on` (default today) is the day the
    outcome happened, e.g. from a register being imported: not before the referral, not in
    the future."""
    me = authorize_grant(session, actor, Action.REFERRAL_COMPLETE)
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound()
    client = session.get(Client, referral.client_id)
    if client is None:
        raise NotFound()
    authorize(session, me, Action.REFERRAL_COMPLETE,
              ReferralTarget(referral.facility_id, client_target(session, client)),
              target_type="referral", target_id=referral_id)
    current = ReferralStatus(referral.status)
    if status not in REFERRAL_TRANSITIONS.get(current, frozenset()):
        raise ValidationFailed({"status": "error.referral_transition"})
    outcome_on = feedback_on or today_vn()
    if not referral.referred_on <= outcome_on <= today_vn():
        raise ValidationFailed({"feedback_on": "error.date_range"})
    version = referral.version if expected_version is None else expected_version
    result = session.execute(
        update(Referral)
        .where(col(Referral.id) == referral_id, col(Referral.version) == version)
        .values(status=status, status_changed_at=utcnow(), feedback_on=outcome_on,
                closed_by_id=me.user_id, version=version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict()
    session.refresh(referral)
    audit.record(session, actor=me, action=Action.REFERRAL_COMPLETE, target_type="referral",
                 target_id=referral_id, detail=f"status={status.value}")
    return _referral_read(referral)


# --- support -------------------------------------------------------------------------------


def _support_read(support: Support) -> SupportRead:
    return SupportRead(**{n: getattr(support, n) for n in SupportRead.model_fields})


def record_support(
    *, session: Session, actor: Actor | None, data: SupportCreate,
    submission_key: str | None = None,
) -> SupportRead:
    """Record vocational training, a job placement, a loan (whole đồng), schooling or assistance
    — under way, completed or cancelled. A repeated `submission_key` returns the support already
    saved and writes nothing."""
    me, _client, _target = authorize_client(session, actor, Action.SUPPORT_CREATE, data.client_id)
    once = Once(session, me, submission_key, "support")
    if (seen := once.replayed(Support, client_id=data.client_id)) is not None:
        return _support_read(seen)
    errors: dict[str, str] = {}
    _check_date(data.started_on, "started_on", errors, today_vn())
    if data.status not in SUPPORT_STATUSES:
        errors["status"] = "error.invalid_choice"
    amount_ok = data.amount_vnd is None or (
        type(data.amount_vnd) is int and 0 < data.amount_vnd <= MAX_LOAN_VND
    )
    if not amount_ok or (data.kind == SupportKind.LOAN and data.amount_vnd is None):
        errors["amount_vnd"] = "error.amount_range"
    if data.term_months is not None and not 1 <= data.term_months <= MAX_TERM_MONTHS:
        errors["term_months"] = "error.term_range"
    elif data.kind == SupportKind.LOAN and data.term_months is None:
        errors["term_months"] = "error.term_range"
    fund_source = _text(data.fund_source, "fund_source", 120, errors)
    notes = _text(data.notes, "notes", 500, errors)
    _raise_if(errors)
    support = Support(
        client_id=data.client_id, kind=data.kind, started_on=data.started_on,
        amount_vnd=data.amount_vnd, term_months=data.term_months, fund_source=fund_source,
        notes=notes, status=data.status, author_id=me.user_id,
    )
    once.store(support, action=Action.SUPPORT_CREATE, target_type="support",
               detail=f"client={data.client_id}")
    return _support_read(support)


# --- group activities ----------------------------------------------------------------------


def _group_read(session: Session, activity: GroupActivity) -> GroupActivityRead:
    assert activity.id is not None
    client_ids = sorted(session.exec(
        select(GroupActivityClient.client_id).where(
            GroupActivityClient.activity_id == activity.id)
    ).all())
    return GroupActivityRead(
        id=activity.id, kind=activity.kind, held_on=activity.held_on, place_id=activity.place_id,
        organiser_id=activity.organiser_id, topic=activity.topic,
        attendees_total=activity.attendees_total, attendees_clients=activity.attendees_clients,
        client_ids=client_ids,
    )


def record_group_activity(
    *, session: Session, actor: Actor | None, data: GroupActivityCreate,
    submission_key: str | None = None,
) -> GroupActivityRead:
    """A conference, talk, club meeting, campaign event or training, with the clients present.
    A repeated `submission_key` returns the activity already saved and writes nothing."""
    me = authorize_grant(session, actor, Action.GROUP_CREATE)
    once = Once(session, me, submission_key, "group_activity")
    if (seen := once.replayed(GroupActivity, place_id=data.place_id)) is not None:
        return _group_read(session, seen)
    errors: dict[str, str] = {}
    _check_date(data.held_on, "held_on", errors, today_vn())
    topic = _text(data.topic, "topic", 200, errors)
    client_ids = sorted(set(data.client_ids))
    if not 0 <= data.attendees_total <= MAX_ATTENDEES:
        errors["attendees_total"] = "error.count_range"
    elif not 0 <= data.attendees_clients <= data.attendees_total:
        errors["attendees_clients"] = "error.attendees_clients"
    elif len(client_ids) > data.attendees_clients:
        errors["client_ids"] = "error.attendees_clients"
    if session.get(Place, data.place_id) is None:
        errors["place_id"] = "error.invalid_place"
    if data.organiser_id is not None and session.get(Organisation, data.organiser_id) is None:
        errors["organiser_id"] = "error.invalid_value"
    _raise_if(errors)
    authorize(session, me, Action.GROUP_CREATE, PlaceTarget(data.place_id))
    for client_id in client_ids:
        authorize_client(session, me, Action.GROUP_CREATE, client_id)
    activity = GroupActivity(
        kind=data.kind, held_on=data.held_on, place_id=data.place_id,
        organiser_id=data.organiser_id, topic=topic, attendees_total=data.attendees_total,
        attendees_clients=data.attendees_clients, author_id=me.user_id,
    )
    activity_id = once.store(activity, action=Action.GROUP_CREATE, target_type="groupactivity",
                             detail=f"clients={len(client_ids)}")
    session.add_all(GroupActivityClient(activity_id=activity_id, client_id=client_id)
                    for client_id in client_ids)
    session.flush()
    return _group_read(session, activity)


# --- the Today screen ----------------------------------------------------------------------


def due_followups(
    *,
    session: Session,
    actor: Actor | None,
    today: date,
    stale_days: int = 30,
    ending_within_days: int = 30,
) -> list[DueItem]:
    """What needs doing for the active clients in scope, most urgent first:

    - an appointment set at the latest visit that is today or already missed;
    - a client never visited (from the day they were registered), or not for `stale_days`
      days (not repeated if an appointment is listed);
    - an open referral (sent or received);
    - an open episode ending within `ending_within_days` days, or already past its end.
    """
    me = authorize_grant(session, actor, Action.CASELOAD_VIEW)
    communes: dict[int, str] = {}
    clients = {
        cid: (name, year, communes.setdefault(commune, place_name(session, commune)))
        for cid, name, year, commune in session.exec(
            select(Client.id, Client.full_name, Client.birth_year, Client.commune_id).where(
                client_scope_filter(me), col(Client.status) == ClientStatus.ACTIVE
            )
        ).all()
        if cid is not None
    }
    items: list[DueItem] = []
    if clients:
        ids = list(clients)
        items += _appointments_and_stale(session, ids, clients, today, stale_days)
        items += _open_referrals(session, ids, clients, today)
        items += _episodes_due(session, ids, clients, today, ending_within_days)
    order = list(DueKind)
    items.sort(key=lambda i: (i.due_on or today, order.index(DueKind(i.kind)), i.client_name))
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="client",
                 target_id=None, detail=f"due={len(items)}")
    audit.record_people(session, actor=me, action="caseload.list",
                        client_ids=[i.client_id for i in items], detail="today")
    return items


def _item(kind: DueKind, clients: dict[int, Any], client_id: int, due_on: date | None,
          record_id: int | None, today: date) -> DueItem:
    overdue = max(0, (today - due_on).days) if due_on is not None else 0
    name, birth_year, commune_name = clients[client_id]
    return DueItem(kind=kind.value, client_id=client_id, client_name=name, due_on=due_on,
                   record_id=record_id, days_overdue=overdue, birth_year=birth_year,
                   commune_name=commune_name)


def _appointments_and_stale(session: Session, ids: list[int], clients: dict[int, Any],
                            today: date, stale_days: int) -> list[DueItem]:
    last_date = (
        select(Visit.client_id, func.max(Visit.visit_date).label("last"))
        .where(col(Visit.client_id).in_(ids))
        .group_by(col(Visit.client_id))
        .subquery()
    )
    latest: dict[int, tuple[int, date, date | None]] = {}  # client -> (visit, day, next)
    # The clients are named on both sides of the join: with only the sub-query restricted,
    # PostgreSQL misjudged the number of latest dates and read the whole visit table. Only
    # the columns used are selected (no ORM objects: a list's fixed cost, bench/queries.py).
    for visit_id, client_id, day, next_on in session.exec(
        select(col(Visit.id), col(Visit.client_id), col(Visit.visit_date),
               col(Visit.next_appointment))
        .join(last_date, (col(Visit.client_id) == last_date.c.client_id)
              & (col(Visit.visit_date) == last_date.c.last))
        .where(col(Visit.client_id).in_(ids))
    ).all():
        kept = latest.get(client_id)
        if kept is None or (visit_id or 0) > kept[0]:
            latest[client_id] = (visit_id or 0, day, next_on)
    items: list[DueItem] = []
    stale_before = today - timedelta(days=stale_days)
    for client_id in ids:
        last = latest.get(client_id)
        if last is None:  # never visited: listed from the day they were registered
            items.append(_item(DueKind.NOT_VISITED, clients, client_id, None, None, today))
            continue
        visit_id, day, next_on = last
        if next_on is not None:
            if next_on <= today:
                items.append(_item(DueKind.APPOINTMENT, clients, client_id, next_on, visit_id,
                                   today))
        elif day <= stale_before:
            items.append(_item(DueKind.NOT_VISITED, clients, client_id,
                               day + timedelta(days=stale_days), visit_id, today))
    return items


def _open_referrals(session: Session, ids: list[int], clients: dict[int, Any],
                    today: date) -> list[DueItem]:
    rows = session.exec(
        select(col(Referral.id), col(Referral.client_id), col(Referral.expires_on))
        .where(col(Referral.client_id).in_(ids), col(Referral.status).in_(OPEN_REFERRALS))
    ).all()
    return [_item(DueKind.REFERRAL_OPEN, clients, client_id, expires_on, referral_id, today)
            for referral_id, client_id, expires_on in rows]


def _episodes_due(session: Session, ids: list[int], clients: dict[int, Any], today: date,
                  within_days: int) -> list[DueItem]:
    rows = session.exec(
        select(col(Episode.id), col(Episode.client_id), col(Episode.expected_end)).where(
            col(Episode.client_id).in_(ids),
            col(Episode.status) == EpisodeStatus.OPEN,
            col(Episode.expected_end).is_not(None),
            col(Episode.expected_end) <= today + timedelta(days=within_days),
        )
    ).all()
    return [
        _item(DueKind.EPISODE_OVERDUE if expected_end and expected_end < today
              else DueKind.EPISODE_ENDING, clients, client_id, expected_end, episode_id, today)
        for episode_id, client_id, expected_end in rows
    ]
