"""Erasing what identifies a person, keeping what the figures and the audit trail need.

Used by a deletion request (requests.py) and by the retention schedule (retention.py). The
client row stays — its id anchors episodes, counts and the append-only audit trail — but its
identifying fields are blanked, the birth year is coarsened to its five-year band, free-text
notes are emptied, cards are revoked, and `anonymised_at` takes it out of every list and
search (`policy.client_scope_filter`).

A legal hold refuses it: while the person is under a measure the drug law requires records of
(a live episode), the record must be kept; the basis printed is the `hold.live_episode` term.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services import audit, photos
from app.services.actor import Actor
from app.services.privacy.terms import term
from models import (
    Card,
    CardStatus,
    Client,
    ClientStatus,
    Consent,
    Episode,
    EpisodeStatus,
    Support,
    Visit,
    utcnow,
)

_LIVE = (EpisodeStatus.OPEN, EpisodeStatus.CLOSURE_PROPOSED)
ANONYMOUS_NAME = "—"


def legal_hold(session: Session, client_id: int) -> str:
    """The legal basis that forbids erasing this person's record now, or '' if none."""
    live = session.exec(select(Episode.id).where(
        col(Episode.client_id) == client_id, col(Episode.status).in_(_LIVE))).first()
    return term(session, "hold.live_episode").legal_basis if live is not None else ""


def anonymise_client(session: Session, *, client_id: int, actor: Actor | None,
                     reason: str) -> bool:
    """Blank the identifying fields of one client (audited); False if already done."""
    client = session.get(Client, client_id)
    if client is None or client.anonymised_at is not None:
        return False
    band = client.birth_year - client.birth_year % 5
    # The photo file goes with the identifying fields (it lives outside the database).
    photos.forget_photo(session, client)
    session.execute(
        update(Client).where(col(Client.id) == client_id).values(
            full_name=ANONYMOUS_NAME, name_key="", other_names="", birth_year=band,
            birth_date=None, national_id=None, phone="", address="", former_address="",
            legal_rep_name="", legal_rep_phone="", family_contact="", hiv_status="",
            ethnicity="", photo_path="", assigned_volunteer_id=None,
            status=ClientStatus.CLOSED if client.status != ClientStatus.MERGED else client.status,
            version=client.version + 1, anonymised_at=utcnow(),
        ).execution_options(synchronize_session=False))
    session.execute(update(Visit).where(col(Visit.client_id) == client_id)
                    .values(notes="", risk_flags="").execution_options(synchronize_session=False))
    session.execute(update(Support).where(col(Support.client_id) == client_id)
                    .values(notes="").execution_options(synchronize_session=False))
    session.execute(update(Consent).where(col(Consent.client_id) == client_id)
                    .values(representative_name="")
                    .execution_options(synchronize_session=False))
    session.execute(update(Card).where(col(Card.client_id) == client_id,
                                       col(Card.status) == CardStatus.ACTIVE)
                    .values(status=CardStatus.REVOKED, revoked_at=utcnow(),
                            revoked_reason="anonymised")
                    .execution_options(synchronize_session=False))
    session.expire(client)
    audit.record(session, actor=actor, action="privacy.anonymise", target_type="client",
                 target_id=client_id, detail=reason[:200])
    return True
