"""Submission keys: what makes every create service exactly-once.

A form (or an offline draft) sends a key it made once. The service that creates a record
remembers the key with that record in the same transaction; seeing the key again, it answers
with that record and writes nothing, whichever process or browser tab the repeat reaches.

A key answers only for what it made. The same key from another account or for another kind of
record, or for another client or place than its record's, is refused (`Conflict`) and nothing
is written: a form that kept its key after a save whose answer was lost must never be
"answered" with a record made for someone else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlmodel import Session, SQLModel

from app.services import audit
from app.services.actor import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from models import Submission

# Keys are made by the client (a UUID or similar): plain ASCII, at most 64 characters.
_KEY = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
KEY_REUSED = "error.submission_key_reused"
OTHER_TARGET = "error.submission_other_target"

R = TypeVar("R", bound=SQLModel)


class _Row(Protocol):
    id: int | None


def check_key(key: str | None) -> None:
    if key is not None and not _KEY.fullmatch(key):
        raise ValidationFailed({"submission_key": "error.invalid_value"})


def replayed_record_id(session: Session, *, key: str | None, kind: str, actor: Actor) -> int | None:
    """The id of the record a submission key already created, if any."""
    check_key(key)
    if key is None:
        return None
    seen = session.get(Submission, key)
    if seen is None:
        return None
    if seen.kind != kind or seen.actor_id != actor.user_id or seen.record_id is None:
        raise Conflict(KEY_REUSED)
    return seen.record_id


def remember_submission(session: Session, *, key: str | None, kind: str, actor: Actor,
                        record_id: int | None) -> None:
    # A concurrent duplicate fails on the primary key; the retry then replays.
    if key is not None:
        session.add(Submission(key=key, actor_id=actor.user_id, kind=kind, record_id=record_id))


@dataclass(frozen=True)
class Once:
    """One create call and its submission key: replay what the key made, or store the new
    record once (with the key and its audit event)."""

    session: Session
    actor: Actor
    key: str | None
    kind: str

    def replayed(self, model: type[R], **target: object) -> R | None:
        """The record this key already made, or None for a new key. `target` names what the
        request is for (`client_id=7`): a record made for anything else is refused."""
        record_id = replayed_record_id(self.session, key=self.key, kind=self.kind,
                                       actor=self.actor)
        if record_id is None:
            return None
        record = self.session.get(model, record_id)
        if record is None:
            raise NotFound()
        if any(getattr(record, name) != value for name, value in target.items()):
            raise Conflict(OTHER_TARGET)
        return record

    def store(self, record: _Row, *, action: str, target_type: str, detail: str = "") -> int:
        """Write the new record, remember the key with it and audit it; the record's id."""
        self.session.add(record)
        self.session.flush()
        assert record.id is not None
        remember_submission(self.session, key=self.key, kind=self.kind, actor=self.actor,
                            record_id=record.id)
        audit.record(self.session, actor=self.actor, action=action, target_type=target_type,
                     target_id=record.id, detail=detail)
        self.session.flush()
        return record.id
