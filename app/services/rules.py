"""Episode durations as data: a rule table with effective dates, seeded from the law, editable.

An episode's expected end is its start date plus the months of the rule in force *on the
start date* (`rule_in_force`), so a change of law affects only episodes that start after it.
A rule of 0 months is open-ended (e.g. methadone maintenance): no expected end.

The seeded values are defaults an administrator must check; rows marked `needs_review` are
placeholders for Law 120/2025/QH15 (in force 1 July 2026) whose terms were not verified.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.dto import DurationRuleCreate, DurationRuleRead
from app.services.errors import ValidationFailed
from app.services.policy import Action, authorize_grant
from models import DurationRule, EpisodeType

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
LAW_2021_FROM = date(2022, 1, 1)
LAW_2025_FROM = date(2026, 7, 1)

E = EpisodeType

# (episode type, months, legal basis) — Law 73/2021/QH14 with Decrees 105/2021 and 116/2021.
_RULES_2021: tuple[tuple[EpisodeType, int, str], ...] = (
    (E.ILLEGAL_USE, 12, "Law 73/2021/QH14 art. 23; Decree 105/2021: management of illegal "
                        "drug use lasts 1 year"),
    (E.VOLUNTARY_COMMUNITY, 6, "Law 73/2021/QH14 art. 30; Decree 116/2021: voluntary rehab "
                               "at home/community, at least 6 months"),
    (E.VOLUNTARY_FACILITY, 6, "Law 73/2021/QH14 art. 31; Decree 116/2021: voluntary rehab "
                              "at a facility, at least 6 months"),
    (E.MMT, 0, "Opioid substitution (methadone): no fixed end"),
    (E.COMPULSORY, 24, "Law 73/2021/QH14 art. 32-33: term set by court decision (up to 24 "
                       "months); default the maximum"),
    (E.PENDING_COMPULSORY, 3, "Decree 116/2021: management while the compulsory-rehab "
                              "dossier is prepared; ~3 months assumed, check"),
    (E.POST_REHAB, 12, "Law 73/2021/QH14 art. 40; Decree 116/2021: post-rehab management "
                       "1 year"),
)

_LAW_2025 = "Law 120/2025/QH15 from 2026-07-01: PLACEHOLDER, must be checked against the text"
# Placeholders: 2021 terms carried over except the longer post-rehab term.
_RULES_2025: tuple[tuple[EpisodeType, int, str], ...] = tuple(
    (t, m, f"{_LAW_2025}; {m} months assumed")
    for t, m in ((t, 24 if t == E.POST_REHAB else months) for t, months, _b in _RULES_2021)
)


def today_vn() -> date:
    """Today's date in Vietnam: what "not in the future" means for a field worker."""
    return datetime.now(LOCAL_TZ).date()


def add_months(start: date, months: int) -> date:
    """Same day `months` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def _read(rule: DurationRule) -> DurationRuleRead:
    assert rule.id is not None
    return DurationRuleRead(
        id=rule.id,
        episode_type=rule.episode_type,
        months=rule.months,
        effective_from=rule.effective_from,
        effective_to=rule.effective_to,
        legal_basis=rule.legal_basis,
        needs_review=rule.needs_review,
    )


def seed_duration_rules(session: Session) -> int:
    """Insert the default rules that are missing (by type and start date); returns how many."""
    existing = {
        (r.episode_type, r.effective_from) for r in session.exec(select(DurationRule)).all()
    }
    added = 0
    for effective_from, rows, review in (
        (LAW_2021_FROM, _RULES_2021, False),
        (LAW_2025_FROM, _RULES_2025, True),
    ):
        for episode_type, months, basis in rows:
            if (episode_type, effective_from) in existing:
                continue
            needs_review = review or episode_type == E.PENDING_COMPULSORY
            session.add(DurationRule(
                episode_type=episode_type, months=months, effective_from=effective_from,
                legal_basis=basis[:200], needs_review=needs_review,
            ))
            added += 1
    session.flush()
    return added


def rule_in_force(session: Session, episode_type: EpisodeType, on: date) -> DurationRuleRead | None:
    """The rule for this episode type in force on that date (the latest one that started)."""
    rule = session.exec(
        select(DurationRule)
        .where(
            DurationRule.episode_type == episode_type,
            DurationRule.effective_from <= on,
            or_(col(DurationRule.effective_to).is_(None), col(DurationRule.effective_to) > on),
        )
        .order_by(col(DurationRule.effective_from).desc(), col(DurationRule.id).desc())
        .limit(1)
    ).first()
    return _read(rule) if rule is not None else None


def expected_end(session: Session, episode_type: EpisodeType, start: date) -> date | None:
    """Start plus the months in force on the start date; None when open-ended.

    Raises ValidationFailed when no rule covers the start date (the table must be completed)."""
    rule = rule_in_force(session, episode_type, start)
    if rule is None:
        raise ValidationFailed({"episode_type": "error.no_duration_rule"})
    return add_months(start, rule.months) if rule.months > 0 else None


def list_rules(*, session: Session, actor: Actor | None) -> list[DurationRuleRead]:
    authorize_grant(session, actor, Action.RULE_EDIT)
    rows = session.exec(
        select(DurationRule).order_by(
            col(DurationRule.episode_type), col(DurationRule.effective_from)
        )
    ).all()
    return [_read(r) for r in rows]


def add_rule(
    *, session: Session, actor: Actor | None, data: DurationRuleCreate
) -> DurationRuleRead:
    """An administrator adds a rule (e.g. when a new law takes effect)."""
    me = authorize_grant(session, actor, Action.RULE_EDIT)
    errors: dict[str, str] = {}
    if not 0 <= data.months <= 120:
        errors["months"] = "error.months_range"
    if data.effective_to is not None and data.effective_to <= data.effective_from:
        errors["effective_to"] = "error.date_order"
    if len(data.legal_basis) > 200:
        errors["legal_basis"] = "error.too_long"
    if errors:
        raise ValidationFailed(errors)
    rule = DurationRule(**data.model_dump())
    session.add(rule)
    session.flush()
    audit.record(session, actor=me, action=Action.RULE_EDIT, target_type="durationrule",
                 target_id=rule.id)
    return _read(rule)
