"""Applying what a volunteer's device sends: one ordered batch, each record in its own
transaction, through the service its online form calls, with its device-made key as the
submission key. Every record gets an answer (`SyncResult`):

- `applied`: stored, now or before (a resend answers with the same record and times);
- `question`: a registration that may be a duplicate; candidates the volunteer may open are
  named; the volunteer answers (`same_as` a candidate, or `new`) and resends the same key;
- `kept`: refused (client no longer theirs, case or episode closed, a field rule): the whole
  record is kept on the server in the review list, with the reason and per-field messages;
- `waiting`: it names a client registered offline whose registration is not applied yet;
  nothing is stored and the device sends it again later;
- `invalid`: the envelope itself is malformed (no key, unknown kind): nothing can be kept.

The ledger (`OutboxRecord`, one row per key) is what makes a key exactly-once whoever applied
it (this sync or a supervisor) and maps a temporary client id `tmp:<registration key>` to the
real client, per user, for as long as the row lives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError
from sqlmodel import Session, select

from app.services import audit
from app.services.actor import Actor
from app.services.clients import DuplicateCandidates
from app.services.db import session_scope
from app.services.dto import DuplicateCandidate, parse
from app.services.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.services.outbox.kinds import KINDS, Kind
from app.services.places import place_name
from app.services.policy import Action, authorize_client
from models import (
    Client,
    ClientStatus,
    Episode,
    EpisodeStatus,
    OutboxRecord,
    OutboxStatus,
    Role,
    RoleAssignment,
    Submission,
    utcnow,
)

MAX_BATCH = 100
MAX_ID = 2**31 - 1  # ids are 32-bit integers on PostgreSQL: anything larger names nothing
TEMP_PREFIX = "tmp:"
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_DEVICE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Payload fields that name a row by id: checked before any service sees them.
ID_FIELDS = ("client_id", "place_id", "facility_id", "organiser_id", "commune_id",
             "assigned_volunteer_id")

# Reasons (catalogue keys) a kept record carries.
CLIENT_UNAVAILABLE = "outbox.reason.client_unavailable"
CLIENT_CLOSED = "outbox.reason.client_closed"
EPISODE_CLOSED = "outbox.reason.episode_closed"
RULE = "outbox.reason.rule"
NOT_ALLOWED = "outbox.reason.not_allowed"
REGISTRATION_DISMISSED = "outbox.reason.registration_dismissed"
DISMISSED = "outbox.reason.dismissed"
TEMP_PENDING = "outbox.reason.temp_client_pending"
QUESTION = "outbox.reason.possible_duplicate"


def valid_device_id(value: Any) -> bool:
    return isinstance(value, str) and _DEVICE.fullmatch(value) is not None


# --- what goes back ------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncResult:
    key: str
    kind: str
    status: str  # applied | question | kept | waiting | invalid
    record_id: int | None = None
    client_id: int | None = None
    linked: bool = False
    received_at: datetime | None = None
    applied_at: datetime | None = None
    reason: str = ""  # catalogue key
    fields: dict[str, str] = field(default_factory=dict)  # payload field -> catalogue key
    params: dict[str, Any] = field(default_factory=dict)
    confirmable: bool = False
    review_id: int | None = None
    candidates: list[dict[str, Any]] = field(default_factory=list)
    hidden_count: int = 0
    decision_reason: str = ""


class Refusal(DomainError):
    """The record cannot be applied as it is: keep it for review."""

    def __init__(self, reason: str, *, fields: Mapping[str, str] | None = None,
                 params: Mapping[str, Any] | None = None, confirmable: bool = False) -> None:
        super().__init__(reason, **dict(params or {}))
        self.reason = reason
        self.fields = dict(fields or {})
        self.confirmable = confirmable


class Waiting(Exception):
    """A temporary client id whose registration is not applied yet."""


class _Question(Exception):
    def __init__(self, duplicates: DuplicateCandidates) -> None:
        super().__init__("question")
        self.duplicates = duplicates


def refusal_of(err: DomainError) -> Refusal:
    """What a service's refusal means for a queued record."""
    if isinstance(err, Refusal):
        return err
    if isinstance(err, NotFound):  # the client is not (or no longer) the actor's
        return Refusal(CLIENT_UNAVAILABLE)
    if isinstance(err, PermissionDenied):
        return Refusal(NOT_ALLOWED)
    if isinstance(err, ValidationFailed):
        reason = RULE if err.key == ValidationFailed.key else err.key
        return Refusal(reason, fields=err.fields, params=err.params)
    if isinstance(err, Conflict):
        return Refusal(err.key, params=err.params)
    return Refusal(err.key, params=err.params)


