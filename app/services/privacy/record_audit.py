""""Ai đã xem hồ sơ này": every read and change of one person's records, from the audit trail.

Who may ask: a supervisor for a client in scope; an administrator for any record **by its
number only** — administrators never open client records, so these functions return audit
metadata (when, which account and role, which screen, read/change/export/scan/break-glass,
outcome) and never a field of the client (not even the name). The reverse view, everything one
account read in a period, is for administrators. Volunteers get neither (policy). Looking at
the audit is itself audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.i18n import t
from app.services import audit
from app.services.actor import Actor
from app.services.calendar import LOCAL_TZ
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize, authorize_grant, client_target
from app.services.privacy.documents import Table, pdf_document, xlsx_document
from models import (
    AuditEvent,
    Card,
    Client,
    DrugTest,
    Episode,
    Referral,
    Support,
    User,
    Visit,
)

KINDS = ("read", "change", "export", "scan", "breakglass", "denied")
MAX_ROWS = 2000
MAX_DAYS = 366

# The records of a client whose events count as events on the client.
_CHILD_TABLES: dict[str, Any] = {
    "visit": Visit, "drugtest": DrugTest, "referral": Referral, "support": Support,
    "episode": Episode, "card": Card,
}


def kind_of(action: str, outcome: str) -> str:
    """What an audited action did to the record: read, change, export, scan, break-glass."""
    if outcome == audit.DENIED:
        return "denied"
    if action.startswith("privacy.break_glass"):
        return "breakglass"
    if action in ("card.scan", "card.attendance"):
        return "scan"
    if action in (Action.EXPORT, "card.print", "privacy.access_export", "consent.form"):
        return "export"
    reads = ("client.read", "client.timeline", "card.history", "card.show", "client.duplicates",
             "caseload.view", "privacy.client_audit")
    return "read" if action in reads or action.endswith((".read", ".list")) else "change"


def screen_key(action: str) -> str:
    """The i18n key of the screen an action happens on (the action itself if unknown)."""
    prefix = action.split(".")[0]
    return {
        "client": "privacy.screen.profile", "visit": "privacy.screen.visit",
        "test": "privacy.screen.test", "referral": "privacy.screen.referral",
        "support": "privacy.screen.support", "episode": "privacy.screen.profile",
        "card": "privacy.screen.card", "consent": "privacy.screen.consent",
        "privacy": "privacy.screen.privacy", "export": "privacy.screen.export",
        "caseload": "privacy.screen.caseload",
    }.get(prefix, "privacy.screen.other")


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    actor_id: int | None
    actor_name: str
    role: str
    action: str
    kind: str
    screen_key: str
    outcome: str
    detail: str
    target_type: str
    target_id: int | None


def _period(start: date, end: date) -> tuple[datetime, datetime]:
    if end < start or (end - start).days > MAX_DAYS:
        raise ValidationFailed({"period": "error.date_order"})
    first = datetime.combine(start, time.min, LOCAL_TZ)
    last = datetime.combine(end + timedelta(days=1), time.min, LOCAL_TZ)
    return first, last


def client_events(client_id: int) -> Any:
    """WHERE clause: events on the client or on any record of the client."""
    parts = [and_(col(AuditEvent.target_type) == "client", col(AuditEvent.target_id) == client_id)]
    for target_type, model in _CHILD_TABLES.items():
        ids = select(model.id).where(model.client_id == client_id)
        parts.append(and_(col(AuditEvent.target_type) == target_type,
                          col(AuditEvent.target_id).in_(ids)))
    parts.append(and_(col(AuditEvent.target_type) == "datarequest",
                      col(AuditEvent.detail).like(f"client={client_id} %")))
    return or_(*parts)


def audit_rows(session: Session, where: list[Any], kind: str) -> list[AuditRow]:
    events = session.exec(
        select(AuditEvent).where(*where).order_by(col(AuditEvent.at).desc(),
                                                  col(AuditEvent.id).desc())
        .limit(MAX_ROWS * 2)
    ).all()
    names = dict(session.exec(select(User.id, User.full_name).where(
        col(User.id).in_({e.actor_id for e in events if e.actor_id is not None}))).all())
    rows = [
        AuditRow(at=e.at, actor_id=e.actor_id, actor_name=names.get(e.actor_id, "")
                 if e.actor_id is not None else "", role=e.role, action=e.action,
                 kind=kind_of(e.action, e.outcome), screen_key=screen_key(e.action),
                 outcome=e.outcome, detail=e.detail, target_type=e.target_type,
                 target_id=e.target_id)
        for e in events
    ]
    if kind:
        rows = [r for r in rows if r.kind == kind]
    return rows[:MAX_ROWS]


def _authorise_client_audit(session: Session, actor: Actor | None, client_id: int) -> Actor:
    me = authorize_grant(session, actor, Action.CLIENT_AUDIT_VIEW, target_type="client",
                         target_id=client_id)
    client = session.get(Client, client_id)
    if client is None:
        raise NotFound()
    authorize(session, me, Action.CLIENT_AUDIT_VIEW, client_target(session, client))
    return me


def client_audit(
    *, session: Session, actor: Actor | None, client_id: int, start: date, end: date,
    kind: str = "",
) -> list[AuditRow]:
    """Every audited read and change of a client's records in a period, newest first."""
    me = _authorise_client_audit(session, actor, client_id)
    if kind and kind not in KINDS:
        raise ValidationFailed({"kind": "error.invalid_choice"})
    first, last = _period(start, end)
    rows = audit_rows(session, [client_events(client_id), col(AuditEvent.at) >= first,
                           col(AuditEvent.at) < last], kind)
    audit.record(session, actor=me, action=Action.CLIENT_AUDIT_VIEW, target_type="client",
                 target_id=client_id, detail=f"{start.isoformat()}..{end.isoformat()} {kind}")
    return rows


