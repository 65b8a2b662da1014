"""Duplicate clients: find likely pairs, merge one record into another with a log, undo it.

A merge re-points every row that belongs to the merged client (visits, outreach contacts,
drug tests, referrals, support, episodes, consents, cards, group-activity attendance, and
records merged into it earlier) to the kept client, marks the merged client MERGED with
`merged_into_id`, and writes a `ClientMerge` log naming each row it moved and the prior value
of anything else it changed. Undo puts exactly those rows back. Both are audited.

Two records are *likely duplicates* when they share a national ID, or the same folded name,
birth year and commune (the rule registration uses to warn). Merging needs the supervisor's
right to reassign clients (`Action.CLIENT_REASSIGN`) on both records: it is a correction of
the caseload, never a volunteer's decision.

Cards: a client has at most one active card, so when both records have one, the merged
record's active cards are revoked (reason "merged"); undo makes them active again.
Episodes move as they are; two live episodes of one type on the kept record are left for the
supervisor to close (the merge does not guess which decision is right).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlmodel import Session, SQLModel, col

from app.services import audit
from app.services.actor import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.policy import Action, authorize_client, authorize_grant, client_scope_filter
from models import (
    Card,
    CardStatus,
    Client,
    ClientMerge,
    ClientStatus,
    Consent,
    DrugTest,
    Episode,
    GroupActivityClient,
    OutreachContact,
    Place,
    Referral,
    Support,
    User,
    Visit,
    utcnow,
)

MAX_PAIRS = 200
MERGE_ACTION = "client.merge"
UNDO_ACTION = "client.merge_undo"
REVOKED_REASON = "merged"

# Tables whose rows follow the client by `client_id` (the log's keys are these names).
_MOVABLE: dict[str, type[SQLModel]] = {
    "visit": Visit,
    "outreach": OutreachContact,
    "drug_test": DrugTest,
    "referral": Referral,
    "support": Support,
    "episode": Episode,
    "consent": Consent,
    "card": Card,
}


@dataclass(frozen=True)
class DuplicateSide:
    client_id: int
    full_name: str
    birth_year: int
    commune_name: str
    national_id: str
    volunteer_name: str


@dataclass(frozen=True)
class DuplicatePair:
    first: DuplicateSide
    second: DuplicateSide
    reason: str  # "national_id" or "name_birth_commune"


@dataclass(frozen=True)
class MergeRead:
    id: int
    kept_id: int
    kept_name: str
    merged_id: int
    merged_name: str
    merged_by: str
    merged_at: datetime
    moved: dict[str, int]  # table -> rows moved
    undone_at: datetime | None


# --- finding pairs -------------------------------------------------------------------------


def duplicate_pairs(
    *, session: Session, actor: Actor | None, limit: int = MAX_PAIRS
) -> list[DuplicatePair]:
    """Likely duplicate pairs among the active records in the actor's scope (audited)."""
    me = authorize_grant(session, actor, Action.CLIENT_REASSIGN)
    def scoped(name: str) -> Any:
        return (
            select(col(Client.id), col(Client.national_id), col(Client.name_key),
                   col(Client.birth_year), col(Client.commune_id))
            .where(client_scope_filter(me), col(Client.status) == ClientStatus.ACTIVE)
            .subquery(name)
        )

    a, b = scoped("a").c, scoped("b").c
    limit = max(1, min(limit, MAX_PAIRS))
    found: dict[tuple[int, int], str] = {}
    same_id = select(a.id, b.id).where(
        a.national_id == b.national_id, a.id < b.id, a.national_id.is_not(None),
        a.national_id != "")
    same_person = select(a.id, b.id).where(
        a.birth_year == b.birth_year, a.commune_id == b.commune_id, a.name_key == b.name_key,
        a.id < b.id)
    for query, reason in ((same_id, "national_id"), (same_person, "name_birth_commune")):
        for first, second in session.execute(
            query.order_by(a.id, b.id).limit(limit)
        ).tuples():
            found.setdefault((first, second), reason)
    pairs = sorted(found.items())[:limit]
    ids = {i for pair, _ in pairs for i in pair}
    sides = _sides(session, ids)
    audit.record(session, actor=me, action="client.duplicates", target_type="client",
                 target_id=None, detail=f"pairs={len(pairs)}")
    return [DuplicatePair(sides[x], sides[y], reason) for (x, y), reason in pairs]


def _sides(session: Session, ids: set[int]) -> dict[int, DuplicateSide]:
    if not ids:
        return {}
    rows = session.execute(
        select(col(Client.id), col(Client.full_name), col(Client.birth_year), col(Place.name),
               col(Client.national_id), col(User.full_name))
        .join(Place, col(Place.id) == col(Client.commune_id))
        .outerjoin(User, col(User.id) == col(Client.assigned_volunteer_id))
        .where(col(Client.id).in_(ids))
    ).tuples().all()
    return {
        cid: DuplicateSide(cid, name, year, commune, nid or "", vol or "")
        for cid, name, year, commune, nid, vol in rows
    }


