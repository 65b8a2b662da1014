"""The register of data subjects' requests and their legal clocks (Decree 356/2025 Art 5).

A request is received (the person or a representative asks), acknowledged within the
`request.ack` term and answered within the term of its kind (`request.<kind>`), both in
working days (`app/services/calendar.py`). The due dates are computed once, at receipt, from
the terms and holidays in force that day, and stored.

An access (or copy) request is answered with a PDF and an Excel file of everything held about
the person, including who saw the record. A deletion anonymises the record unless a legal hold
applies; then the refusal and its legal basis are stored and printed in the answer letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from app.i18n import t
from app.services import audit, calendar
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize, authorize_client, authorize_grant, client_target
from app.services.privacy.anonymise import anonymise_client, legal_hold
from app.services.privacy.documents import Table, pdf_document, xlsx_document
from app.services.privacy.record_audit import audit_rows, audit_table, client_events
from app.services.privacy.terms import term
from app.services.text import clean
from models import (
    Card,
    Client,
    Consent,
    DataRequest,
    DrugTest,
    Episode,
    Referral,
    RequestKind,
    RequestStatus,
    Support,
    Visit,
)

OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.ACKNOWLEDGED)
# Kinds the app carries out itself (`rights.py`); closing one by hand is only a refusal.
CARRIED_OUT = (RequestKind.CORRECTION, RequestKind.RESTRICTION, RequestKind.OBJECTION)


@dataclass(frozen=True)
class RequestReceived:
    client_id: int
    kind: RequestKind
    received_on: date
    requested_by: str = "subject"  # subject | representative
    requester_name: str = ""
    requester_relation: str = ""
    details: str = ""


@dataclass(frozen=True)
class RequestView:
    id: int
    client_id: int
    kind: RequestKind
    received_on: date
    requested_by: str
    requester_name: str
    requester_relation: str
    ack_due: date
    answer_due: date
    acknowledged_on: date | None
    answered_on: date | None
    status: RequestStatus
    outcome: str
    refusal_basis: str
    ack_days_left: int | None  # working days; None once acknowledged or closed
    answer_days_left: int | None  # working days; None once closed


def ensure_holidays(session: Session, on: date) -> None:
    """The holiday rows of `on`'s year and the next (seeded once from the calendar)."""
    calendar.seed_holidays(session=session, years=range(on.year, on.year + 2))


def due_dates(session: Session, kind: RequestKind, received_on: date) -> tuple[date, date]:
    """(acknowledge by, answer by) for a request of `kind` received on `received_on`."""
    ensure_holidays(session, received_on)
    ack = term(session, "request.ack").amount
    answer = term(session, f"request.{RequestKind(kind).value}").amount
    return (calendar.add_working_days(session=session, start=received_on, days=ack),
            calendar.add_working_days(session=session, start=received_on, days=answer))


def _view(session: Session, row: DataRequest, today: date) -> RequestView:
    closed = row.status not in OPEN_STATUSES
    return RequestView(
        id=row.id or 0, client_id=row.client_id, kind=RequestKind(row.kind),
        received_on=row.received_on,
        requested_by=row.requested_by, requester_name=row.requester_name,
        requester_relation=row.requester_relation, ack_due=row.ack_due,
        answer_due=row.answer_due, acknowledged_on=row.acknowledged_on,
        answered_on=row.answered_on, status=RequestStatus(row.status), outcome=row.outcome,
        refusal_basis=row.refusal_basis,
        ack_days_left=None if closed or row.acknowledged_on is not None else
        calendar.working_days_left(session=session, today=today, due=row.ack_due),
        answer_days_left=None if closed else
        calendar.working_days_left(session=session, today=today, due=row.answer_due),
    )


def _audit(session: Session, actor: Actor, action: str, row: DataRequest, extra: str = "") -> None:
    # `client=<id> ` leads the detail so the client's audit view finds request events.
    audit.record(session, actor=actor, action=action, target_type="datarequest",
                 target_id=row.id,
                 detail=f"client={row.client_id} kind={RequestKind(row.kind).value} {extra}")


def receive_request(*, session: Session, actor: Actor | None,
                    data: RequestReceived) -> RequestView:
    """Enter a request in the register; its two due dates are set now (audited)."""
    me, _client, _target = authorize_client(session, actor, Action.REQUEST_MANAGE,
                                            data.client_id)
    today = today_vn()
    errors: dict[str, str] = {}
    if not date(2026, 1, 1) <= data.received_on <= today:
        errors["received_on"] = "error.date_range"
    if data.requested_by not in ("subject", "representative"):
        errors["requested_by"] = "error.invalid_choice"
    name = clean(data.requester_name)
    if not 2 <= len(name) <= 120:
        errors["requester_name"] = "error.name_length"
    relation = clean(data.requester_relation)
    if data.requested_by == "representative" and not 2 <= len(relation) <= 60:
        errors["requester_relation"] = "privacy.error.relation_required"
    if len(clean(data.details)) > 1000:
        errors["details"] = "error.too_long"
    if errors:
        raise ValidationFailed(errors)
    ack_due, answer_due = due_dates(session, data.kind, data.received_on)
    row = DataRequest(
        client_id=data.client_id, kind=data.kind, received_on=data.received_on,
        requested_by=data.requested_by, requester_name=name,
        requester_relation=relation if data.requested_by == "representative" else "",
        details=clean(data.details), ack_due=ack_due, answer_due=answer_due,
        recorded_by_id=me.user_id,
    )
    session.add(row)
    session.flush()
    _audit(session, me, "privacy.request.receive", row)
    return _view(session, row, today)


