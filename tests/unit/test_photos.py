"""A client's photo: only with consent, seen only by those who may read the client, deleted
when the consent is withdrawn, never in a card or an export."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.services import photos, privacy
from app.services.errors import NotFound, ValidationFailed
from models import AuditEvent, Client, Consent
from tests.factories import World

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


@pytest.fixture(autouse=True)
def photo_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(photos, "DATA_DIR", tmp_path)
    return tmp_path / "photos"


def _take(session: Session, world: World, **kwargs: object) -> str:
    name = photos.set_photo(session=session, actor=world.actor(session, "vol_a1"),
                            client_id=world.clients["a1"], data=JPEG, **kwargs)  # type: ignore[arg-type]
    session.commit()
    return name


def test_a_photo_needs_the_clients_consent_and_an_image(session: Session, world: World,
                                                        photo_folder: Path) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _take(session, world, consent_given=False)
    assert refused.value.fields == {"photo_consent": "photo.error.consent_required"}
    with pytest.raises(ValidationFailed) as not_image:
        photos.set_photo(session=session, actor=world.actor(session, "vol_a1"),
                         client_id=world.clients["a1"], data=b"<svg/>", consent_given=True)
    assert not_image.value.fields == {"photo": "photo.error.not_an_image"}
    assert not photo_folder.exists() or list(photo_folder.iterdir()) == []


def test_the_photo_is_stored_outside_the_web_root_under_a_random_name_with_its_consent(
    session: Session, world: World, photo_folder: Path
) -> None:
    name = _take(session, world, consent_given=True)
    assert (photo_folder / name).read_bytes() == JPEG
    assert len(name) == 36 and name.endswith(".jpg")  # 128 random bits, nothing of the client
    consent = session.exec(select(Consent).where(Consent.client_id == world.clients["a1"],
                                                 Consent.purpose == "photo")).one()
    assert consent.withdrawn_on is None
    # Those who may read the client see it (audited); a volunteer of another commune does not.
    data, kind = photos.read_photo(session=session, actor=world.actor(session, "vol_a1"),
                                   name=name)
    assert (data, kind) == (JPEG, "image/jpeg")
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "client.photo.view")).all()
    with pytest.raises(NotFound):
        photos.read_photo(session=session, actor=world.actor(session, "vol_a2"), name=name)
    with pytest.raises(NotFound):
        photos.read_photo(session=session, actor=world.actor(session, "vol_a1"),
                          name="../donghanh.db")


def test_withdrawing_the_consent_deletes_the_photo(session: Session, world: World,
                                                   photo_folder: Path) -> None:
    name = _take(session, world, consent_given=True)
    photos.withdraw_photo_consent(session=session, actor=world.actor(session, "vol_a1"),
                                  client_id=world.clients["a1"])
    session.commit()
    assert not (photo_folder / name).exists()
    client = session.get(Client, world.clients["a1"])
    assert client is not None and client.photo_path == ""
    consent = session.exec(select(Consent).where(Consent.purpose == "photo")).one()
    assert consent.withdrawn_on is not None  # the record of it stays, dated
    with pytest.raises(NotFound):
        photos.read_photo(session=session, actor=world.actor(session, "vol_a1"), name=name)


def test_withdrawing_it_from_the_consent_list_deletes_the_photo_too(
    session: Session, world: World, photo_folder: Path
) -> None:
    name = _take(session, world, consent_given=True)
    consent = session.exec(select(Consent).where(Consent.purpose == "photo")).one()
    privacy.withdraw_consent(session=session, actor=world.actor(session, "vol_a1"),
                             client_id=world.clients["a1"], consent_id=consent.id or 0)
    session.commit()
    assert not (photo_folder / name).exists()
    client = session.get(Client, world.clients["a1"])
    assert client is not None and client.photo_path == ""


def test_anonymising_the_client_deletes_the_photo_file(session: Session, world: World,
                                                       photo_folder: Path) -> None:
    name = _take(session, world, consent_given=True)
    assert (photo_folder / name).exists()
    assert privacy.anonymise_client(session, client_id=world.clients["a1"],
                                    actor=world.actor(session, "sup_a"), reason="deletion")
    session.commit()
    assert not (photo_folder / name).exists()  # nothing of the person left on disk
    client = session.get(Client, world.clients["a1"])
    assert client is not None and client.photo_path == ""
