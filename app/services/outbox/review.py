"""The review list: records the sync refused, kept whole until someone acts on them.

The volunteer who typed a record sees it (reason and content) and corrects and resends it
under the same key through the sync, or withdraws it. Their supervisor — of the record's
commune or of one of the volunteer's communes — sees it too, and applies it (to the right
client, if the one it named is wrong) or dismisses it with a reason. Applied by a supervisor,
the record still names the volunteer as its author, and its key stays exactly-once: the
volunteer's later resend is answered with that record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor, load_actor
from app.services.dto import parse
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.outbox.kinds import KINDS
from app.services.outbox.sync import (
    DISMISSED,
    Refusal,
    Waiting,
    author_communes,
    resolve_ids,
)
from app.services.places import place_name
from app.services.policy import (
    Action,
    authorize_client,
    authorize_grant,
    outbox_item_in_scope,
)
from app.services.text import clean
from models import (
    Client,
    OutboxRecord,
    OutboxStatus,
    Role,
    RoleAssignment,
    Submission,
    User,
    utcnow,
)

RECENT_DAYS = 30  # how long a volunteer still sees what a supervisor decided
MAX_ITEMS = 200


@dataclass(frozen=True)
class ReviewItem:
    review_id: int
    key: str
    kind: str
    status: str
    reason: str
    fields: dict[str, str]
    params: dict[str, Any]
    confirmable: bool
    payload: dict[str, Any]
    saved_at: datetime | None
    received_at: datetime
    decided_at: datetime | None
    decision: str
    decision_reason: str
    record_id: int | None
    client_id: int | None
    author_id: int
    author_name: str
    commune_id: int | None
    commune_name: str
    client_name: str  # the client the record names, if the reader may see them


def _item(session: Session, row: OutboxRecord, client_name: str = "") -> ReviewItem:
    assert row.id is not None
    author = session.get(User, row.user_id)
    return ReviewItem(
        review_id=row.id, key=row.key, kind=row.kind, status=str(row.status),
        reason=DISMISSED if row.status == OutboxStatus.DISMISSED else row.reason,
        fields=json.loads(row.fields or "{}"), params=json.loads(row.params or "{}"),
        confirmable=row.confirmable, payload=json.loads(row.payload or "{}"),
        saved_at=row.saved_at, received_at=row.received_at, decided_at=row.decided_at,
        decision=row.decision, decision_reason=row.decision_reason, record_id=row.record_id,
        client_id=row.client_id, author_id=row.user_id,
        author_name=author.full_name if author is not None else "",
        commune_id=row.commune_id, commune_name=place_name(session, row.commune_id),
        client_name=client_name,
    )


# --- the volunteer's own -------------------------------------------------------------------


def own_items(*, session: Session, actor: Actor | None,
              now: datetime | None = None) -> list[ReviewItem]:
    """The volunteer's own refused, questioned and decided records (never anyone else's)."""
    if actor is None or actor.role != Role.VOLUNTEER:
        raise PermissionDenied()
    since = (now or utcnow()) - timedelta(days=RECENT_DAYS)
    rows = session.exec(
        select(OutboxRecord).where(
            OutboxRecord.user_id == actor.user_id,
            or_(col(OutboxRecord.status).in_((OutboxStatus.KEPT, OutboxStatus.QUESTION)),
                (col(OutboxRecord.decided_at) >= since)
                & col(OutboxRecord.status).in_((OutboxStatus.APPLIED,
                                                OutboxStatus.DISMISSED))),
        ).order_by(col(OutboxRecord.received_at).desc()).limit(MAX_ITEMS)
    ).all()
    audit.record(session, actor=actor, action="outbox.review_list", target_type="outboxrecord",
                 target_id=None, detail=f"own={len(rows)}")
    return [_item(session, row) for row in rows]


def withdraw(*, session: Session, actor: Actor | None, key: str) -> ReviewItem:
    """The volunteer gives up one of their own kept records."""
    if actor is None or actor.role != Role.VOLUNTEER:
        raise PermissionDenied()
    row = session.exec(select(OutboxRecord).where(OutboxRecord.key == key)).first()
    if row is None or row.user_id != actor.user_id:
        raise NotFound()
    if row.status not in (OutboxStatus.KEPT, OutboxStatus.QUESTION):
        raise ValidationFailed({"key": "outbox.error.not_pending"})
    row.status = OutboxStatus.DISMISSED
    row.decision = "withdrawn"
    row.decided_by_id = actor.user_id
    row.decided_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="outbox.withdraw", target_type="outboxrecord",
                 target_id=row.id, detail=f"kind={row.kind}")
    return _item(session, row)


# --- the supervisor's ----------------------------------------------------------------------


def _in_scope(session: Session, me: Actor, row: OutboxRecord) -> bool:
    return outbox_item_in_scope(me, commune_id=row.commune_id,
                                author_commune_ids=author_communes(session, row.user_id))


def _supervised(session: Session, actor: Actor | None, review_id: int) -> tuple[Actor,
                                                                                OutboxRecord]:
    me = authorize_grant(session, actor, Action.OUTBOX_REVIEW, target_type="outboxrecord",
                         target_id=review_id)
    row = session.get(OutboxRecord, review_id) if 0 < review_id <= 2**31 - 1 else None
    if row is None or not _in_scope(session, me, row):
        raise NotFound()
    return me, row


def _kept_in_scope(me: Actor) -> Any:
    """WHERE: kept records whose commune, or whose author's commune, is the supervisor's."""
    volunteers = select(RoleAssignment.user_id).where(
        RoleAssignment.role == Role.VOLUNTEER,
        col(RoleAssignment.place_id).in_(me.commune_ids))
    return (col(OutboxRecord.status) == OutboxStatus.KEPT) & or_(
        col(OutboxRecord.commune_id).in_(me.commune_ids),
        col(OutboxRecord.user_id).in_(volunteers))


def kept_count(*, session: Session, actor: Actor | None) -> int:
    """How many kept records wait for this supervisor (a number only: not audited)."""
    me = authorize_grant(session, actor, Action.OUTBOX_REVIEW)
    if not me.commune_ids:
        return 0
    return session.exec(select(func.count()).select_from(OutboxRecord)
                        .where(_kept_in_scope(me))).one()


def review_items(*, session: Session, actor: Actor | None) -> list[ReviewItem]:
    """Kept records of the supervisor's communes and volunteers, newest first (audited)."""
    me = authorize_grant(session, actor, Action.OUTBOX_REVIEW)
    if not me.commune_ids:
        return []
    rows = session.exec(
        select(OutboxRecord).where(_kept_in_scope(me))
        .order_by(col(OutboxRecord.received_at).desc()).limit(MAX_ITEMS)
    ).all()
    audit.record(session, actor=me, action="outbox.review_list", target_type="outboxrecord",
                 target_id=None, detail=f"kept={len(rows)}")
    return [_item(session, row) for row in rows]