# --- the envelope --------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    same_as: int | None = None  # the volunteer says: this is that existing client
    new: bool = False  # the volunteer says: a different person, register anyway


@dataclass(frozen=True)
class Envelope:
    key: str
    kind: Kind
    payload: dict[str, Any]
    saved_at: datetime | None = None
    episode_id: int | None = None
    confirm: bool = False
    answer: Answer | None = None


def _is_id(value: Any) -> bool:
    return type(value) is int and 0 < value <= MAX_ID


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment).astimezone(UTC)


def parse_envelope(raw: Any) -> Envelope:
    """One record as the device sent it; ValidationFailed (field -> key) if malformed."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed({"record": "error.invalid_value"})
    errors: dict[str, str] = {}
    key = raw.get("key")
    if not isinstance(key, str) or not _UUID4.fullmatch(key):
        errors["key"] = "error.invalid_value"
    kind = KINDS.get(raw["kind"]) if isinstance(raw.get("kind"), str) else None
    if kind is None:
        errors["kind"] = "error.invalid_value"
    payload = raw.get("payload")
    if not isinstance(payload, Mapping):
        errors["payload"] = "error.invalid_value"
    saved_at = None
    saved = raw.get("saved_at", raw.get("created_at"))
    if saved is not None:
        try:
            saved_at = _moment(saved)
        except ValueError:
            errors["saved_at"] = "error.invalid_value"
    context = raw.get("context") or {}
    episode_id = context.get("episode_id") if isinstance(context, Mapping) else "bad"
    if episode_id is not None and not _is_id(episode_id):
        errors["context"] = "error.invalid_value"
    confirm = raw.get("confirm") or False
    if not isinstance(confirm, bool):
        errors["confirm"] = "error.invalid_value"
    answer = _answer(raw.get("answer"), errors)
    if answer is not None and kind is not None and kind.name != "client":
        errors["answer"] = "error.invalid_value"
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(key, str) and kind is not None and isinstance(payload, Mapping)
    assert episode_id is None or isinstance(episode_id, int)
    return Envelope(key=key, kind=kind, payload=dict(payload), saved_at=saved_at,
                    episode_id=episode_id, confirm=bool(confirm), answer=answer)


def _answer(raw: Any, errors: dict[str, str]) -> Answer | None:
    if raw is None:
        return None
    if isinstance(raw, Mapping) and set(raw) == {"same_as"} and _is_id(raw["same_as"]):
        return Answer(same_as=raw["same_as"])
    if isinstance(raw, Mapping) and set(raw) == {"new"} and raw["new"] is True:
        return Answer(new=True)
    errors["answer"] = "error.invalid_value"
    return None


# --- temporary client ids ------------------------------------------------------------------


def temp_key(value: Any) -> str | None:
    """The registration key a temporary id `tmp:<key>` names, or None if not one."""
    if isinstance(value, str) and value.startswith(TEMP_PREFIX):
        rest = value[len(TEMP_PREFIX):]
        if _UUID4.fullmatch(rest):
            return rest
    return None


def _registered_client(session: Session, author_id: int, key: str) -> int:
    """The real client of a registration the same user sent under `key`."""
    row = session.exec(select(OutboxRecord).where(OutboxRecord.key == key)).first()
    if row is None or row.user_id != author_id or row.kind != "client":
        raise Waiting()
    if row.status == OutboxStatus.APPLIED and row.client_id is not None:
        return row.client_id
    if row.status == OutboxStatus.DISMISSED:
        raise Refusal(REGISTRATION_DISMISSED)
    raise Waiting()


def resolve_ids(session: Session, author_id: int, kind: Kind,
                payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with temporary client ids replaced by real ones. Ids that cannot name a
    row (too large, negative, not integers) are refused per field, before any query."""
    out = dict(payload)
    errors: dict[str, str] = {}
    for name in ID_FIELDS:
        value = out.get(name)
        if value is None:
            continue
        if name == "client_id" and kind.name != "client" and (tk := temp_key(value)):
            out[name] = _registered_client(session, author_id, tk)
        elif not _is_id(value):
            errors[name] = "error.invalid_value"
    if kind.name == "group_activity" and "client_ids" in out:
        ids = out["client_ids"]
        if not isinstance(ids, list) or len(ids) > 1000:
            errors["client_ids"] = "error.invalid_value"
        else:
            resolved = []
            for value in ids:
                if (tk := temp_key(value)) is not None:
                    resolved.append(_registered_client(session, author_id, tk))
                elif _is_id(value):
                    resolved.append(value)
                else:
                    errors["client_ids"] = "error.invalid_value"
            out["client_ids"] = resolved
    if errors:
        raise Refusal(RULE, fields=errors)
    return out


