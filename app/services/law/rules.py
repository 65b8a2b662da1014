"""The law's terms and clocks as data: rows with effective dates, loaded from LAW.md, editable.

A *term rule* (`durationrule` row) says how long an episode type lasts for an age band at the
decision date ("minor": 12 to under 18; "adult": 18 and over), a first or repeat rehab, and
the type of the episode before it; with the bounds a decision may choose within (min/max
months) and the default when the decision names no term. The rule applied to an episode is the
row in force on its decision date (its start date when no decision date is recorded) that
matches the most keys; among equals, the latest that started. 0 months is open-ended.

A *clock* (`lawclock` row) is a deadline: 24 hours for the management decision after a positive
test, 5 working days for a provider's notice, 6 months of validity for an addiction
determination.

`load_rules` inserts the rows of Law 73/2021/QH14 (until 30 June 2026) and Law 120/2025/QH15
(from 1 July 2026) that are missing, from ../shared/LAW.md, with `needs_review` where the
source was not the official text. An administrator adds and closes rows (`add_rule`,
`close_rule`); a change never rewrites the terms of existing episodes: `rule_change_impact`
shows first which open episodes the new rows would give another end, and supervisors confirm
those one by one on their review screen (`episodes.term_changes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import Session, col, delete, select

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import add_months, add_working_days
from app.services.dto import DurationRuleCreate, DurationRuleRead, _Out
from app.services.errors import NotFound, ValidationFailed
from app.services.policy import Action, authorize_grant
from app.services.text import clean
from models import DurationRule, Episode, EpisodeType, LawClock, OverlapRule

E = EpisodeType
LAW_2021_FROM = date(2022, 1, 1)
LAW_2025_FROM = date(2026, 7, 1)  # Law 120/2025/QH15 in force (LAW.md L1)

ANY = "any"
MINOR, ADULT, CHILD = "minor", "adult", "child"
AGE_BANDS = (ANY, MINOR, ADULT)
FIRST, REPEAT = "first", "repeat"
REHAB_ORDERS = (ANY, FIRST, REPEAT)
COUNTS_FROM = ("start", "decision")
CLOCK_UNITS = ("hours", "days", "working_days", "months")
# Episodes that count as a rehab for "first or repeat" (Law 120/2025: 24 or 36 months).
REHAB_TYPES = frozenset({E.VOLUNTARY_COMMUNITY, E.VOLUNTARY_FACILITY, E.COMPULSORY})


@dataclass(frozen=True)
class TermRow:
    episode_type: EpisodeType
    min_months: int
    max_months: int
    months: int
    legal_basis: str
    source: str
    needs_review: bool
    age_band: str = ANY
    rehab_order: str = ANY
    previous_type: EpisodeType | None = None
    counts_from: str = "start"
    # Months one reduction decision may take off (LAW.md L6); None: no reduction in the law.
    reduction_min: int | None = None
    reduction_max: int | None = None


def _post_rehab(law: str, source: str, review: bool) -> tuple[TermRow, ...]:
    """Post-rehab management: 1 year, 2 years for adults after compulsory rehab (L9, L11)."""
    basis = f"{law}: post-rehab management starts at the end of the previous episode"
    return (
        TermRow(E.POST_REHAB, 12, 12, 12, f"{basis}; 1 year (previous episode not recorded)",
                source, True),
        *(TermRow(E.POST_REHAB, 12, 12, 12, f"{basis}; 1 year after {prev.value}", source,
                  review, previous_type=prev)
          for prev in (E.VOLUNTARY_COMMUNITY, E.VOLUNTARY_FACILITY, E.MMT)),
        TermRow(E.POST_REHAB, 12, 12, 12, f"{basis}; 1 year for a minor after compulsory rehab",
                source, review, age_band=MINOR, previous_type=E.COMPULSORY),
        TermRow(E.POST_REHAB, 24, 24, 24, f"{basis}; 2 years for an adult after compulsory rehab",
                source, review, age_band=ADULT, previous_type=E.COMPULSORY),
    )


_L73 = "Law 73/2021/QH14"
_L120 = "Law 120/2025/QH15"
# Law 73/2021/QH14 with Decrees 105/2021 and 116/2021 and the LHAV: 2022-01-01 to 2026-06-30.
TERMS_2021: tuple[TermRow, ...] = (
    TermRow(E.ILLEGAL_USE, 12, 12, 12, f"{_L73} Art 23; Decree 105/2021: 1 year from the "
            "management decision", "LAW.md L2 (official text)", False, counts_from="decision"),
    TermRow(E.VOLUNTARY_COMMUNITY, 6, 12, 6, f"{_L73} Art 30; Decree 116/2021: voluntary rehab "
            "at home/community 6-12 months", "LAW.md L4 (official text)", False),
    TermRow(E.VOLUNTARY_FACILITY, 6, 12, 6, f"{_L73} Art 31: voluntary rehab at a facility "
            "6-12 months", "LAW.md L5 (official text)", False),
    TermRow(E.MMT, 0, 0, 0, "Decree 90/2016: opioid substitution is open-ended",
            "LAW.md L13 (medium confidence)", True),
    TermRow(E.COMPULSORY, 12, 24, 24, "LHAV Art 95; Decree 116/2021: adults 12-24 months by "
            "court decision; default the maximum; reductions of 3-6 months", "LAW.md L6 (official "
            "text)", False, age_band=ADULT, reduction_min=3, reduction_max=6),
    TermRow(E.COMPULSORY, 6, 12, 12, f"{_L73} Art 33: ages 12 to under 18, 6-12 months by "
            "court decision", "LAW.md L7 (medium-high confidence)", True, age_band=MINOR),
    TermRow(E.PENDING_COMPULSORY, 0, 0, 0, "Decree 116/2021 Art 44-45: no fixed term, until "
            "admission; facility time counts against the compulsory term",
            "LAW.md L8 (official text)", False),
    *_post_rehab(f"{_L73} Art 40", "LAW.md L9 (official text)", False),
)

_NEWS = "LAW.md L10 (news and quoted clauses, not the official text)"
# Law 120/2025/QH15 from 2026-07-01. Only partly verified: rows built on secondary sources
# carry needs_review, and an administrator corrects them on screen.
TERMS_2025: tuple[TermRow, ...] = (
    TermRow(E.ILLEGAL_USE, 12, 12, 12, f"{_L120}: 1 year from the management decision",
            "LAW.md L2 (medium-high confidence)", True, counts_from="decision"),
    *(TermRow(t, m, m, m, f"{_L120}: rehab {m} months for a {order} rehab"
              + ("; reductions of 3-6 months carried over from LHAV" if t == E.COMPULSORY
                 else ""), _NEWS, True,
              rehab_order=order, age_band=ADULT if t == E.COMPULSORY else ANY,
              reduction_min=3 if t == E.COMPULSORY else None,
              reduction_max=6 if t == E.COMPULSORY else None)
      for t in (E.VOLUNTARY_COMMUNITY, E.VOLUNTARY_FACILITY, E.COMPULSORY)
      for order, m in ((FIRST, 24), (REPEAT, 36))),
    TermRow(E.COMPULSORY, 6, 12, 12, f"{_L120}: minors' compulsory rehab 6-12 months carried "
            f"over from {_L73} Art 33, not confirmed", "LAW.md L7 (not confirmed for 120/2025)",
            True, age_band=MINOR),
    TermRow(E.MMT, 0, 0, 0, "Opioid substitution is open-ended", "LAW.md L13", True),
    TermRow(E.PENDING_COMPULSORY, 0, 0, 0, "No fixed term, until admission (Decree 116/2021 "
            "Art 44-45 carried over)", "LAW.md L8", True),
    *_post_rehab(_L120, "LAW.md L11 (secondary sources only)", True),
)


@dataclass(frozen=True)
class ClockRow:
    key: str
    amount: int
    unit: str
    effective_from: date
    effective_to: date | None
    legal_basis: str
    source: str
    needs_review: bool


CLOCKS: tuple[ClockRow, ...] = (
    ClockRow("management_decision", 24, "hours", LAW_2025_FROM, None,
             f"{_L120}: management decision within 24 h of a positive test",
             "LAW.md L3 (news and quoted clauses)", True),
    ClockRow("transfer_notice", 24, "hours", LAW_2025_FROM, None,
             f"{_L120}: the commune notifies the receiving commune within 24 h of a move",
             "LAW.md L3 (news and quoted clauses)", True),
    ClockRow("arrival_report", 24, "hours", LAW_2025_FROM, None,
             f"{_L120}: the person reports at the new address within 24 h",
             "LAW.md L3 (news and quoted clauses)", True),
    ClockRow("provider_notice", 5, "working_days", LAW_2021_FROM, LAW_2025_FROM,
             "Decree 116/2021 Art 32: a provider tells the commune within 5 working days",
             "LAW.md L4 (official text)", False),
    ClockRow("provider_notice", 5, "working_days", LAW_2025_FROM, None,
             "Decree 116/2021 Art 32 assumed kept under Law 120/2025", "LAW.md L4", True),
    ClockRow("determination_valid", 6, "months", LAW_2021_FROM, None,
             "Decree 109/2021: an addiction determination is valid 6 months for a voluntary "
             "registration", "LAW.md L15 (medium confidence)", True),
)

# The rows the app seeded before issue 16 (one term per type, 2025 placeholders): replaced by
# the rows above when `load_rules` runs, unless an episode already refers to them.
_RETIRED_PREFIXES = (
    "Law 73/2021/QH14 art. ", "Opioid substitution (methadone): no fixed end",
    "Decree 116/2021: management while the compulsory-rehab dossier",
    "Law 120/2025/QH15 from 2026-07-01: PLACEHOLDER",
)


def _rule_key(row: DurationRule | TermRow, effective_from: date) -> tuple[object, ...]:
    prev = str(row.previous_type) if row.previous_type is not None else None
    return (EpisodeType(row.episode_type).value, row.age_band, row.rehab_order, prev,
            effective_from)


def load_rules(session: Session) -> int:
    """Insert the law's term rules and clocks that are missing; returns how many rows.

    Idempotent (rows are matched by their keys and start date), and never touches a row an
    administrator added or closed. Called by `migrate` and the demo seed."""
    referenced = select(Episode.rule_id).where(col(Episode.rule_id).is_not(None))
    for prefix in _RETIRED_PREFIXES:
        session.execute(delete(DurationRule).where(
            col(DurationRule.legal_basis).startswith(prefix),
            col(DurationRule.source) == "",
            col(DurationRule.id).not_in(referenced),
        ))
    have = {_rule_key(r, r.effective_from) for r in session.exec(select(DurationRule)).all()}
    added = 0
    for effective_from, effective_to, rows in ((LAW_2021_FROM, LAW_2025_FROM, TERMS_2021),
                                               (LAW_2025_FROM, None, TERMS_2025)):
        for row in rows:
            if _rule_key(row, effective_from) in have:
                continue
            session.add(DurationRule(
                episode_type=row.episode_type, months=row.months, min_months=row.min_months,
                max_months=row.max_months, effective_from=effective_from,
                effective_to=effective_to, legal_basis=row.legal_basis[:200],
                source=row.source[:200], needs_review=row.needs_review,
                age_band=row.age_band, rehab_order=row.rehab_order,
                previous_type=row.previous_type, counts_from=row.counts_from,
                reduction_min_months=row.reduction_min, reduction_max_months=row.reduction_max,
            ))
            added += 1
    added += _load_overlaps(session)
    clocks = {(c.key, c.effective_from) for c in session.exec(select(LawClock)).all()}
    for clock in CLOCKS:
        if (clock.key, clock.effective_from) in clocks:
            continue
        session.add(LawClock(
            key=clock.key, amount=clock.amount, unit=clock.unit,
            effective_from=clock.effective_from, effective_to=clock.effective_to,
            legal_basis=clock.legal_basis, source=clock.source, needs_review=clock.needs_review,
        ))
        added += 1
    session.flush()
    return added


# Before issue 16 the rule table had one row per type; tests and the demo called this name.
seed_duration_rules = load_rules


# ---- choosing the rule -------------------------------------------------------------------


def age_on(birth_year: int, birth_date: date | None, on: date) -> int:
    """Age in whole years on a date (from the year alone when the birth date is unknown)."""
    if birth_date is not None:
        before = (on.month, on.day) < (birth_date.month, birth_date.day)
        return on.year - birth_date.year - int(before)
    return on.year - birth_year


def age_band(age: int) -> str:
    """The law's bands: 12 to under 18 is a minor, 18 and over an adult (under 12: neither)."""
    if age >= 18:
        return ADULT
    return MINOR if age >= 12 else CHILD


