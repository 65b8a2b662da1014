"""Consent per purpose: who gave it (the person, or a legal representative and their
relation), how (on screen, or a signed paper form and its number), which sensitive categories
were shown; withdrawal, effective at once; the printable consent form.

What a withdrawal stops is decided where access is decided (`policy.purpose_withdrawn`):
referral sharing — receiving facilities no longer see the person and no new referral to a
facility can be made; statistics — the person leaves de-identified line lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.i18n import t
from app.services import audit, deployment, photos
from app.services.actor import Actor
from app.services.calendar import today_vn
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize_client
from app.services.privacy.documents import pdf_document
from app.services.privacy.inventory import PURPOSES, SENSITIVE_CATEGORIES
from app.services.text import clean
from models import Consent, User

GIVERS = ("subject", "representative")
METHODS = ("screen", "paper")


@dataclass(frozen=True)
class ConsentGiven:
    """A consent as the form collects it."""

    purpose: str
    sensitive_categories: tuple[str, ...]
    given_on: date
    given_by: str = "subject"
    representative_name: str = ""
    representative_relation: str = ""
    method: str = "screen"
    form_number: str = ""


@dataclass(frozen=True)
class ConsentView:
    id: int
    purpose: str
    sensitive_categories: tuple[str, ...]
    given_on: date
    given_by: str
    representative_name: str
    representative_relation: str
    method: str
    form_number: str
    recorded_by: str
    withdrawn_on: date | None


def _validate(data: ConsentGiven, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.purpose not in PURPOSES:
        errors["purpose"] = "error.invalid_choice"
    if not set(data.sensitive_categories) <= set(SENSITIVE_CATEGORIES):
        errors["sensitive_categories"] = "error.invalid_choice"
    if not date(2000, 1, 1) <= data.given_on <= today:
        errors["given_on"] = "error.date_range"
    errors.update(giver_errors(data.given_by, data.representative_name,
                               data.representative_relation, data.method, data.form_number))
    return errors


def giver_errors(given_by: str, representative_name: str, representative_relation: str,
                 method: str, form_number: str) -> dict[str, str]:
    """What is wrong with who gave a consent and how (the consent page and registration)."""
    errors: dict[str, str] = {}
    if given_by not in GIVERS:
        errors["given_by"] = "error.invalid_choice"
    elif given_by == "representative":
        if not 2 <= len(clean(representative_name)) <= 120:
            errors["representative_name"] = "error.name_length"
        if not 2 <= len(clean(representative_relation)) <= 60:
            errors["representative_relation"] = "privacy.error.relation_required"
    if method not in METHODS:
        errors["method"] = "error.invalid_choice"
    elif method == "paper" and not 1 <= len(clean(form_number)) <= 40:
        errors["form_number"] = "privacy.error.form_number_required"
    return errors


def record_consent(
    *, session: Session, actor: Actor | None, client_id: int, data: ConsentGiven
) -> ConsentView:
    """Record a consent the person (or their representative) gave (audited)."""
    me, _client, _target = authorize_client(session, actor, Action.CONSENT_RECORD, client_id)
    errors = _validate(data, today_vn())
    if errors:
        raise ValidationFailed(errors)
    rep = data.given_by == "representative"
    row = Consent(
        client_id=client_id, purpose=data.purpose,
        sensitive_categories=",".join(sorted(set(data.sensitive_categories))),
        given_on=data.given_on, recorded_by_id=me.user_id, given_by=data.given_by,
        representative_name=clean(data.representative_name) if rep else "",
        representative_relation=clean(data.representative_relation) if rep else "",
        method=data.method, form_number=clean(data.form_number) if data.method == "paper" else "",
    )
    session.add(row)
    session.flush()
    audit.record(session, actor=me, action=Action.CONSENT_RECORD, target_type="client",
                 target_id=client_id, detail=f"consent={row.id} purpose={data.purpose} "
                 f"by={data.given_by} method={data.method}")
    return _view(row, _names(session, [row]))


def _names(session: Session, rows: list[Consent]) -> dict[int, str]:
    ids = {r.recorded_by_id for r in rows if r.recorded_by_id is not None}
    found = session.exec(select(User.id, User.full_name).where(col(User.id).in_(ids))).all()
    return {uid: name for uid, name in found if uid is not None}


def _view(row: Consent, names: dict[int, str]) -> ConsentView:
    return ConsentView(
        id=row.id or 0, purpose=row.purpose,
        sensitive_categories=tuple(c for c in row.sensitive_categories.split(",") if c),
        given_on=row.given_on, given_by=row.given_by,
        representative_name=row.representative_name,
        representative_relation=row.representative_relation, method=row.method,
        form_number=row.form_number,
        recorded_by=names.get(row.recorded_by_id or 0, ""), withdrawn_on=row.withdrawn_on,
    )


def consents_of(*, session: Session, actor: Actor | None, client_id: int) -> list[ConsentView]:
    """The client's consents, oldest first (read as part of the client's record)."""
    me, _client, _target = authorize_client(session, actor, Action.CLIENT_READ, client_id)
    rows = list(session.exec(select(Consent).where(Consent.client_id == client_id)
                             .order_by(col(Consent.id))).all())
    audit.record(session, actor=me, action="consent.read", target_type="client",
                 target_id=client_id)
    names = _names(session, rows)
    return [_view(r, names) for r in rows]


def withdraw_consent(
    *, session: Session, actor: Actor | None, client_id: int, consent_id: int,
    on: date | None = None,
) -> ConsentView:
    """The person withdraws a consent: effective at once, kept and dated as evidence."""
    me, client, _target = authorize_client(session, actor, Action.CONSENT_WITHDRAW, client_id)
    row = session.get(Consent, consent_id)
    if row is None or row.client_id != client_id:
        raise NotFound()
    when = on or today_vn()
    if row.withdrawn_on is not None or not row.given_on <= when <= today_vn():
        raise ValidationFailed({"withdrawn_on": "error.date_range"})
    row.withdrawn_on = when
    row.withdrawn_recorded_by_id = me.user_id
    session.add(row)
    if row.purpose == photos.PURPOSE:  # no photo without its consent: deleted at once
        photos.forget_photo(session, client)
    audit.record(session, actor=me, action=Action.CONSENT_WITHDRAW, target_type="client",
                 target_id=client_id, detail=f"consent={consent_id} purpose={row.purpose}")
    session.flush()
    return _view(row, _names(session, [row]))


def consent_form_lines(lang: str, purposes: list[str],
                       dpo: str = "") -> tuple[list[str], list[str]]:
    """The form's paragraphs and signature lines: every purpose with an empty box (never
    pre-ticked), the sensitive categories it involves marked as sensitive; then who answers
    for the data (the data-protection officer, a deployment setting) when set."""
    lines = [t("privacy.form.intro", lang), t("privacy.form.sensitive_note", lang)]
    for code in purposes:
        p = PURPOSES[code]
        cats = ", ".join(t(f"privacy.category.{c}", lang) for c in p.sensitive)
        lines.append("☐  " + t(f"privacy.purpose.{code}", lang) + " — "
                     + t(f"privacy.purpose_text.{code}", lang))
        lines.append("      " + t("privacy.form.sensitive_categories", lang, categories=cats))
        lines.append("      " + t("privacy.form.recipients", lang, recipients=", ".join(
            t(r, lang) for r in p.recipients)))
    lines.append(t("privacy.form.withdraw_note", lang))
    if dpo:
        lines.append(t("privacy.form.dpo", lang, dpo=dpo))
    signatures = [t("privacy.form.form_number", lang), t("privacy.form.signed_subject", lang),
                  t("privacy.form.signed_representative", lang), t("privacy.form.date", lang)]
    return lines, signatures


def consent_form_pdf(
    *, session: Session, actor: Actor | None, client_id: int, lang: str = "vi",
) -> bytes:
    """The printable consent form for one client: their name, then every purpose (audited)."""
    me, client, _target = authorize_client(session, actor, Action.CONSENT_RECORD, client_id)
    paragraphs, signatures = consent_form_lines(lang, list(PURPOSES),
                                                deployment.dpo_line(session))
    header = t("privacy.form.person", lang, name=client.full_name, year=client.birth_year)
    audit.record(session, actor=me, action="consent.form", target_type="client",
                 target_id=client_id)
    return pdf_document(t("privacy.form.title", lang), [header, *paragraphs], [], signatures)
