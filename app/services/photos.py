"""A client's photo: optional, only with the client's consent, so that clinic staff can check
who stands in front of them (the minimal view after a scan) and case workers know the face.

- Taken only with a recorded consent (a `Consent` row with purpose "photo"); withdrawing that
  consent deletes the file and forgets it at once.
- Stored on the server under `data/photos/` (outside the web root), under a random name that
  says nothing about the client; served only by `app/api/photos.py`, which asks this module
  whether the signed-in user may see the client (the same rule as reading the client).
- Never on a card, in an export or in a report: only these functions read the file.
"""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path

from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize_client
from app.services.settings import DATA_DIR
from models import Client, Consent

PURPOSE = "photo"
MAX_BYTES = 8 * 1024 * 1024
# What a phone's camera gives, recognised by the file's first bytes (never by its name).
_KINDS = (
    (b"\xff\xd8\xff", ".jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", ".png", "image/png"),
)
_NAME_CHARS = frozenset("0123456789abcdef.jpgn")


def photo_dir() -> Path:
    folder = DATA_DIR / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def media_type(name: str) -> str:
    return next((kind for _magic, ext, kind in _KINDS if name.endswith(ext)), "")


def _kind_of(data: bytes) -> str | None:
    return next((ext for magic, ext, _kind in _KINDS if data.startswith(magic)), None)


def _delete_file(name: str) -> None:
    if name and set(name) <= _NAME_CHARS:
        (photo_dir() / name).unlink(missing_ok=True)


def _photo_consent(session: Session, client_id: int) -> Consent | None:
    return session.exec(
        select(Consent).where(Consent.client_id == client_id, Consent.purpose == PURPOSE,
                              col(Consent.withdrawn_on).is_(None))
        .order_by(col(Consent.id).desc())
    ).first()


def set_photo(*, session: Session, actor: Actor | None, client_id: int, data: bytes,
              consent_given: bool, today: date | None = None) -> str:
    """Store a new photo of the client (replacing the old one) with their consent, recorded
    here if it is not on file yet. Returns the photo's name."""
    me, client, _target = authorize_client(session, actor, Action.CLIENT_UPDATE, client_id)
    errors: dict[str, str] = {}
    if not consent_given:
        errors["photo_consent"] = "photo.error.consent_required"
    ext = _kind_of(data)
    if not data or len(data) > MAX_BYTES or ext is None:
        errors["photo"] = "photo.error.not_an_image"
    if errors:
        raise ValidationFailed(errors)
    assert ext is not None
    if _photo_consent(session, client_id) is None:
        session.add(Consent(client_id=client_id, purpose=PURPOSE, given_on=today or today_vn(),
                            recorded_by_id=me.user_id))
    name = secrets.token_hex(16) + ext
    (photo_dir() / name).write_bytes(data)
    _delete_file(client.photo_path)
    client.photo_path = name
    session.add(client)
    audit.record(session, actor=me, action="client.photo.set", target_type="client",
                 target_id=client_id)
    session.flush()
    return name


def forget_photo(session: Session, client: Client) -> None:
    """The file deleted and the client's photo forgotten (consent withdrawn)."""
    _delete_file(client.photo_path)
    client.photo_path = ""
    session.add(client)


def withdraw_photo_consent(*, session: Session, actor: Actor | None, client_id: int,
                           on: date | None = None) -> None:
    """The client withdrew their consent to the photo: it is deleted now; the consent row
    stays, dated (the record that it was withdrawn)."""
    me, client, _target = authorize_client(session, actor, Action.CLIENT_UPDATE, client_id)
    consent = _photo_consent(session, client_id)
    if consent is None and not client.photo_path:
        raise NotFound()
    if consent is not None:
        consent.withdrawn_on = on or today_vn()
        consent.withdrawn_recorded_by_id = me.user_id
        session.add(consent)
    forget_photo(session, client)
    audit.record(session, actor=me, action="client.photo.remove", target_type="client",
                 target_id=client_id)
    session.flush()


def read_photo(*, session: Session, actor: Actor | None, name: str) -> tuple[bytes, str]:
    """The photo called `name`, for someone who may read its client (audited); else
    NotFound — the same answer whether the photo does not exist or is not theirs to see."""
    if not name or not set(name) <= _NAME_CHARS or not media_type(name):
        raise NotFound()
    client_id = session.exec(select(Client.id).where(Client.photo_path == name)).first()
    if client_id is None:
        raise NotFound()
    me, _client, _target = authorize_client(session, actor, Action.CLIENT_READ, client_id)
    if _photo_consent(session, client_id) is None:
        raise NotFound()
    path = photo_dir() / name
    if not path.is_file():
        raise NotFound()
    audit.record(session, actor=me, action="client.photo.view", target_type="client",
                 target_id=client_id)
    return path.read_bytes(), media_type(name)


def current_photo(*, session: Session, actor: Actor | None, client_id: int) -> str:
    """The name of the client's photo for someone who may read the client ("" if there is none
    or its consent was withdrawn)."""
    _me, client, _target = authorize_client(session, actor, Action.CLIENT_READ, client_id)
    if not client.photo_path or _photo_consent(session, client_id) is None:
        return ""
    return client.photo_path