def duplicates_elsewhere(
    *, session: Session, actor: Actor | None, limit: int = MAX_PAIRS
) -> list[DuplicateSide]:
    """The supervisor's duplicate-review list across areas: active records in the actor's
    scope whose national ID is also on an active record *outside* it. Only the in-scope side
    is shown (the other record stays out of reach); registration saves such a record without
    telling the volunteer (no membership oracle) and it lands here. Audited."""
    me = authorize_grant(session, actor, Action.CLIENT_REASSIGN)
    inside = (
        select(col(Client.id), col(Client.national_id))
        .where(client_scope_filter(me), col(Client.status) == ClientStatus.ACTIVE,
               col(Client.national_id).is_not(None), col(Client.national_id) != "")
        .subquery("inside")
    )
    in_scope_ids = select(col(Client.id)).where(client_scope_filter(me))
    outside = select(col(Client.national_id)).where(
        col(Client.status) == ClientStatus.ACTIVE, col(Client.id).not_in(in_scope_ids))
    ids = list(session.execute(
        select(inside.c.id).where(inside.c.national_id.in_(outside))
        .order_by(inside.c.id).limit(max(1, min(limit, MAX_PAIRS)))
    ).scalars())
    sides = _sides(session, set(ids))
    audit.record(session, actor=me, action="client.duplicates", target_type="client",
                 target_id=None, detail=f"elsewhere={len(ids)}")
    return [sides[i] for i in ids if i in sides]


# --- merge and undo ------------------------------------------------------------------------


def _ids(session: Session, model: type[SQLModel], client_id: int) -> list[int]:
    column = model.client_id  # type: ignore[attr-defined]
    return list(session.execute(
        select(model.id).where(column == client_id).order_by(model.id)  # type: ignore[attr-defined]
    ).scalars())


def _repoint(session: Session, model: type[SQLModel], ids: list[int], client_id: int) -> None:
    if ids:
        session.execute(
            update(model).where(model.id.in_(ids))  # type: ignore[attr-defined]
            .values(client_id=client_id).execution_options(synchronize_session=False)
        )


def merge_clients(
    *, session: Session, actor: Actor | None, keep_id: int, merge_id: int
) -> MergeRead:
    """Merge the record `merge_id` into `keep_id`; returns the log entry (audited)."""
    me = authorize_grant(session, actor, Action.CLIENT_REASSIGN)
    if keep_id == merge_id:
        raise ValidationFailed({"merge_id": "sup.error.merge_same"})
    _me, kept, _t = authorize_client(session, me, Action.CLIENT_REASSIGN, keep_id)
    _me, merged, _t = authorize_client(session, me, Action.CLIENT_REASSIGN, merge_id)
    if kept.status == ClientStatus.MERGED or merged.status == ClientStatus.MERGED:
        raise Conflict("sup.error.already_merged")
    moved: dict[str, Any] = {}
    for name, model in _MOVABLE.items():
        moved[name] = _ids(session, model, merge_id)
    # Cards: keep "at most one active" on the kept record.
    kept_has_active = session.execute(
        select(col(Card.id)).where(col(Card.client_id) == keep_id,
                                   col(Card.status) == CardStatus.ACTIVE)
    ).first() is not None
    revoked: list[int] = []
    if kept_has_active:
        revoked = list(session.execute(
            select(col(Card.id)).where(col(Card.client_id) == merge_id,
                                       col(Card.status) == CardStatus.ACTIVE)
        ).scalars())
        if revoked:
            session.execute(
                update(Card).where(col(Card.id).in_(revoked))
                .values(status=CardStatus.REVOKED, revoked_at=utcnow(),
                        revoked_reason=REVOKED_REASON)
                .execution_options(synchronize_session=False))
    moved["card_revoked"] = revoked
    for name, model in _MOVABLE.items():
        _repoint(session, model, moved[name], keep_id)
    # Attendance has a composite key: a group both records attended keeps one row.
    attended = list(session.execute(
        select(col(GroupActivityClient.activity_id)).where(
            col(GroupActivityClient.client_id) == merge_id)).scalars())
    already = set(session.execute(
        select(col(GroupActivityClient.activity_id)).where(
            col(GroupActivityClient.client_id) == keep_id)).scalars())
    moved["attendance"] = [a for a in attended if a not in already]
    moved["attendance_dropped"] = [a for a in attended if a in already]
    if attended:
        session.execute(delete(GroupActivityClient).where(
            col(GroupActivityClient.client_id) == merge_id))
    if moved["attendance"]:
        session.execute(insert(GroupActivityClient), [
            {"activity_id": a, "client_id": keep_id} for a in moved["attendance"]])
    # Records merged into this one earlier now point at the kept record.
    earlier = list(session.execute(
        select(col(Client.id)).where(col(Client.merged_into_id) == merge_id)).scalars())
    if earlier:
        session.execute(update(Client).where(col(Client.id).in_(earlier))
                        .values(merged_into_id=keep_id)
                        .execution_options(synchronize_session=False))
    moved["merged_into"] = earlier
    log = ClientMerge(kept_id=keep_id, merged_id=merge_id, merged_by_id=me.user_id,
                      prior_status=str(merged.status), moved=json.dumps(moved, sort_keys=True))
    merged.status = ClientStatus.MERGED
    merged.merged_into_id = keep_id
    merged.version += 1
    kept.version += 1
    session.add_all([log, merged, kept])
    session.flush()
    counts = {k: len(v) for k, v in moved.items() if v}
    audit.record(session, actor=me, action=MERGE_ACTION, target_type="client",
                 target_id=merge_id,
                 detail=f"into={keep_id} log={log.id} " + " ".join(
                     f"{k}={n}" for k, n in sorted(counts.items())))
    return _read(session, log)


