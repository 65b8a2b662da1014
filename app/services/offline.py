"""Working without a connection: what a volunteer's device may keep, and applying the records
it queued while offline.

The device keeps only the minimum for the Today list (client id, given name, what is due and
when) and the key that encrypts its queue. Queued records come back as one ordered batch;
each is applied through the normal service in its own transaction with its client-generated
key as the submission key, so a batch sent twice stores every record once. Every record gets
an answer: `sent` (stored now), `duplicate` (stored before: counts as sent) or `rejected`
(nothing stored, with the reason). A rejected key is not remembered (its transaction rolled
back), so the same record, fixed, can be sent again with the same key.

Conflicts the volunteer could not see while offline are rejections with their own reasons:
the client is no longer theirs (reassigned, moved, merged), the client's case was closed, or
the episode open when the record was made has been closed since. The last two can be sent
anyway once the volunteer confirms (`confirm`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.services import activities, security
from app.services.actor import Actor
from app.services.cards import given_name
from app.services.db import session_scope
from app.services.dto import DrugTestCreate, OutreachContactCreate, VisitCreate, parse
from app.services.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from app.services.policy import Action, authorize_client
from app.services.settings import load_settings
from app.services.submissions import replayed_record_id
from models import (
    AuthSession,
    ClientStatus,
    Episode,
    EpisodeStatus,
    Place,
    Role,
    utcnow,
)

MAX_BATCH = 100
# An expired (not signed-out) session's key is handed back to the same user for this long, so
# records queued before the expiry can still be opened and sent after the next sign-in.
EXPIRED_KEY_DAYS = 14
# Sessions that ended without the user meaning to: their queued records wait for sign-in.
_LAPSED_REASONS = ("idle", "expired")
_UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
# The offline kind -> the kind its submission key is remembered under (see activities).
SUBMISSION_KINDS: dict[str, str] = {
    "visit": "visit",
    "contact": "outreach_contact",
    "test": "drug_test",
}


class OfflineConflict(Conflict):
    """The world changed while the record waited; `confirmable` ones may be sent anyway."""

    def __init__(self, key: str, *, confirmable: bool) -> None:
        super().__init__(key)
        self.confirmable = confirmable


# --- what the device may keep --------------------------------------------------------------


@dataclass(frozen=True)
class TodayRow:
    """One client on the offline Today list: nothing more than the list needs."""

    client_id: int
    given_name: str
    due_kind: str
    due_on: str  # ISO date, "" if none
    episode_id: int | None  # the open episode, to notice if it is closed meanwhile


@dataclass(frozen=True)
class PlaceOption:
    id: int
    name: str


@dataclass(frozen=True)
class DeviceKey:
    key_id: str  # not secret: names the key a stored record was encrypted with
    key: str  # 64 hex characters (AES-256)


@dataclass(frozen=True)
class OfflineBootstrap:
    device_key: DeviceKey
    # Keys of this user's sessions that lapsed (idle or expired), newest first.
    previous_keys: list[DeviceKey]
    today: list[TodayRow]
    places: list[PlaceOption]
    today_date: str


def key_id(device_key: str) -> str:
    """A short, non-secret name for a device key (a truncated hash, not the key)."""
    return security.token_hash("dh-offline-key:" + device_key)[:16]


def _device_key(session: Session, actor: Actor) -> DeviceKey:
    if actor.session_id is None:
        raise PermissionDenied()
    row = session.get(AuthSession, actor.session_id)
    if row is None or row.user_id != actor.user_id or row.ended_at is not None:
        raise PermissionDenied()
    if not row.device_key:  # a session from before device keys: give it one, once
        row.device_key = security.new_device_key()
        session.add(row)
        session.flush()
    return DeviceKey(key_id=key_id(row.device_key), key=row.device_key)


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _previous_keys(session: Session, actor: Actor, now: datetime) -> list[DeviceKey]:
    """Keys of this user's other sessions that lapsed rather than being signed out of."""
    settings = load_settings()
    idle = timedelta(minutes=settings.session_idle_minutes)
    rows = session.exec(
        select(AuthSession)
        .where(
            AuthSession.user_id == actor.user_id,
            AuthSession.id != actor.session_id,
            AuthSession.device_key != "",
            AuthSession.expires_at > now - timedelta(days=EXPIRED_KEY_DAYS),
        )
        .order_by(col(AuthSession.id).desc())
    ).all()
    keys = []
    for row in rows:
        if row.ended_at is not None:
            lapsed = row.ended_reason in _LAPSED_REASONS
        else:  # never validated since it lapsed: it ended all the same
            lapsed = now >= _aware(row.expires_at) or now - _aware(row.last_seen_at) > idle
        if lapsed:
            keys.append(DeviceKey(key_id=key_id(row.device_key), key=row.device_key))
    return keys