# --- the ledger ----------------------------------------------------------------------------


def ledger_row(session: Session, key: str) -> OutboxRecord | None:
    return session.exec(select(OutboxRecord).where(OutboxRecord.key == key)).first()


def applied_result(row: OutboxRecord) -> SyncResult:
    return SyncResult(key=row.key, kind=row.kind, status="applied", record_id=row.record_id,
                      client_id=row.client_id, linked=row.linked, received_at=row.received_at,
                      applied_at=row.applied_at)


def kept_result(row: OutboxRecord) -> SyncResult:
    return SyncResult(
        key=row.key, kind=row.kind, status="kept", received_at=row.received_at,
        reason=DISMISSED if row.status == OutboxStatus.DISMISSED else row.reason,
        fields=json.loads(row.fields or "{}"),
        params=json.loads(row.params or "{}"), confirmable=row.confirmable, review_id=row.id,
        decision_reason=row.decision_reason,
    )


def author_communes(session: Session, user_id: int) -> frozenset[int]:
    rows = session.exec(select(RoleAssignment.place_id).where(
        RoleAssignment.user_id == user_id, RoleAssignment.role == Role.VOLUNTEER)).all()
    return frozenset(r for r in rows if r is not None)


def _commune_of(session: Session, payload: Mapping[str, Any], client_id: int | None,
                author: Actor) -> int | None:
    """Where a supervisor finds a kept record: its client's commune, else its place."""
    if _is_id(client_id):
        client = session.get(Client, client_id)
        if client is not None:
            return client.commune_id
    for name in ("commune_id", "place_id"):
        if _is_id(payload.get(name)):
            return int(payload[name])
    return min(author.commune_ids) if author.commune_ids else None


def _store(session: Session, row: OutboxRecord | None, env: Envelope, actor: Actor,
           device_id: str, **values: Any) -> OutboxRecord:
    if row is None:
        row = OutboxRecord(key=env.key, user_id=actor.user_id, device_id=device_id,
                           kind=env.kind.name, status=OutboxStatus.KEPT)
    row.kind = env.kind.name
    row.device_id = device_id or row.device_id
    row.episode_id = env.episode_id
    row.saved_at = env.saved_at or row.saved_at
    for name, value in values.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()
    return row


# --- applying one record -------------------------------------------------------------------


def _check_conflicts(session: Session, actor: Actor, env: Envelope, client_id: int) -> None:
    """Refuse what changed while the record waited on the device: the client is no longer
    the volunteer's, or the case or the episode open when it was made has been closed."""
    try:
        _me, client, _target = authorize_client(session, actor, env.kind.action, client_id)
    except (NotFound, PermissionDenied):
        raise Refusal(CLIENT_UNAVAILABLE) from None
    if env.confirm:
        return
    if client.status != ClientStatus.ACTIVE:
        raise Refusal(CLIENT_CLOSED, confirmable=True)
    if env.episode_id is not None:
        episode = session.get(Episode, env.episode_id)
        if episode is None or episode.client_id != client_id:
            raise Refusal(RULE, fields={"context": "error.invalid_value"})
        if episode.status == EpisodeStatus.CLOSED:
            raise Refusal(EPISODE_CLOSED, confirmable=True)