def undo_merge(*, session: Session, actor: Actor | None, merge_log_id: int) -> MergeRead:
    """Put back exactly what a merge moved and make the merged record active again (audited).

    Rows added to the kept record after the merge stay with it."""
    me = authorize_grant(session, actor, Action.CLIENT_REASSIGN)
    log = session.get(ClientMerge, merge_log_id)
    if log is None:
        raise NotFound()
    _me, kept, _t = authorize_client(session, me, Action.CLIENT_REASSIGN, log.kept_id)
    _me, merged, _t = authorize_client(session, me, Action.CLIENT_REASSIGN, log.merged_id)
    if log.undone_at is not None:
        raise Conflict("sup.error.merge_undone")
    if kept.status == ClientStatus.MERGED or merged.merged_into_id != log.kept_id:
        raise Conflict("sup.error.merge_blocked")
    moved: dict[str, list[int]] = json.loads(log.moved)
    for name, model in _MOVABLE.items():
        ids = moved.get(name, [])
        if ids:  # only rows still on the kept record go back
            session.execute(
                update(model).where(model.id.in_(ids),  # type: ignore[attr-defined]
                                    model.client_id == log.kept_id)  # type: ignore[attr-defined]
                .values(client_id=log.merged_id).execution_options(synchronize_session=False))
    if moved.get("card_revoked"):
        session.execute(
            update(Card).where(col(Card.id).in_(moved["card_revoked"]),
                               col(Card.revoked_reason) == REVOKED_REASON)
            .values(status=CardStatus.ACTIVE, revoked_at=None, revoked_reason="")
            .execution_options(synchronize_session=False))
    back = moved.get("attendance", [])
    if back:
        session.execute(delete(GroupActivityClient).where(
            col(GroupActivityClient.client_id) == log.kept_id,
            col(GroupActivityClient.activity_id).in_(back)))
    restore = back + moved.get("attendance_dropped", [])
    if restore:
        session.execute(insert(GroupActivityClient), [
            {"activity_id": a, "client_id": log.merged_id} for a in sorted(restore)])
    if moved.get("merged_into"):
        session.execute(update(Client).where(col(Client.id).in_(moved["merged_into"]),
                                             col(Client.merged_into_id) == log.kept_id)
                        .values(merged_into_id=log.merged_id)
                        .execution_options(synchronize_session=False))
    merged.status = ClientStatus(log.prior_status)
    merged.merged_into_id = None
    merged.version += 1
    kept.version += 1
    log.undone_at = utcnow()
    log.undone_by_id = me.user_id
    session.add_all([merged, kept, log])
    session.flush()
    audit.record(session, actor=me, action=UNDO_ACTION, target_type="client",
                 target_id=log.merged_id, detail=f"from={log.kept_id} log={log.id}")
    return _read(session, log)


def _read(session: Session, log: ClientMerge) -> MergeRead:
    assert log.id is not None
    names = dict(session.execute(
        select(col(Client.id), col(Client.full_name))
        .where(col(Client.id).in_([log.kept_id, log.merged_id]))).tuples().all())
    user = session.get(User, log.merged_by_id) if log.merged_by_id else None
    moved = {k: len(v) for k, v in json.loads(log.moved).items() if v}
    return MergeRead(id=log.id, kept_id=log.kept_id, kept_name=names.get(log.kept_id, ""),
                     merged_id=log.merged_id, merged_name=names.get(log.merged_id, ""),
                     merged_by=user.full_name if user else "", merged_at=log.merged_at,
                     moved=moved, undone_at=log.undone_at)


def recent_merges(*, session: Session, actor: Actor | None, limit: int = 50) -> list[MergeRead]:
    """The latest merges of records in the actor's scope, newest first."""
    me = authorize_grant(session, actor, Action.CLIENT_REASSIGN)
    logs = session.execute(
        select(ClientMerge)
        .join(Client, col(Client.id) == col(ClientMerge.kept_id))
        .where(client_scope_filter(me))
        .order_by(col(ClientMerge.merged_at).desc(), col(ClientMerge.id).desc())
        .limit(max(1, min(limit, 200)))
    ).scalars().all()
    return [_read(session, log) for log in logs]
