"""The audit trail: append-only events of who read or changed which record, never the values.

`record` writes an event in the caller's transaction, so it commits or rolls back together
with the read or change it describes. `record_denial` must survive the rollback that follows a
refusal, so it writes in its own short transaction. There is deliberately no function that
updates or deletes an event, and `install_append_only_guard` makes the database refuse it too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app.services.actor import Actor
from models import AuditEvent, utcnow

log = logging.getLogger(__name__)

OK = "ok"
DENIED = "denied"
FAILED = "failed"

_DETAIL_MAX = 200


def _event_values(
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: int | None,
    outcome: str,
    detail: str,
    actor_id: int | None = None,
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor_id": actor.user_id if actor else actor_id,
        "role": actor.role.value if actor else "",
        "action": str(action)[:60],
        "target_type": target_type[:40],
        "target_id": target_id,
        "outcome": outcome[:20],
        "detail": detail[:_DETAIL_MAX],
    }


def record(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: int | None,
    outcome: str = OK,
    detail: str = "",
    actor_id: int | None = None,
) -> None:
    """Add one event to the current transaction (it is written only if the change is).

    `actor_id` names the account when there is no Actor yet (a failed sign-in)."""
    values = _event_values(actor, action, target_type, target_id, outcome, detail, actor_id)
    # A Core INSERT in the caller's transaction, not an ORM object: building an AuditEvent
    # and flushing it cost 2-3x as much, on every audited read (bench/queries.py profile).
    session.execute(_INSERT, values)


_INSERT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


def record_people(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    client_ids: Iterable[int | None],
    detail: str = "",
) -> int:
    """One event per person shown in a list or written to an export (their id, never a
    value), in the caller's transaction, so that "who saw this record" includes lists and
    exports. One multi-row INSERT. Returns how many people were recorded."""
    seen: set[int] = set()
    rows = []
    for client_id in client_ids:
        if client_id is None or client_id in seen:
            continue
        seen.add(client_id)
        rows.append(_event_values(actor, action, "client", client_id, OK, detail))
    if rows:
        session.execute(_INSERT, rows)
    return len(rows)


def record_denial(
    session: Session,
    *,
    actor: Actor | None,
    action: str,
    target_type: str,
    target_id: int | None,
    detail: str = "",
) -> None:
    """Write a 'denied' event that outlives the caller's transaction (which will roll back)."""
    values = _event_values(actor, action, target_type, target_id, DENIED, detail)
    engine = _engine_of(session)
    try:
        _write_separately(engine, [values])
    except SQLAlchemyError:
        # SQLite: the caller's transaction holds the write lock. Write once it has ended.
        log.info("denial event deferred until the current transaction ends")
        if not session.info.get(_LISTENING):
            event.listen(session, "after_commit", _flush_pending)
            event.listen(session, "after_rollback", _flush_pending)
            session.info[_LISTENING] = True
        session.info.setdefault(_PENDING, []).append(values)


_PENDING = "dh_pending_denials"
_LISTENING = "dh_denial_listeners"


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind if isinstance(bind, Engine) else bind.engine


def _write_separately(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Do not sit out the full busy timeout waiting for a lock our own caller holds.
            conn.exec_driver_sql("PRAGMA busy_timeout=1000")
        try:
            conn.execute(insert(AuditEvent.__table__), rows)  # type: ignore[attr-defined]
            conn.commit()
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA busy_timeout=10000")


def _flush_pending(session: Session) -> None:
    rows = session.info.pop(_PENDING, [])
    if rows:
        try:
            _write_separately(_engine_of(session), rows)
        except SQLAlchemyError:
            log.exception("denial events lost: %s", rows)


_SQLITE_GUARD = (
    "CREATE TRIGGER IF NOT EXISTS auditevent_no_update BEFORE UPDATE ON auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS auditevent_no_delete BEFORE DELETE ON auditevent "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
)

_PG_GUARD = (
    "CREATE OR REPLACE FUNCTION auditevent_append_only() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = 'insufficient_privilege'; "
    "END $$",
    "DROP TRIGGER IF EXISTS auditevent_append_only ON auditevent",
    "CREATE TRIGGER auditevent_append_only BEFORE UPDATE OR DELETE ON auditevent "
    "FOR EACH ROW EXECUTE FUNCTION auditevent_append_only()",
)


def append_only_guard_sql(dialect: str) -> tuple[str, ...]:
    """The statements that make `auditevent` refuse UPDATE and DELETE (used by the migration)."""
    return {"sqlite": _SQLITE_GUARD, "postgresql": _PG_GUARD}.get(dialect, ())


def install_append_only_guard(engine: Engine) -> None:
    """Make the database itself refuse UPDATE and DELETE on audit events (idempotent).

    TRUNCATE is not covered: it needs table ownership, which the application's database role
    should not have in production.
    """
    statements = append_only_guard_sql(engine.dialect.name)
    if not statements:
        log.warning("no append-only guard for dialect %s", engine.dialect.name)
        return
    with engine.begin() as conn:
        for sql in statements:
            conn.exec_driver_sql(sql)
