"""Carrying out correction, restriction and objection requests from the register (Decree
356/2025 Art 5; LAW.md P3), each linked to its request and audited.

- *Correction* edits the client's profile through `clients.update_client` (its own checks
  and its `client.update` event), records which fields changed against the request, and
  answers it.
- *Restriction* stops the chosen purposes for the person (`ProcessingLimit`, kind
  restriction) until it is lifted; *objection* stops one purpose, like a withdrawn consent.
  What a stopped purpose blocks is decided in one place, `policy.stopped_ids`:
  - referral sharing: receiving facilities stop seeing the person, no referral to a facility;
  - statistics: out of de-identified line lists and every aggregate figure of the reports;
  - case management: the record stays with its case workers (the drug law requires it), but
    it leaves every export (line lists) and no new referral can be made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.i18n import t
from app.services import audit
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.dto import ClientUpdate
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import (
    CASE_MANAGEMENT,
    REFERRAL_SHARING,
    STATISTICS,
    Action,
    authorize_client,
    authorize_grant,
)
from app.services.privacy.requests import RequestView, _close, _load, _open
from app.services.privacy.requests import _view as _request_view
from app.services.text import clean
from models import Client, DataRequest, LimitKind, ProcessingLimit, RequestKind, RequestStatus

# The purposes a person may restrict or object to from the register (the photo has its own
# consent, withdrawn on the consent page).
LIMITABLE = (CASE_MANAGEMENT, REFERRAL_SHARING, STATISTICS)
# The profile fields a correction request may change (the sensitive ones are changed on the
# profile, with their consent checks).
CORRECTABLE = ("full_name", "other_names", "birth_year", "birth_date", "national_id", "phone",
               "address", "former_address", "family_contact", "legal_rep_name",
               "legal_rep_phone")


@dataclass(frozen=True)
class LimitView:
    id: int
    client_id: int
    kind: LimitKind
    purpose: str
    request_id: int | None
    started_on: date
    lifted_on: date | None


def _view(row: ProcessingLimit) -> LimitView:
    return LimitView(id=row.id or 0, client_id=row.client_id, kind=LimitKind(row.kind),
                     purpose=row.purpose, request_id=row.request_id,
                     started_on=row.started_on, lifted_on=row.lifted_on)


def _of_kind(row: DataRequest, kind: RequestKind) -> None:
    if row.kind != kind:
        raise ValidationFailed({"kind": "error.invalid_choice"})


def _parsed(changes: dict[str, str]) -> dict[str, Any]:
    """The non-empty corrections as ClientUpdate values (ValidationFailed per field)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, raw in changes.items():
        text = clean(str(raw))
        if name not in CORRECTABLE:
            errors[name] = "error.invalid_choice"
        elif not text:
            continue
        elif name == "birth_year":
            if not (text.isascii() and text.isdigit() and len(text) == 4):
                errors[name] = "error.birth_year_range"
            else:
                values[name] = int(text)
        elif name == "birth_date":
            try:
                values[name] = date.fromisoformat(text[:10])
            except ValueError:
                errors[name] = "error.invalid_value"
        else:
            values[name] = text
    if not values and not errors:
        errors["changes"] = "privacy.error.no_correction"
    if errors:
        raise ValidationFailed(errors)
    return values


def execute_correction(*, session: Session, actor: Actor | None, request_id: int,
                       changes: dict[str, str], close: bool = True,
                       lang: str = "vi") -> RequestView:
    """Correct the person's profile as they asked (empty values change nothing); the request
    is answered with the corrected fields unless `close` is False (more to correct)."""
    me, row = _load(session, actor, request_id)
    _open(row)
    _of_kind(row, RequestKind.CORRECTION)
    values = _parsed(changes)
    from app.services import clients  # clients imports privacy.consent (registration)

    client = session.get(Client, row.client_id)
    assert client is not None
    clients.update_client(session=session, actor=me, client_id=row.client_id,
                          data=ClientUpdate(**values), expected_version=client.version)
    names = ", ".join(t(f"privacy.field.{f}", lang) for f in values)
    audit.record(session, actor=me, action="privacy.request.correction",
                 target_type="datarequest", target_id=row.id,
                 detail=f"client={row.client_id} kind=correction fields={','.join(values)}")
    done = t("privacy.request.corrected", lang, fields=names)
    if not close:
        row.outcome = f"{row.outcome}; {done}"[:1000] if row.outcome else done
        session.add(row)
        session.flush()
        return _request_view(session, row, today_vn())
    outcome = f"{row.outcome}; {done}" if row.outcome else done
    return _close(session, me, row, RequestStatus.ANSWERED, outcome)