def _load(session: Session, actor: Actor | None, request_id: int) -> tuple[Actor, DataRequest]:
    me = authorize_grant(session, actor, Action.REQUEST_MANAGE, target_type="datarequest",
                         target_id=request_id)
    row = session.get(DataRequest, request_id)
    if row is None:
        raise NotFound()
    client = session.get(Client, row.client_id)
    assert client is not None
    authorize(session, me, Action.REQUEST_MANAGE, client_target(session, client))
    return me, row


def _open(row: DataRequest) -> None:
    if row.status not in OPEN_STATUSES:
        raise ValidationFailed({"status": "privacy.error.request_closed"})


def acknowledge(*, session: Session, actor: Actor | None, request_id: int,
                on: date | None = None) -> RequestView:
    me, row = _load(session, actor, request_id)
    _open(row)
    when = on or today_vn()
    if row.acknowledged_on is not None or not row.received_on <= when <= today_vn():
        raise ValidationFailed({"acknowledged_on": "error.date_range"})
    row.acknowledged_on, row.status = when, RequestStatus.ACKNOWLEDGED
    session.add(row)
    _audit(session, me, "privacy.request.acknowledge", row)
    session.flush()
    return _view(session, row, today_vn())


def _close(session: Session, me: Actor, row: DataRequest, status: RequestStatus,
           outcome: str, basis: str = "") -> RequestView:
    today = today_vn()
    row.status, row.answered_on = status, today
    row.outcome, row.refusal_basis = outcome[:1000], basis[:300]
    if row.acknowledged_on is None:
        row.acknowledged_on = today  # the answer acknowledges it too
    session.add(row)
    _audit(session, me, f"privacy.request.{RequestStatus(status).value}", row)
    session.flush()
    return _view(session, row, today)


def answer(*, session: Session, actor: Actor | None, request_id: int, outcome: str,
           refuse_basis: str = "") -> RequestView:
    """Close a request with its outcome; a refusal must give its legal basis."""
    me, row = _load(session, actor, request_id)
    _open(row)
    text, basis = clean(outcome), clean(refuse_basis)
    if not 2 <= len(text) <= 1000:
        raise ValidationFailed({"outcome": "privacy.error.outcome_required"})
    if row.kind == RequestKind.DELETION and not basis:
        # A deletion is carried out by `execute_deletion`, which checks the legal hold.
        raise ValidationFailed({"outcome": "privacy.error.use_deletion"})
    if row.kind in CARRIED_OUT and not basis:
        # Carried out by `rights.execute_*`, which change the record and answer the request.
        raise ValidationFailed({"outcome": "privacy.error.use_action"})
    status = RequestStatus.REFUSED if basis else RequestStatus.ANSWERED
    return _close(session, me, row, status, text, basis)


def execute_deletion(*, session: Session, actor: Actor | None, request_id: int,
                     lang: str = "vi") -> RequestView:
    """Carry out a deletion request: anonymise, or refuse with the legal basis of the hold."""
    me, row = _load(session, actor, request_id)
    _open(row)
    if row.kind != RequestKind.DELETION:
        raise ValidationFailed({"kind": "error.invalid_choice"})
    basis = legal_hold(session, row.client_id)
    if basis:
        return _close(session, me, row, RequestStatus.REFUSED,
                      t("privacy.request.deletion_refused", lang), basis)
    anonymise_client(session, client_id=row.client_id, actor=me,
                     reason=f"request={row.id}")
    return _close(session, me, row, RequestStatus.ANSWERED,
                  t("privacy.request.deletion_done", lang))


def list_requests(*, session: Session, actor: Actor | None, open_only: bool = False,
                  limit: int = 200) -> list[RequestView]:
    """Requests about clients in the actor's scope, the most urgent first."""
    me = authorize_grant(session, actor, Action.REQUEST_MANAGE)
    query = select(DataRequest).join(Client, col(Client.id) == col(DataRequest.client_id)) \
        .where(col(Client.commune_id).in_(me.commune_ids))
    if open_only:
        query = query.where(col(DataRequest.status).in_(OPEN_STATUSES))
    rows = session.exec(query.order_by(col(DataRequest.answer_due), col(DataRequest.id))
                        .limit(limit)).all()
    today = today_vn()
    audit.record(session, actor=me, action="privacy.request.list", target_type="datarequest",
                 target_id=None, detail=f"rows={len(rows)}")
    return [_view(session, r, today) for r in rows]


