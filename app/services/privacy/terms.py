"""The terms of the law and of this deployment's policy, as editable rows (`privacyterm`).

Defaults come from ../shared/LAW.md (P3, P4) and are created on first use; a term whose
source is not certain is marked `needs_review` so an administrator checks it on screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize_grant
from app.services.text import clean
from models import PrivacyTerm, TermUnit, utcnow

_DECREE = "Nghị định 356/2025/NĐ-CP Điều 5; Luật 91/2025/QH15 Điều 14"
# code: (amount, unit, legal basis, needs review)
DEFAULT_TERMS: dict[str, tuple[int, TermUnit, str, bool]] = {
    "request.ack": (2, TermUnit.WORKING_DAYS, _DECREE, True),
    "request.access": (10, TermUnit.WORKING_DAYS, _DECREE, True),
    "request.correction": (10, TermUnit.WORKING_DAYS, _DECREE, True),
    "request.copy": (10, TermUnit.WORKING_DAYS, _DECREE, True),
    "request.withdrawal": (15, TermUnit.WORKING_DAYS, _DECREE, True),
    "request.restriction": (15, TermUnit.WORKING_DAYS, _DECREE, True),
    "request.objection": (15, TermUnit.WORKING_DAYS, _DECREE, True),
    "request.deletion": (20, TermUnit.WORKING_DAYS, _DECREE, True),
    "breach.notify": (72, TermUnit.HOURS,
                      "Luật 91/2025/QH15 Điều 23; Nghị định 356/2025/NĐ-CP Điều 28", True),
    "breakglass.max": (3, TermUnit.HOURS, "Chính sách truy cập khẩn cấp của đơn vị", False),
    # Retention is this deployment's policy (no fixed term found in the law): to review.
    "retention.client_closed": (10, TermUnit.YEARS,
                                "Chính sách lưu trữ của đơn vị (cần rà soát)", True),
    "retention.visit_notes": (5, TermUnit.YEARS,
                              "Chính sách lưu trữ của đơn vị (cần rà soát)", True),
    # Not a duration: the basis printed when a deletion must be refused because the
    # person is under a measure the drug law requires records of.
    "hold.live_episode": (0, TermUnit.YEARS,
                          "Luật Phòng, chống ma túy 73/2021/QH14 (Điều 23, 30, 40) và "
                          "120/2025/QH15: hồ sơ phải được lưu trong thời gian áp dụng biện "
                          "pháp quản lý, cai nghiện", True),
}
MAX_AMOUNT = {TermUnit.WORKING_DAYS: 60, TermUnit.HOURS: 240, TermUnit.YEARS: 100}


@dataclass(frozen=True)
class Term:
    code: str
    amount: int
    unit: TermUnit
    legal_basis: str
    needs_review: bool


def _as_term(row: PrivacyTerm) -> Term:
    return Term(row.code, row.amount, TermUnit(row.unit), row.legal_basis, row.needs_review)


def seed_terms(session: Session) -> int:
    """Create the missing default rows; existing rows (maybe edited) are left alone."""
    known = set(session.exec(select(PrivacyTerm.code)).all())
    added = 0
    for code, (amount, unit, basis, review) in DEFAULT_TERMS.items():
        if code not in known:
            session.add(PrivacyTerm(code=code, amount=amount, unit=unit, legal_basis=basis,
                                    needs_review=review))
            added += 1
    if added:
        session.flush()
    return added


def term(session: Session, code: str) -> Term:
    """One term (its default row is created on first use)."""
    row = session.get(PrivacyTerm, code)
    if row is None:
        if code not in DEFAULT_TERMS:
            raise KeyError(code)
        seed_terms(session)
        row = session.get(PrivacyTerm, code)
        assert row is not None
    return _as_term(row)


def list_terms(*, session: Session, actor: Actor | None) -> list[Term]:
    authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    seed_terms(session)
    return [_as_term(r) for r in session.exec(select(PrivacyTerm)
                                              .order_by(col(PrivacyTerm.code))).all()]


def update_term(
    *, session: Session, actor: Actor | None, code: str, amount: int, legal_basis: str,
) -> Term:
    """An administrator corrects a term (audited with the old and new amount)."""
    me = authorize_grant(session, actor, Action.PRIVACY_ADMIN)
    seed_terms(session)
    row = session.get(PrivacyTerm, code)
    if row is None:
        raise NotFound()
    basis = clean(legal_basis)
    errors: dict[str, str] = {}
    if not 0 <= amount <= MAX_AMOUNT[row.unit] or (amount == 0 and row.code in _NONZERO):
        errors["amount"] = "error.invalid_value"
    if len(basis) > 300:
        errors["legal_basis"] = "error.too_long"
    if errors:
        raise ValidationFailed(errors)
    detail = f"{code} {row.amount}->{amount}"
    row.amount, row.legal_basis, row.needs_review = amount, basis, False
    row.updated_at, row.updated_by_id = utcnow(), me.user_id
    session.add(row)
    audit.record(session, actor=me, action="privacy.term", target_type="term", target_id=None,
                 detail=detail)
    session.flush()
    return _as_term(row)


_NONZERO = frozenset(c for c in DEFAULT_TERMS if not c.startswith("hold."))