def _link(session: Session, actor: Actor, env: Envelope, row: OutboxRecord | None,
          device_id: str, client_id: int) -> SyncResult:
    """The volunteer says the person registered offline is an existing client of theirs."""
    try:
        authorize_client(session, actor, Action.CLIENT_READ, client_id)
    except (NotFound, PermissionDenied):
        raise Refusal(CLIENT_UNAVAILABLE) from None
    now = utcnow()
    row = _store(session, row, env, actor, device_id, status=OutboxStatus.APPLIED,
                 payload="{}", client_id=client_id, record_id=None, linked=True,
                 applied_at=now, reason="", fields="{}", params="{}", confirmable=False)
    audit.record(session, actor=actor, action="outbox.link", target_type="client",
                 target_id=client_id, detail=f"key={env.key[:8]}")
    return applied_result(row)


def _apply(session: Session, actor: Actor, device_id: str, env: Envelope) -> SyncResult:
    """Apply one record in the caller's transaction, or raise Refusal / Waiting / _Question."""
    row = ledger_row(session, env.key)
    if row is not None and row.user_id != actor.user_id:
        # Another account's key: never answered with their record, never overwritten.
        raise ValidationFailed({"key": "error.submission_key_reused"})
    if row is not None and row.status == OutboxStatus.APPLIED:
        return applied_result(row)
    if row is not None and row.status == OutboxStatus.DISMISSED:
        return kept_result(row)
    payload = resolve_ids(session, actor.user_id, env.kind, env.payload)
    if env.answer is not None and env.answer.same_as is not None:
        return _link(session, actor, env, row, device_id, env.answer.same_as)
    client_id = payload.get("client_id") if env.kind.name != "client" else None
    if env.kind.client_required and isinstance(client_id, int) and _is_id(client_id):
        _check_conflicts(session, actor, env, client_id)
    if form_errors := env.kind.form_check(payload):  # what the online form checks first
        raise Refusal(RULE, fields=form_errors)
    data = parse(env.kind.dto, payload)
    earlier = session.get(Submission, env.key)  # stored before the ledger knew the key
    try:
        record_id, real_client = env.kind.apply(
            session, actor, data, env.key, env.answer is not None and env.answer.new)
    except DuplicateCandidates as dup:
        raise _Question(dup) from None
    now = utcnow()
    row = _store(session, row, env, actor, device_id, status=OutboxStatus.APPLIED,
                 payload="{}", record_id=record_id, client_id=real_client, linked=False,
                 applied_at=earlier.created_at if earlier is not None else now, reason="",
                 fields="{}", params="{}", confirmable=False)
    return applied_result(row)


def _candidate(session: Session, c: DuplicateCandidate) -> dict[str, Any]:
    return {"id": c.id, "full_name": c.full_name, "birth_year": c.birth_year,
            "commune_id": c.commune_id, "commune_name": place_name(session, c.commune_id)}