# --- the answer to an access request -------------------------------------------------------

_PROFILE = ("full_name", "other_names", "birth_year", "birth_date", "sex", "national_id",
            "phone", "address", "former_address", "legal_rep_name", "legal_rep_phone",
            "family_contact", "priority_group", "substances", "injects", "hiv_status",
            "ethnicity", "status", "created_at")
_RECORDS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("consent", Consent, ("purpose", "sensitive_categories", "given_on", "given_by",
                          "representative_name", "representative_relation", "method",
                          "form_number", "withdrawn_on")),
    ("episode", Episode, ("episode_type", "decision_number", "decision_date", "start_date",
                          "expected_end", "actual_end", "end_reason", "status")),
    ("visit", Visit, ("visit_date", "kind", "content", "notes", "risk_flags",
                      "next_appointment")),
    ("drugtest", DrugTest, ("tested_on", "sample", "method", "substances", "result")),
    ("referral", Referral, ("service", "facility_id", "referred_on", "status", "feedback_on")),
    ("support", Support, ("kind", "started_on", "amount_vnd", "term_months", "status",
                          "notes")),
    ("card", Card, ("status", "issued_at", "revoked_at")),
    ("datarequest", DataRequest, ("kind", "received_on", "status", "answered_on", "outcome")),
)


def _value(value: Any) -> Any:
    if hasattr(value, "value"):
        return value.value
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else value


def access_tables(session: Session, client_id: int, lang: str) -> list[Table]:
    """Everything held about the person, one table per kind of record, then who saw it."""
    client = session.get(Client, client_id)
    assert client is not None
    tables = [Table(t("privacy.access.profile", lang),
                    [t("privacy.col.field", lang), t("privacy.col.value", lang)],
                    [[t(f"privacy.field.{f}", lang), _value(getattr(client, f))]
                     for f in _PROFILE])]
    for name, model, fields in _RECORDS:
        rows = session.exec(select(model).where(model.client_id == client_id)
                            .order_by(col(model.id))).all()
        tables.append(Table(t(f"privacy.access.{name}", lang),
                            [t(f"privacy.field.{f}", lang) for f in fields],
                            [[_value(getattr(r, f)) for f in fields] for r in rows]))
    seen = audit_rows(session, [client_events(client_id)], "")
    tables.append(audit_table(seen, lang, t("privacy.access.audit", lang)))
    return tables


def access_export(*, session: Session, actor: Actor | None, request_id: int, fmt: str,
                  lang: str = "vi") -> bytes:
    """The answer to an access or copy request: PDF or xlsx of everything held (audited)."""
    me, row = _load(session, actor, request_id)
    if row.kind not in (RequestKind.ACCESS, RequestKind.COPY):
        raise ValidationFailed({"kind": "error.invalid_choice"})
    if fmt not in ("pdf", "xlsx"):
        raise ValidationFailed({"fmt": "export.error.format"})
    tables = access_tables(session, row.client_id, lang)
    title = t("privacy.access.title", lang, number=row.id)
    intro = [t("privacy.access.intro", lang, name=row.requester_name,
               received=row.received_on.strftime("%d/%m/%Y"))]
    data = xlsx_document(tables) if fmt == "xlsx" else pdf_document(title, intro, tables)
    _audit(session, me, "privacy.access_export", row, f"fmt={fmt}")
    return data


def answer_letter_lines(row: DataRequest, lang: str) -> list[str]:
    """What the written answer says: the request, the outcome, a refusal's legal basis."""
    kind = t(f"privacy.request_kind.{RequestKind(row.kind).value}", lang)
    status = t(f"privacy.request_status.{RequestStatus(row.status).value}", lang)
    lines = [
        t("privacy.letter.to", lang, name=row.requester_name),
        t("privacy.letter.asked", lang, kind=kind,
          received=row.received_on.strftime("%d/%m/%Y"), number=row.id),
        f"{status}: {row.outcome or '—'}",
    ]
    if row.refusal_basis:
        lines.append(t("privacy.letter.basis", lang, basis=row.refusal_basis))
    if row.answered_on:
        lines.append(t("privacy.letter.answered", lang,
                       on=row.answered_on.strftime("%d/%m/%Y")))
    return lines


def answer_letter(*, session: Session, actor: Actor | None, request_id: int,
                  lang: str = "vi") -> tuple[list[str], bytes]:
    """The written answer to a request, as its lines and as a PDF (audited)."""
    me, row = _load(session, actor, request_id)
    lines = answer_letter_lines(row, lang)
    _audit(session, me, "privacy.request.letter", row)
    return lines, pdf_document(t("privacy.letter.title", lang), lines, [],
                               [t("privacy.letter.signature", lang)])
