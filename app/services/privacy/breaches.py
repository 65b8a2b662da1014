"""Personal-data breaches: discovery, the notification due within the `breach.notify` term
(72 hours, PDPL Art 23 / Decree 356 Art 28) with a countdown, the notification's fields and
the written record, printable. Administrators keep this register."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.i18n import t
from app.services import audit
from app.services.actor import Actor
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize_grant
from app.services.privacy.documents import Table, pdf_document
from app.services.privacy.record_audit import local_time
from app.services.privacy.terms import term
from app.services.text import clean
from models import Incident, utcnow

SEVERITIES = ("low", "medium", "high")


@dataclass(frozen=True)
class BreachInput:
    discovered_at: datetime
    description: str
    severity: str = "medium"
    data_categories: str = ""
    subjects_count: int | None = None
    consequences: str = ""
    measures: str = ""
    contact: str = ""


@dataclass(frozen=True)
class BreachView:
    id: int
    discovered_at: datetime
    notify_due_at: datetime
    notified_at: datetime | None
    notification_ref: str
    description: str
    severity: str
    data_categories: str
    subjects_count: int | None
    consequences: str
    measures: str
    contact: str
    minutes_left: int | None  # until notification is due; None once notified


def _view(row: Incident, now: datetime) -> BreachView:
    due = row.notify_due_at or row.reported_at
    return BreachView(
        id=row.id or 0, discovered_at=row.discovered_at or row.reported_at, notify_due_at=due,
        notified_at=row.notified_at, notification_ref=row.notification_ref,
        description=row.description, severity=row.severity,
        data_categories=row.data_categories, subjects_count=row.subjects_count,
        consequences=row.consequences, measures=row.measures, contact=row.contact,
        minutes_left=None if row.notified_at is not None
        else int((due - now).total_seconds() // 60),
    )


def _validated(data: BreachInput, now: datetime) -> dict[str, object]:
    errors: dict[str, str] = {}
    text = clean(data.description)
    if not 5 <= len(text) <= 2000:
        errors["description"] = "privacy.error.description_required"
    if data.severity not in SEVERITIES:
        errors["severity"] = "error.invalid_choice"
    if data.discovered_at > now or data.discovered_at < now - timedelta(days=366):
        errors["discovered_at"] = "error.date_range"
    if data.subjects_count is not None and not 0 <= data.subjects_count <= 10_000_000:
        errors["subjects_count"] = "error.invalid_value"
    limits = {"data_categories": 300, "consequences": 1000, "measures": 1000, "contact": 200}
    values: dict[str, object] = {}
    for name, limit in limits.items():
        values[name] = clean(getattr(data, name))
        if len(str(values[name])) > limit:
            errors[name] = "error.too_long"
    if errors:
        raise ValidationFailed(errors)
    values.update(description=text, severity=data.severity, subjects_count=data.subjects_count)
    return values


def record_breach(*, session: Session, actor: Actor | None, data: BreachInput,
                  now: datetime | None = None) -> BreachView:
    """Log a breach; its notification is due `breach.notify` hours after discovery."""
    me = authorize_grant(session, actor, Action.BREACH_MANAGE)
    moment = now or utcnow()
    values = _validated(data, moment)
    hours = term(session, "breach.notify").amount
    row = Incident(reported_by_id=me.user_id, discovered_at=data.discovered_at,
                   notify_due_at=data.discovered_at + timedelta(hours=hours),
                   **values)  # type: ignore[arg-type]
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action="privacy.breach.record", target_type="incident",
                 target_id=row.id)
    return _view(row, moment)


def mark_notified(*, session: Session, actor: Actor | None, breach_id: int, reference: str,
                  now: datetime | None = None) -> BreachView:
    """The authority was notified (its reference number kept)."""
    me = authorize_grant(session, actor, Action.BREACH_MANAGE)
    row = session.get(Incident, breach_id)
    if row is None:
        raise NotFound()
    moment = now or utcnow()
    ref = clean(reference)
    if not 1 <= len(ref) <= 60:
        raise ValidationFailed({"reference": "privacy.error.reference_required"})
    if row.notified_at is not None:
        raise ValidationFailed({"reference": "privacy.error.already_notified"})
    row.notified_at, row.notification_ref = moment, ref
    session.add(row)
    late = row.notify_due_at is not None and moment > row.notify_due_at
    audit.record(session, actor=me, action="privacy.breach.notified", target_type="incident",
                 target_id=row.id, detail="late" if late else "in_time")
    session.flush()
    return _view(row, moment)


def list_breaches(*, session: Session, actor: Actor | None,
                  now: datetime | None = None) -> list[BreachView]:
    """Breaches, those still to notify first (soonest due), then the newest."""
    me = authorize_grant(session, actor, Action.BREACH_MANAGE)
    moment = now or utcnow()
    rows = session.exec(select(Incident).order_by(col(Incident.id).desc()).limit(200)).all()
    views = [_view(r, moment) for r in rows]
    audit.record(session, actor=me, action="privacy.breach.list", target_type="incident",
                 target_id=None, detail=f"rows={len(views)}")
    return sorted(views, key=_sort_key)


def _sort_key(v: BreachView) -> tuple[int, float]:
    return (0, v.notify_due_at.timestamp()) if v.notified_at is None else (1, -v.id)


def breach_record_pdf(*, session: Session, actor: Actor | None, breach_id: int,
                      lang: str = "vi") -> bytes:
    """The written record of a breach, with the fields of the notification (audited)."""
    me = authorize_grant(session, actor, Action.BREACH_MANAGE)
    row = session.get(Incident, breach_id)
    if row is None:
        raise NotFound()
    v = _view(row, utcnow())
    fields = [
        ("privacy.breach.discovered_at", local_time(v.discovered_at)),
        ("privacy.breach.notify_due_at", local_time(v.notify_due_at)),
        ("privacy.breach.notified_at", local_time(v.notified_at) if v.notified_at else "—"),
        ("privacy.breach.notification_ref", v.notification_ref or "—"),
        ("privacy.breach.severity", t(f"privacy.severity.{v.severity}", lang)),
        ("privacy.breach.description", v.description),
        ("privacy.breach.data_categories", v.data_categories or "—"),
        ("privacy.breach.subjects_count", "—" if v.subjects_count is None
         else str(v.subjects_count)),
        ("privacy.breach.consequences", v.consequences or "—"),
        ("privacy.breach.measures", v.measures or "—"),
        ("privacy.breach.contact", v.contact or "—"),
    ]
    table = Table(t("privacy.breach.fields", lang),
                  [t("privacy.col.field", lang), t("privacy.col.value", lang)],
                  [[t(k, lang), value] for k, value in fields])
    audit.record(session, actor=me, action="privacy.breach.print", target_type="incident",
                 target_id=row.id)
    return pdf_document(t("privacy.breach.record_title", lang, number=v.id),
                        [t("privacy.breach.authority", lang,
                           basis=term(session, "breach.notify").legal_basis)],
                        [table], [t("privacy.breach.signature", lang)])