def _limit(session: Session, me: Actor, row: DataRequest, kind: LimitKind,
           purposes: list[str]) -> list[str]:
    """Start a limit per purpose not already limited; the purposes started."""
    running = set(session.exec(select(col(ProcessingLimit.purpose)).where(
        col(ProcessingLimit.client_id) == row.client_id,
        col(ProcessingLimit.kind) == kind, col(ProcessingLimit.lifted_on).is_(None))).all())
    started = [p for p in LIMITABLE if p in purposes and p not in running]
    for purpose in started:
        session.add(ProcessingLimit(client_id=row.client_id, kind=kind, purpose=purpose,
                                    request_id=row.id, started_on=today_vn(),
                                    recorded_by_id=me.user_id))
    session.flush()
    audit.record(session, actor=me, action=f"privacy.{kind.value}", target_type="client",
                 target_id=row.client_id,
                 detail=f"request={row.id} purposes={','.join(purposes)}")
    return started


def _check_purposes(purposes: list[str], *, one: bool) -> None:
    if not purposes or not set(purposes) <= set(LIMITABLE) or (one and len(purposes) != 1):
        raise ValidationFailed({"purposes": "privacy.error.purpose_required"})


def execute_restriction(*, session: Session, actor: Actor | None, request_id: int,
                        purposes: list[str], lang: str = "vi") -> RequestView:
    """Restrict the chosen purposes for the person until lifted; answers the request."""
    me, row = _load(session, actor, request_id)
    _open(row)
    _of_kind(row, RequestKind.RESTRICTION)
    _check_purposes(purposes, one=False)
    _limit(session, me, row, LimitKind.RESTRICTION, purposes)
    names = ", ".join(t(f"privacy.purpose.{p}", lang) for p in LIMITABLE if p in purposes)
    return _close(session, me, row, RequestStatus.ANSWERED,
                  t("privacy.request.restricted", lang, purposes=names))


def execute_objection(*, session: Session, actor: Actor | None, request_id: int,
                      purpose: str, lang: str = "vi") -> RequestView:
    """Record the purpose the person objects to and stop it for them; answers the request."""
    me, row = _load(session, actor, request_id)
    _open(row)
    _of_kind(row, RequestKind.OBJECTION)
    _check_purposes([purpose], one=True)
    _limit(session, me, row, LimitKind.OBJECTION, [purpose])
    return _close(session, me, row, RequestStatus.ANSWERED,
                  t("privacy.request.objected", lang,
                    purpose=t(f"privacy.purpose.{purpose}", lang)))


def lift_limit(*, session: Session, actor: Actor | None, limit_id: int,
               on: date | None = None) -> LimitView:
    """End a restriction (or an objection the person took back): the purpose resumes."""
    me = authorize_grant(session, actor, Action.REQUEST_MANAGE, target_type="processinglimit",
                         target_id=limit_id)
    row = session.get(ProcessingLimit, limit_id)
    if row is None:
        raise NotFound()
    authorize_client(session, me, Action.REQUEST_MANAGE, row.client_id)
    when = on or today_vn()
    if row.lifted_on is not None or not row.started_on <= when <= today_vn():
        raise ValidationFailed({"lifted_on": "error.date_range"})
    row.lifted_on, row.lifted_by_id = when, me.user_id
    session.add(row)
    audit.record(session, actor=me, action=f"privacy.{LimitKind(row.kind).value}.lift",
                 target_type="client", target_id=row.client_id,
                 detail=f"limit={row.id} purpose={row.purpose} request={row.request_id}")
    session.flush()
    return _view(row)


def running_limits(*, session: Session, actor: Actor | None,
                   limit: int = 200) -> list[LimitView]:
    """Restrictions and objections running on clients in the actor's communes."""
    me = authorize_grant(session, actor, Action.REQUEST_MANAGE)
    rows = session.exec(
        select(ProcessingLimit).join(Client, col(Client.id) == col(ProcessingLimit.client_id))
        .where(col(Client.commune_id).in_(me.commune_ids),
               col(ProcessingLimit.lifted_on).is_(None))
        .order_by(col(ProcessingLimit.client_id), col(ProcessingLimit.id)).limit(limit)).all()
    return [_view(r) for r in rows]