def account_audit(
    *, session: Session, actor: Actor | None, user_id: int, start: date, end: date,
    kind: str = "",
) -> list[AuditRow]:
    """Administrators: everything one account did in a period (which records, no content)."""
    me = authorize_grant(session, actor, Action.AUDIT_VIEW, target_type="user", target_id=user_id)
    if session.get(User, user_id) is None:
        raise NotFound()
    if kind and kind not in KINDS:
        raise ValidationFailed({"kind": "error.invalid_choice"})
    first, last = _period(start, end)
    rows = audit_rows(session, [col(AuditEvent.actor_id) == user_id, col(AuditEvent.at) >= first,
                           col(AuditEvent.at) < last], kind)
    audit.record(session, actor=me, action=Action.AUDIT_VIEW, target_type="user",
                 target_id=user_id, detail=f"{start.isoformat()}..{end.isoformat()} {kind}")
    return rows


def find_account(*, session: Session, actor: Actor | None, username: str) -> int:
    """The id of an account by its user name (administrators, for the account view)."""
    authorize_grant(session, actor, Action.AUDIT_VIEW)
    uid = session.exec(select(User.id).where(User.username == username.strip())).first()
    if uid is None:
        raise NotFound()
    return uid


def local_time(moment: datetime) -> str:
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def audit_table(rows: list[AuditRow], lang: str, title: str) -> Table:
    headers = [t(k, lang) for k in ("privacy.col.when", "privacy.col.who", "privacy.col.role",
                                    "privacy.col.screen", "privacy.col.kind",
                                    "privacy.col.record", "privacy.col.outcome")]
    body = [[local_time(r.at), r.actor_name or "—", t(f"privacy.role.{r.role}", lang)
             if r.role else "—", t(r.screen_key, lang), t(f"privacy.kind.{r.kind}", lang),
             f"{r.target_type} #{r.target_id}" if r.target_id is not None else r.target_type,
             t(f"privacy.outcome.{r.outcome}", lang)] for r in rows]
    return Table(title, headers, body)


def client_audit_export(
    *, session: Session, actor: Actor | None, client_id: int, start: date, end: date,
    kind: str = "", fmt: str = "xlsx", lang: str = "vi",
) -> bytes:
    """The client's audit in a period as xlsx or PDF (audited as an export)."""
    rows = client_audit(session=session, actor=actor, client_id=client_id, start=start,
                        end=end, kind=kind)
    title = t("privacy.audit.export_title", lang, number=client_id, start=start.strftime(
        "%d/%m/%Y"), end=end.strftime("%d/%m/%Y"))
    table = audit_table(rows, lang, title)
    data = xlsx_document([table]) if fmt == "xlsx" else pdf_document(title, [], [table])
    audit.record(session, actor=actor, action=Action.EXPORT, target_type="client",
                 target_id=client_id, detail=f"audit fmt={fmt} rows={len(rows)}")
    return data