def rehab_order(rehab_count: int) -> str:
    return FIRST if rehab_count <= 1 else REPEAT


@dataclass(frozen=True)
class RuleQuery:
    """What an episode's rule is chosen by."""

    episode_type: EpisodeType
    on: date  # the decision date (the start date when no decision date is recorded)
    age_band: str
    rehab_order: str = FIRST
    previous_type: EpisodeType | None = None


def _read(rule: DurationRule) -> DurationRuleRead:
    assert rule.id is not None
    return DurationRuleRead(**{name: getattr(rule, name) for name in DurationRuleRead.model_fields})


def _specificity(rule: DurationRule, q: RuleQuery) -> int | None:
    """How many keys the rule names and matches; None if one it names does not match."""
    score = 0
    for named, matches in ((rule.age_band != ANY, rule.age_band == q.age_band),
                           (rule.rehab_order != ANY, rule.rehab_order == q.rehab_order),
                           (rule.previous_type is not None, rule.previous_type == q.previous_type)):
        if named and not matches:
            return None
        score += int(named)
    return score


def choose_rule(rows: list[DurationRule], q: RuleQuery) -> DurationRuleRead | None:
    """Among rule rows, the one in force on `q.on` for its type that matches the most keys
    (the latest start among equals, then the latest added)."""
    scored = [(s, r.effective_from, r.id or 0, r) for r in rows
              if r.episode_type == q.episode_type and r.effective_from <= q.on
              and (r.effective_to is None or r.effective_to > q.on)
              and (s := _specificity(r, q)) is not None]
    if not scored:
        return None
    return _read(max(scored, key=lambda x: x[:3])[3])