def bootstrap(
    *, session: Session, actor: Actor | None, today: date, now: datetime | None = None
) -> OfflineBootstrap:
    """What a volunteer's device needs to keep working offline (volunteers only)."""
    if actor is None or actor.role != Role.VOLUNTEER:
        raise PermissionDenied()
    now = now or utcnow()
    items = activities.due_followups(session=session, actor=actor, today=today)
    first_per_client: dict[int, Any] = {}
    for item in items:  # most urgent first: keep each client's first line
        first_per_client.setdefault(item.client_id, item)
    episodes = _open_episodes(session, list(first_per_client))
    rows = [
        TodayRow(
            client_id=item.client_id,
            given_name=given_name(item.client_name),
            due_kind=item.kind,
            due_on=item.due_on.isoformat() if item.due_on else "",
            episode_id=episodes.get(item.client_id),
        )
        for item in first_per_client.values()
    ]
    places = [
        PlaceOption(id=p.id or 0, name=p.name)
        for p in session.exec(
            select(Place).where(col(Place.id).in_(sorted(actor.commune_ids))).order_by(Place.name)
        ).all()
    ]
    return OfflineBootstrap(
        device_key=_device_key(session, actor),
        previous_keys=_previous_keys(session, actor, now),
        today=rows,
        places=places,
        today_date=today.isoformat(),
    )


def _open_episodes(session: Session, client_ids: list[int]) -> dict[int, int]:
    if not client_ids:
        return {}
    rows = session.exec(
        select(Episode.client_id, Episode.id)
        .where(col(Episode.client_id).in_(client_ids), Episode.status == EpisodeStatus.OPEN)
        .order_by(col(Episode.id))
    ).all()
    return {client_id: episode_id for client_id, episode_id in rows if episode_id is not None}


# --- applying a queued batch ---------------------------------------------------------------


@dataclass(frozen=True)
class QueuedRecord:
    key: str
    kind: str
    created_at: datetime
    payload: dict[str, Any]
    episode_id: int | None = None  # the client's open episode when the record was made
    confirm: bool = False  # the volunteer has seen a confirmable conflict and sends anyway


@dataclass(frozen=True)
class SyncResult:
    key: str
    status: str  # "sent" | "duplicate" | "rejected"
    record_id: int | None = None
    reason: str = ""  # catalogue key, for a rejection
    fields: dict[str, str] = field(default_factory=dict)  # field -> catalogue key
    params: dict[str, Any] = field(default_factory=dict)
    confirmable: bool = False