def review_item(*, session: Session, actor: Actor | None, review_id: int) -> ReviewItem:
    """One kept record, whole, for a supervisor (audited)."""
    me, row = _supervised(session, actor, review_id)
    client_name = ""
    raw = json.loads(row.payload or "{}").get("client_id")
    if type(raw) is int and 0 < raw <= 2**31 - 1:
        client = session.get(Client, raw)
        if client is not None and client.commune_id in me.commune_ids:
            client_name = client.full_name
    audit.record(session, actor=me, action="outbox.review_read", target_type="outboxrecord",
                 target_id=row.id, detail=f"kind={row.kind}")
    return _item(session, row, client_name)


def _already_stored(session: Session, row: OutboxRecord) -> int | None:
    seen = session.get(Submission, row.key)
    return seen.record_id if seen is not None else None


def apply_item(*, session: Session, actor: Actor | None, review_id: int,
               client_id: int | None = None, link_client_id: int | None = None) -> ReviewItem:
    """Apply a kept record as the supervisor, through its normal service.

    `client_id` replaces the client it named (the right client); for a registration,
    `link_client_id` says it is that existing client instead (nothing is created)."""
    me, row = _supervised(session, actor, review_id)
    if row.status != OutboxStatus.KEPT:
        raise ValidationFailed({"review": "outbox.error.not_pending"})
    kind = KINDS[row.kind]
    now = utcnow()
    author = load_actor(session, user_id=row.user_id, role=Role.VOLUNTEER)
    payload = json.loads(row.payload or "{}")
    if link_client_id is not None:
        if kind.name != "client":
            raise ValidationFailed({"link_client_id": "error.invalid_value"})
        authorize_client(session, me, Action.CLIENT_READ, link_client_id)
        _decide(session, me, row, now, record_id=None, client_id=link_client_id, linked=True)
        return _item(session, row)
    if client_id is not None:
        if "client_id" not in kind.dto.model_fields:
            raise ValidationFailed({"client_id": "error.invalid_value"})
        payload["client_id"] = client_id
    if kind.name == "client":
        covers = author is not None and payload.get("commune_id") in author.commune_ids
        payload["assigned_volunteer_id"] = row.user_id if covers else None
    try:
        payload = resolve_ids(session, row.user_id, kind, payload)
    except (Waiting, Refusal):
        raise ValidationFailed({"client_id": "outbox.error.choose_client"}) from None
    stored = _already_stored(session, row)
    if stored is not None:  # the volunteer's resend won the race: that is the record
        _decide(session, me, row, now, record_id=stored, client_id=payload.get("client_id"))
        return _item(session, row)
    if form_errors := kind.form_check(payload):  # what the online form checks first
        raise ValidationFailed(form_errors)
    data = parse(kind.dto, payload)
    record_id, real_client = kind.apply(session, me, data, row.key, True)
    record = session.get(kind.model, record_id)
    if record is not None:  # the volunteer typed it: they stay its author
        setattr(record, kind.author_field, row.user_id)
        session.add(record)
    seen = session.get(Submission, row.key)
    if seen is not None:
        seen.actor_id = row.user_id
        session.add(seen)
    _decide(session, me, row, now, record_id=record_id, client_id=real_client)
    return _item(session, row)