def rule_for(session: Session, q: RuleQuery) -> DurationRuleRead | None:
    """The rule in force on `q.on` that matches the most keys (latest start among equals)."""
    rows = session.exec(
        select(DurationRule).where(
            DurationRule.episode_type == q.episode_type,
            DurationRule.effective_from <= q.on,
            or_(col(DurationRule.effective_to).is_(None), col(DurationRule.effective_to) > q.on),
        )
    ).all()
    return choose_rule(list(rows), q)


def rule_in_force(session: Session, episode_type: EpisodeType, on: date,
                  band: str = ADULT) -> DurationRuleRead | None:
    """The general rule for a type on a date (an adult's first rehab, nothing before it)."""
    return rule_for(session, RuleQuery(episode_type, on, band))


def term_end(rule: DurationRuleRead, *, start: date, decision: date | None,
             decided_months: int | None, reduced_months: int = 0,
             credited_days: int = 0) -> date | None:
    """The expected end: the decided term (or the rule's default) from the date the rule
    counts from, less reductions and the facility days credited; None when open-ended."""
    months = decided_months if decided_months is not None else rule.months
    if months <= 0:
        return None
    base = decision if rule.counts_from == "decision" and decision is not None else start
    return add_months(base, max(months - reduced_months, 0)) - timedelta(days=credited_days)