def parse_record(raw: Any) -> QueuedRecord:
    """One queued record from the JSON the device sent; ValidationFailed if malformed."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed({"record": "error.invalid_value"})
    errors: dict[str, str] = {}
    key = raw.get("key")
    if not isinstance(key, str) or not _UUID4.fullmatch(key):
        errors["key"] = "error.invalid_value"
    kind = raw.get("kind")
    if kind not in SUBMISSION_KINDS:
        errors["kind"] = "error.invalid_value"
    created_at = _parse_moment(raw.get("created_at"))
    if created_at is None:
        errors["created_at"] = "error.invalid_value"
    payload = raw.get("payload")
    if not isinstance(payload, Mapping):
        errors["payload"] = "error.invalid_value"
    context = raw.get("context") or {}
    episode_id = context.get("episode_id") if isinstance(context, Mapping) else None
    if episode_id is not None and (type(episode_id) is not int or episode_id <= 0):
        errors["context"] = "error.invalid_value"
    confirm = raw.get("confirm", False)
    if not isinstance(confirm, bool):
        errors["confirm"] = "error.invalid_value"
    if errors:
        raise ValidationFailed(errors)
    assert isinstance(key, str) and isinstance(kind, str) and created_at is not None
    assert isinstance(payload, Mapping) and isinstance(confirm, bool)
    return QueuedRecord(key=key, kind=kind, created_at=created_at, payload=dict(payload),
                        episode_id=episode_id, confirm=confirm)


def _parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return _aware(moment).astimezone(UTC)


def _client_id(record: QueuedRecord) -> int | None:
    value = record.payload.get("client_id")
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed({"client_id": "error.invalid_value"}) from None


_ACTIONS = {"visit": Action.VISIT_CREATE, "contact": Action.CONTACT_CREATE,
            "test": Action.TEST_CREATE}


def _check_conflicts(session: Session, actor: Actor, record: QueuedRecord) -> None:
    """Refuse a record whose client changed in a way the volunteer could not see offline."""
    client_id = _client_id(record)
    if client_id is None:
        return
    try:
        _me, client, _target = authorize_client(session, actor, _ACTIONS[record.kind], client_id)
    except (NotFound, PermissionDenied):
        raise OfflineConflict("offline.reason.client_unavailable", confirmable=False) from None
    if record.confirm:
        return
    if client.status != ClientStatus.ACTIVE:
        raise OfflineConflict("offline.reason.client_closed", confirmable=True)
    if record.episode_id is not None:
        episode = session.get(Episode, record.episode_id)
        if episode is None or episode.client_id != client_id:
            raise ValidationFailed({"context": "error.invalid_value"})
        if episode.status == EpisodeStatus.CLOSED:
            raise OfflineConflict("offline.reason.episode_closed", confirmable=True)


def apply_record(*, session: Session, actor: Actor | None, record: QueuedRecord) -> SyncResult:
    """Apply one queued record in the caller's transaction. Raises DomainError on refusal
    (the caller rolls back, so nothing of a refused record is kept)."""
    if actor is None or actor.role != Role.VOLUNTEER:
        raise PermissionDenied()
    seen = replayed_record_id(session, key=record.key, kind=SUBMISSION_KINDS[record.kind],
                              actor=actor)
    if seen is not None:
        return SyncResult(key=record.key, status="duplicate", record_id=seen)
    _check_conflicts(session, actor, record)
    record_id: int
    if record.kind == "visit":
        record_id = activities.log_visit(
            session=session, actor=actor, data=parse(VisitCreate, record.payload),
            submission_key=record.key,
        ).id
    elif record.kind == "contact":
        record_id = activities.log_outreach_contact(
            session=session, actor=actor, data=parse(OutreachContactCreate, record.payload),
            submission_key=record.key,
        ).id
    else:
        record_id = activities.record_drug_test(
            session=session, actor=actor, data=parse(DrugTestCreate, record.payload),
            submission_key=record.key,
        ).id
    return SyncResult(key=record.key, status="sent", record_id=record_id)


def _rejected(key: str, err: DomainError) -> SyncResult:
    if isinstance(err, OfflineConflict):
        return SyncResult(key=key, status="rejected", reason=err.key,
                          confirmable=err.confirmable)
    if isinstance(err, NotFound):  # the client vanished from the actor's scope
        return SyncResult(key=key, status="rejected", reason="offline.reason.client_unavailable")
    fields = err.fields if isinstance(err, ValidationFailed) else {}
    return SyncResult(key=key, status="rejected", reason=err.key, fields=dict(fields),
                      params=dict(err.params))


def apply_batch(
    *,
    actor: Actor | None,
    records: Sequence[Any],
    scope: Callable[[], Any] | None = None,
    engine: Engine | None = None,
) -> list[SyncResult]:
    """Apply queued records in the order given, each in its own transaction, and answer for
    every one of them. `records` are raw JSON objects (see `parse_record`)."""
    if actor is None or actor.role != Role.VOLUNTEER:
        raise PermissionDenied()
    if len(records) > MAX_BATCH:
        raise ValidationFailed({"records": "offline.error.batch_too_large"}, max=MAX_BATCH)
    open_scope = scope or (lambda: session_scope(engine))
    results: list[SyncResult] = []
    for raw in records:
        raw_key = raw.get("key") if isinstance(raw, Mapping) else None
        shown_key = raw_key[:64] if isinstance(raw_key, str) else ""
        try:
            record = parse_record(raw)
        except ValidationFailed as err:
            results.append(_rejected(shown_key, err))
            continue
        results.append(_apply_with_retry(open_scope, actor, record))
    return results


def _apply_with_retry(open_scope: Callable[[], Any], actor: Actor,
                      record: QueuedRecord) -> SyncResult:
    # Two devices (or tabs) sending the same key at once: the loser fails on the submission
    # key's primary key at commit; trying once more finds the winner's record.
    for attempt in range(2):
        try:
            with open_scope() as db:
                return apply_record(session=db, actor=actor, record=record)
        except DomainError as err:
            return _rejected(record.key, err)
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


def legacy_keys(*, session: Session, actor: Actor, now: datetime | None = None) -> list[DeviceKey]:
    """The per-session keys of the first offline queue (this session's, then the lapsed
    ones), so that a device can open and re-seal records it queued before the device outbox."""
    now = now or utcnow()
    keys: list[DeviceKey] = []
    if actor.session_id is not None:
        row = session.get(AuthSession, actor.session_id)
        if row is not None and row.user_id == actor.user_id and row.device_key:
            keys.append(DeviceKey(key_id=key_id(row.device_key), key=row.device_key))
    return keys + _previous_keys(session, actor, now)