def _keep(session: Session, actor: Actor, device_id: str, env: Envelope,
          refusal: Refusal | None, question: DuplicateCandidates | None) -> SyncResult:
    """Keep a refused record (or a registration waiting for the volunteer's answer)."""
    row = ledger_row(session, env.key)
    if row is not None and row.user_id != actor.user_id:
        raise ValidationFailed({"key": "error.submission_key_reused"})
    if row is not None and row.status == OutboxStatus.APPLIED:  # applied meanwhile
        return applied_result(row)
    payload = json.dumps(env.payload, ensure_ascii=True, default=str)
    raw_client = env.payload.get("client_id")
    commune = _commune_of(session, env.payload, raw_client if _is_id(raw_client) else None,
                          actor)
    if question is not None:
        row = _store(session, row, env, actor, device_id, status=OutboxStatus.QUESTION,
                     payload=payload, commune_id=commune, reason=QUESTION,
                     fields="{}", params=json.dumps(question.params), confirmable=False)
        return SyncResult(
            key=env.key, kind=env.kind.name, status="question", received_at=row.received_at,
            reason=QUESTION, params=dict(question.params), review_id=row.id,
            candidates=[_candidate(session, c) for c in question.candidates],
            hidden_count=question.hidden_count,
        )
    assert refusal is not None
    # Bounded to fit their columns (fields 2,000 characters, params 500) whatever was sent.
    fields = {str(k)[:40]: str(v)[:80] for k, v in list(refusal.fields.items())[:12]}
    params = {str(k)[:40]: v for k, v in list(refusal.params.items())[:5]
              if isinstance(v, int | str) and len(str(v)) < 40}
    row = _store(session, row, env, actor, device_id, status=OutboxStatus.KEPT,
                 payload=payload, commune_id=commune, reason=refusal.reason[:80],
                 fields=json.dumps(fields), params=json.dumps(params),
                 confirmable=refusal.confirmable, decision="", decision_reason="")
    audit.record(session, actor=actor, action="outbox.kept", target_type="outboxrecord",
                 target_id=row.id, detail=f"kind={env.kind.name};reason={refusal.reason}")
    return kept_result(row)


Scope = Callable[[], AbstractContextManager[Session]]


def _sync_one(open_scope: Scope, actor: Actor, device_id: str, env: Envelope) -> SyncResult:
    # Two requests sending the same key at once: the loser fails on a unique key at commit
    # (the submission or the ledger row); once more, it finds the winner's row.
    for attempt in range(2):
        try:
            refusal: Refusal | None = None
            question: DuplicateCandidates | None = None
            try:
                with open_scope() as db:
                    return _apply(db, actor, device_id, env)
            except Waiting:
                return SyncResult(key=env.key, kind=env.kind.name, status="waiting",
                                  reason=TEMP_PENDING)
            except _Question as q:
                question = q.duplicates
            except DomainError as err:
                if _foreign_key(err):
                    return _invalid(env.key, err)
                refusal = refusal_of(err)
            except DataError:  # a value the database cannot hold (checked nowhere earlier)
                refusal = Refusal(RULE, fields={"_": "error.invalid_value"})
            # The service's transaction is rolled back; keeping the record is another one.
            with open_scope() as db:
                return _keep(db, actor, device_id, env, refusal, question)
        except IntegrityError:
            if attempt:
                raise
        except DomainError as err:  # the key belongs to someone else
            return _invalid(env.key, err)
    raise AssertionError("unreachable")


def _foreign_key(err: DomainError) -> bool:
    return isinstance(err, ValidationFailed) and err.fields.get("key") == \
        "error.submission_key_reused"


def _invalid(key: str, err: DomainError) -> SyncResult:
    fields = err.fields if isinstance(err, ValidationFailed) else {}
    return SyncResult(key=key, kind="", status="invalid", reason="outbox.reason.invalid",
                      fields=dict(fields))


def apply_batch(
    *,
    actor: Actor | None,
    device_id: str,
    records: Sequence[Any],
    scope: Scope | None = None,
    engine: Engine | None = None,
) -> list[SyncResult]:
    """Apply the records in the order sent, each in its own transaction; one answer each.
    `records` are raw JSON objects (see `parse_envelope`)."""
    if actor is None or actor.role != Role.VOLUNTEER:
        raise PermissionDenied()
    if not valid_device_id(device_id):
        raise ValidationFailed({"device": "error.invalid_value"})
    if len(records) > MAX_BATCH:
        raise ValidationFailed({"records": "outbox.error.batch_too_large"}, max=MAX_BATCH)
    open_scope: Scope = scope or (lambda: session_scope(engine))
    results: list[SyncResult] = []
    for raw in records:
        raw_key = raw.get("key") if isinstance(raw, Mapping) else None
        shown = raw_key[:64] if isinstance(raw_key, str) else ""
        try:
            env = parse_envelope(raw)
        except ValidationFailed as err:
            results.append(_invalid(shown, err))
            continue
        results.append(_sync_one(open_scope, actor, device_id, env))
    return results
