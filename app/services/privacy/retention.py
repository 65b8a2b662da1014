"""The retention schedule: how long each kind of record keeps what identifies a person.

Kinds and their terms (rows of `privacyterm`, editable by an administrator):
- `retention.client_closed`: a closed client with nothing recorded for that many years is
  anonymised (anonymise.py), unless a legal hold applies;
- `retention.visit_notes`: free-text notes and risk flags of visits older than that are emptied.

`plan` lists what would be done (the dry run, by record number only); `apply` does it, each
change audited. Operators run it with `python -m app.cli retention [--apply]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, update
from sqlmodel import Session, col, func, select

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import add_months, today_vn
from app.services.policy import Action, authorize_grant
from app.services.privacy.anonymise import anonymise_client, legal_hold
from app.services.privacy.terms import term
from models import Client, ClientStatus, DrugTest, Episode, Referral, Support, Visit

KINDS = ("retention.client_closed", "retention.visit_notes")


@dataclass(frozen=True)
class RetentionPlan:
    today: date
    client_cutoff: date
    notes_cutoff: date
    client_ids: list[int]  # to anonymise
    held_ids: list[int]  # past the term but under a legal hold
    visit_notes: int  # visits whose notes would be emptied


def _cutoff(session: Session, code: str, today: date) -> date:
    return add_months(today, -12 * term(session, code).amount)


def _stale_clients(session: Session, cutoff: date) -> list[int]:
    recent = [
        exists().where(col(Visit.client_id) == col(Client.id), col(Visit.visit_date) >= cutoff),
        exists().where(col(DrugTest.client_id) == col(Client.id),
                       col(DrugTest.tested_on) >= cutoff),
        exists().where(col(Referral.client_id) == col(Client.id),
                       col(Referral.referred_on) >= cutoff),
        exists().where(col(Support.client_id) == col(Client.id),
                       col(Support.started_on) >= cutoff),
        exists().where(col(Episode.client_id) == col(Client.id),
                       (col(Episode.start_date) >= cutoff) | (col(Episode.actual_end) >= cutoff)),
    ]
    query = select(Client.id).where(
        col(Client.status) == ClientStatus.CLOSED, col(Client.anonymised_at).is_(None),
        func.date(col(Client.created_at)) < cutoff, *[~r for r in recent],
    ).order_by(col(Client.id))
    return [i for i in session.exec(query).all() if i is not None]


def _notes_query(cutoff: date) -> tuple[object, ...]:
    return (col(Visit.visit_date) < cutoff,
            (col(Visit.notes) != "") | (col(Visit.risk_flags) != ""))


def _plan(session: Session, today: date) -> RetentionPlan:
    client_cutoff = _cutoff(session, "retention.client_closed", today)
    notes_cutoff = _cutoff(session, "retention.visit_notes", today)
    stale = _stale_clients(session, client_cutoff)
    held = [c for c in stale if legal_hold(session, c)]
    notes = session.exec(select(func.count()).select_from(Visit)
                         .where(*_notes_query(notes_cutoff))).one()  # type: ignore[arg-type]
    return RetentionPlan(today, client_cutoff, notes_cutoff,
                         [c for c in stale if c not in held], held, int(notes))


def plan(*, session: Session, actor: Actor | None = None, today: date | None = None,
         system: bool = False) -> RetentionPlan:
    """The dry run: what `apply` would anonymise today (administrators, or the operator
    command with `system=True`; audited)."""
    me = None if system else authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    result = _plan(session, today or today_vn())
    audit.record(session, actor=me, action="privacy.retention.plan", target_type="retention",
                 target_id=None, detail=f"clients={len(result.client_ids)} "
                 f"notes={result.visit_notes}")
    return result


def apply(*, session: Session, actor: Actor | None = None, today: date | None = None,
          system: bool = False) -> RetentionPlan:
    """Anonymise what the schedule says (each client audited). `system=True` is the operator
    command, run without a signed-in actor; otherwise an administrator."""
    me = None if system else authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    result = _plan(session, today or today_vn())
    for client_id in result.client_ids:
        anonymise_client(session, client_id=client_id, actor=me,
                         reason=f"retention until {result.client_cutoff.isoformat()}")
    if result.visit_notes:
        session.execute(update(Visit).where(*_notes_query(result.notes_cutoff))  # type: ignore[arg-type]
                        .values(notes="", risk_flags="")
                        .execution_options(synchronize_session=False))
    audit.record(session, actor=me, action="privacy.retention.apply", target_type="retention",
                 target_id=None, detail=f"clients={len(result.client_ids)} "
                 f"notes={result.visit_notes} held={len(result.held_ids)}")
    session.flush()
    return result