def check_decided_months(rule: DurationRuleRead, months: int | None) -> str | None:
    """The error key if a decided term lies outside the rule's bounds, else None."""
    if months is None:
        return None
    if rule.max_months == 0 and rule.months == 0:
        return "error.term_open_ended" if months != 0 else None
    if not rule.min_months <= months <= rule.max_months:
        return "error.term_out_of_bounds"
    return None


# ---- clocks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    key: str
    amount: int
    unit: str
    legal_basis: str
    needs_review: bool


def clock_for(session: Session, key: str, on: date) -> Clock | None:
    """The clock of that name in force on a date (None: the law set none then)."""
    row = session.exec(
        select(LawClock).where(
            LawClock.key == key, LawClock.effective_from <= on,
            or_(col(LawClock.effective_to).is_(None), col(LawClock.effective_to) > on),
        ).order_by(col(LawClock.effective_from).desc(), col(LawClock.id).desc()).limit(1)
    ).first()
    if row is None:
        return None
    return Clock(row.key, row.amount, row.unit, row.legal_basis, row.needs_review)


def due_moment(clock: Clock, start_at: datetime | None) -> datetime | None:
    """When a clock counted in hours runs out, from the moment its event happened; None when
    the clock is not in hours or the moment is not known (the record holds its date only:
    then `due_date` counts whole days)."""
    if clock.unit != "hours" or start_at is None:
        return None
    return start_at + timedelta(hours=clock.amount)


