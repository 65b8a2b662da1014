"""The device key: one AES-256 key per (user, device), kept on the server and handed only to
that user over a signed-in session.

The device makes a random device id once (not a secret) and asks for its key after every
online sign-in. The same user on the same device always gets the same key — across a closed
tab, a sign-out and sign-in, an expired session — so the records sealed with it stay readable
to them. Another user of the same device id gets a key of their own and nothing of this one.
On the device the key is wrapped by a key derived from the user's PIN or password (the
device's part); this one lets them recover after a forgotten PIN by signing in online.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from app.services import audit, security
from app.services.actor import Actor
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.outbox.sync import valid_device_id
from models import OutboxDevice, Role, utcnow


@dataclass(frozen=True)
class DeviceKeyRead:
    device_id: str
    key_id: str  # not secret: names the key a record was sealed with
    key: str  # 64 hex characters
    created_at: datetime


def key_id(device_key: str) -> str:
    """A short, non-secret name for a device key (a truncated hash, not the key)."""
    return security.token_hash("dh-offline-key:" + device_key)[:16]


def device_key(*, session: Session, actor: Actor | None, device_id: str,
               now: datetime | None = None) -> DeviceKeyRead:
    """This user's key for this device, made on first request (volunteers only)."""
    if actor is None or actor.role != Role.VOLUNTEER or actor.session_id is None:
        raise PermissionDenied()
    if not valid_device_id(device_id):
        raise ValidationFailed({"device": "error.invalid_value"})
    now = now or utcnow()
    row = session.exec(select(OutboxDevice).where(
        OutboxDevice.user_id == actor.user_id, OutboxDevice.device_id == device_id)).first()
    made = row is None
    if row is None:
        row = OutboxDevice(user_id=actor.user_id, device_id=device_id,
                           key=security.new_device_key(), created_at=now)
    row.last_seen_at = now
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="outbox.device_key", target_type="user",
                 target_id=actor.user_id, detail="new" if made else "")
    return DeviceKeyRead(device_id=device_id, key_id=key_id(row.key), key=row.key,
                         created_at=row.created_at)