def _decide(session: Session, me: Actor, row: OutboxRecord, now: datetime, *,
            record_id: int | None, client_id: int | None, linked: bool = False) -> None:
    row.status = OutboxStatus.APPLIED
    row.record_id = record_id
    row.client_id = client_id
    row.linked = linked
    row.applied_at = now
    row.decided_by_id = me.user_id
    row.decided_at = now
    row.decision = "linked" if linked else "applied"
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action="outbox.apply", target_type="outboxrecord",
                 target_id=row.id,
                 detail=f"kind={row.kind};record={record_id};client={client_id};"
                        f"author={row.user_id}")


def dismiss_item(*, session: Session, actor: Actor | None, review_id: int,
                 reason: str) -> ReviewItem:
    """Dismiss a kept record, saying why (the volunteer sees the reason)."""
    me, row = _supervised(session, actor, review_id)
    if row.status != OutboxStatus.KEPT:
        raise ValidationFailed({"review": "outbox.error.not_pending"})
    text = clean(reason)
    if not 3 <= len(text) <= 500:
        raise ValidationFailed({"reason": "outbox.error.reason_required"})
    row.status = OutboxStatus.DISMISSED
    row.decision = "dismissed"
    row.decision_reason = text
    row.decided_by_id = me.user_id
    row.decided_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action="outbox.dismiss", target_type="outboxrecord",
                 target_id=row.id, detail=f"kind={row.kind};author={row.user_id}")
    return _item(session, row)