def due_date(session: Session, clock: Clock, start: date) -> date:
    """When a clock that starts on `start` runs out (hours counted in whole days when only the
    date is known, so 24 hours after a test on the 3rd is the 4th; see `due_moment`)."""
    if clock.unit == "hours":
        return start + timedelta(days=-(-clock.amount // 24))
    if clock.unit == "days":
        return start + timedelta(days=clock.amount)
    if clock.unit == "working_days":
        return add_working_days(session=session, start=start, days=clock.amount)
    return add_months(start, clock.amount)


# ---- the administrator's screen ----------------------------------------------------------


def list_rules(*, session: Session, actor: Actor | None) -> list[DurationRuleRead]:
    authorize_grant(session, actor, Action.RULE_EDIT)
    rows = session.exec(
        select(DurationRule).order_by(
            col(DurationRule.episode_type), col(DurationRule.effective_from),
            col(DurationRule.id),
        )
    ).all()
    return [_read(r) for r in rows]


def checked_rule(data: DurationRuleCreate) -> DurationRule:
    errors: dict[str, str] = {}
    low = data.months if data.min_months is None else data.min_months
    high = data.months if data.max_months is None else data.max_months
    if not (0 <= low <= data.months <= high <= 120):
        errors["months"] = "error.months_range"
    if data.effective_to is not None and data.effective_to <= data.effective_from:
        errors["effective_to"] = "error.date_order"
    if data.age_band not in AGE_BANDS:
        errors["age_band"] = "error.invalid_choice"
    if data.rehab_order not in REHAB_ORDERS:
        errors["rehab_order"] = "error.invalid_choice"
    if data.counts_from not in COUNTS_FROM:
        errors["counts_from"] = "error.invalid_choice"
    r_low, r_high = data.reduction_min_months, data.reduction_max_months
    if (r_low is None) != (r_high is None) or (
        r_low is not None and r_high is not None and not 1 <= r_low <= r_high <= high
    ):
        errors["reduction_max_months"] = "error.reduction_bounds"
    basis, source = clean(data.legal_basis), clean(data.source)
    if not basis:
        errors["legal_basis"] = "error.legal_basis_required"
    if len(basis) > 200:
        errors["legal_basis"] = "error.too_long"
    if len(source) > 200:
        errors["source"] = "error.too_long"
    if errors:
        raise ValidationFailed(errors)
    return DurationRule(
        episode_type=data.episode_type, months=data.months, min_months=low, max_months=high,
        effective_from=data.effective_from, effective_to=data.effective_to, legal_basis=basis,
        source=source, needs_review=data.needs_review, age_band=data.age_band,
        rehab_order=data.rehab_order, previous_type=data.previous_type,
        counts_from=data.counts_from, reduction_min_months=r_low, reduction_max_months=r_high,
    )


def add_rule(
    *, session: Session, actor: Actor | None, data: DurationRuleCreate
) -> DurationRuleRead:
    """An administrator adds a rule (e.g. when a new law or a correction takes effect).

    Existing episodes keep their terms; supervisors review the ones it would change."""
    me = authorize_grant(session, actor, Action.RULE_EDIT)
    rule = checked_rule(data)
    session.add(rule)
    session.flush()
    audit.record(session, actor=me, action=Action.RULE_EDIT, target_type="durationrule",
                 target_id=rule.id, detail=f"add {rule.episode_type} from {rule.effective_from}")
    return _read(rule)


def close_rule(
    *, session: Session, actor: Actor | None, rule_id: int, effective_to: date
) -> DurationRuleRead:
    """An administrator ends a rule: from `effective_to` on it no longer applies."""
    me = authorize_grant(session, actor, Action.RULE_EDIT)
    rule = session.get(DurationRule, rule_id)
    if rule is None:
        raise NotFound()
    if effective_to <= rule.effective_from or (
        rule.effective_to is not None and effective_to >= rule.effective_to
    ):
        raise ValidationFailed({"effective_to": "error.date_order"})
    rule.effective_to = effective_to
    session.add(rule)
    session.flush()
    audit.record(session, actor=me, action=Action.RULE_EDIT, target_type="durationrule",
                 target_id=rule.id, detail=f"close from {effective_to}")
    return _read(rule)


# ---- overlaps ----------------------------------------------------------------------------

REFUSE, ENDS_LIVE = "refuse", "ends_live"
OVERLAP_OUTCOMES = (REFUSE, ENDS_LIVE)
_REHAB_OR_MMT = frozenset({*REHAB_TYPES, E.MMT})
_VOLUNTARY = frozenset({E.VOLUNTARY_COMMUNITY, E.VOLUNTARY_FACILITY})


@dataclass(frozen=True)
class OverlapRow:
    """Opening `new` while `live` runs: refused (the message names the rule) or the live one
    ends. Not terms, but what the law says cannot run together; shipped as `overlaprule` rows."""

    new: EpisodeType
    live: EpisodeType
    outcome: str
    message_key: str
    legal_basis: str
    source: str
    needs_review: bool


def _both_ways(group_a: frozenset[EpisodeType], group_b: frozenset[EpisodeType], key: str,
               basis: str, source: str, review: bool) -> tuple[OverlapRow, ...]:
    pairs = {(a, b) for a in group_a for b in group_b if a != b}
    pairs |= {(b, a) for a, b in pairs}
    return tuple(OverlapRow(a, b, REFUSE, key, basis, source, review)
                 for a, b in sorted(pairs))


# Since Law 73/2021 (2022-01-01), unchanged as far as LAW.md knows by Law 120/2025.
OVERLAPS: tuple[OverlapRow, ...] = (
    *_both_ways(_REHAB_OR_MMT, _REHAB_OR_MMT, "error.overlap.one_rehab",
                f"{_L73} Art 28; {_L120}: one rehab or substitution measure at a time",
                "LAW.md L4-L7, L13", False),
    *_both_ways(frozenset({E.POST_REHAB}), frozenset({*_REHAB_OR_MMT, E.PENDING_COMPULSORY}),
                "error.overlap.post_rehab",
                f"{_L73} Art 40: post-rehab management starts at the end of the rehab",
                "LAW.md L9", False),
    *_both_ways(frozenset({E.ILLEGAL_USE}), frozenset({*_REHAB_OR_MMT, E.PENDING_COMPULSORY}),
                "error.overlap.illegal_use",
                f"{_L73} Art 23: illegal-use management ends when dependence is determined",
                "LAW.md L2", False),
    # A compulsory dossier is prepared for a person who did not register, quit or used drugs
    # during voluntary rehab; a voluntary registration does not stop it (and the reverse: the
    # voluntary rehab ends before the dossier). Methadone may go on while it is prepared.
    *_both_ways(_VOLUNTARY, frozenset({E.PENDING_COMPULSORY}), "error.overlap.pending_voluntary",
                "Decree 116/2021 Art 44-45: management until admission under the court "
                "decision; no voluntary rehab meanwhile", "LAW.md L8 (not confirmed: "
                "voluntary registration during the dossier)", True),
    OverlapRow(E.PENDING_COMPULSORY, E.COMPULSORY, REFUSE, "error.overlap.one_rehab",
               "Decree 116/2021 Art 44-45: the dossier precedes the compulsory rehab",
               "LAW.md L8", False),
    # Admission under the court decision ends the pending management (and credits its days).
    OverlapRow(E.COMPULSORY, E.PENDING_COMPULSORY, ENDS_LIVE, "",
               "Decree 116/2021 Art 44-45: admission ends the management while the dossier "
               "is prepared", "LAW.md L8 (official text)", False),
)


def _load_overlaps(session: Session) -> int:
    have = {(_overlap_key(r.new_type, r.live_type, r.effective_from))
            for r in session.exec(select(OverlapRule)).all()}
    added = 0
    for row in OVERLAPS:
        if _overlap_key(row.new, row.live, LAW_2021_FROM) in have:
            continue
        session.add(OverlapRule(new_type=row.new, live_type=row.live, outcome=row.outcome,
                                message_key=row.message_key, effective_from=LAW_2021_FROM,
                                legal_basis=row.legal_basis[:200], source=row.source[:200],
                                needs_review=row.needs_review))
        added += 1
    return added


def _overlap_key(new: str, live: str, since: date) -> tuple[str, str, date]:
    return (EpisodeType(new).value, EpisodeType(live).value, since)


@dataclass(frozen=True)
class Overlap:
    outcome: str  # REFUSE or ENDS_LIVE
    message_key: str
    legal_basis: str


def overlap_for(session: Session, new: EpisodeType, live: EpisodeType,
                on: date) -> Overlap | None:
    """The overlap rule in force on `on` for opening `new` while `live` runs (latest start
    among several); None: the law allows both at once."""
    row = session.exec(
        select(OverlapRule).where(
            OverlapRule.new_type == new, OverlapRule.live_type == live,
            OverlapRule.effective_from <= on,
            or_(col(OverlapRule.effective_to).is_(None), col(OverlapRule.effective_to) > on),
        ).order_by(col(OverlapRule.effective_from).desc(), col(OverlapRule.id).desc()).limit(1)
    ).first()
    if row is None:
        return None
    return Overlap(row.outcome, row.message_key, row.legal_basis)


class OverlapRead(_Out):
    id: int
    new_type: EpisodeType
    live_type: EpisodeType
    outcome: str
    message_key: str
    effective_from: date
    effective_to: date | None
    legal_basis: str
    source: str
    needs_review: bool


def list_overlaps(*, session: Session, actor: Actor | None) -> list[OverlapRead]:
    """Every overlap row, for the administrator's screen."""
    authorize_grant(session, actor, Action.RULE_EDIT)
    rows = session.exec(select(OverlapRule).order_by(
        col(OverlapRule.new_type), col(OverlapRule.live_type), col(OverlapRule.effective_from),
    )).all()
    return [OverlapRead(**{n: getattr(r, n) for n in OverlapRead.model_fields}) for r in rows]


def overlap_rule(session: Session, new: EpisodeType, live: EpisodeType, on: date) -> str | None:
    """The message key of the rule that refuses `new` while `live` runs on `on`, or None."""
    found = overlap_for(session, new, live, on)
    return found.message_key if found is not None and found.outcome == REFUSE else None
