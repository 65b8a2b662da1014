"""Management episodes (đợt quản lý) as decisions: opening with the term the law allows on the
decision date, reductions, closing in two steps, and reviewing terms when the rules change.

An episode records its decision (number, date, authority, signer) and the term it decided,
which must lie within the bounds of the rule in force on the decision date (`rules.rule_for`,
chosen by type, the person's age band on that date, first or repeat rehab, and the previous
episode's type). Its expected end follows the decided term, or the rule's default when the
decision names none; a reduction is recorded with its own decision and shortens it; days held
at a facility while the compulsory dossier was prepared are credited against the compulsory
term. Opening compulsory rehab while pending-compulsory management runs is the admission: it
ends the pending management. Overlaps the law forbids are refused (rows of `overlaprule`,
`rules.overlap_for`). A voluntary registration needs a valid determination of dependence
(`determination_problem`).

A volunteer or supervisor proposes a closure with its reason and date; a supervisor approves
(or rejects) it. A change of the rules never rewrites an episode's end: `term_changes` lists
the open episodes whose end the rules in force would now give differently, and a supervisor
confirms them (`confirm_terms`), one by one or all at once, or keeps one as it is (`keep_terms`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import add_months, today_vn
from app.services.dto import DurationRuleCreate, EpisodeCreate, EpisodeDueItem, EpisodeRead
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.law import rules
from app.services.law.dto import EpisodeReductionCreate, RuleImpact, TermChange
from app.services.law.rules import RuleQuery
from app.services.policy import Action, authorize_client, authorize_grant, client_scope_filter
from app.services.text import clean
from models import (
    AddictionDetermination,
    Client,
    ClientStatus,
    DurationRule,
    EndReason,
    Episode,
    EpisodeReduction,
    EpisodeStatus,
    EpisodeType,
    Organisation,
    Place,
    User,
    utcnow,
)

EARLIEST = date(2000, 1, 1)
# A decision may take effect a little after it is entered, never years ahead.
MAX_DAYS_AHEAD = 366
LIVE = (EpisodeStatus.OPEN, EpisodeStatus.CLOSURE_PROPOSED)
_LIVE = LIVE
HELD_AT = ("family", "facility")


def _read(ep: Episode) -> EpisodeRead:
    assert ep.id is not None
    return EpisodeRead(**{name: getattr(ep, name) for name in EpisodeRead.model_fields})


def _rehab_count(session: Session, client_id: int, given: int) -> int:
    """The rehab count: as given, or the rehab episodes on record + 1 if that is more."""
    before = session.exec(
        select(func.count()).select_from(Episode).where(
            col(Episode.client_id) == client_id,
            col(Episode.episode_type).in_(rules.REHAB_TYPES),
        )
    ).one()
    return max(given, int(before) + 1)


def _previous_episode(session: Session, client_id: int, before: date) -> Episode | None:
    """The latest closed episode that ended on or before `before` (what post-rehab follows)."""
    return session.exec(
        select(Episode).where(
            col(Episode.client_id) == client_id,
            col(Episode.status) == EpisodeStatus.CLOSED,
            col(Episode.actual_end).is_not(None),
            col(Episode.actual_end) <= before,
            col(Episode.episode_type) != EpisodeType.POST_REHAB,
        ).order_by(col(Episode.actual_end).desc(), col(Episode.id).desc()).limit(1)
    ).first()


def reduced_months(session: Session, episode_id: int) -> int:
    return int(session.exec(
        select(func.coalesce(func.sum(EpisodeReduction.months), 0))
        .where(col(EpisodeReduction.episode_id) == episode_id)
    ).one())


def query_for(client: Client, episode_type: EpisodeType, on: date, rehab_count: int,
               previous: EpisodeType | None) -> RuleQuery:
    band = rules.age_band(rules.age_on(client.birth_year, client.birth_date, on))
    return RuleQuery(episode_type, on, band, rules.rehab_order(rehab_count), previous)


def _live_episodes(session: Session, client_id: int) -> list[Episode]:
    return list(session.exec(
        select(Episode).where(col(Episode.client_id) == client_id,
                              col(Episode.status).in_(LIVE))
    ).all())


# Episodes that are a voluntary registration: they need a determination of dependence still
# valid on the registration date (LAW.md L15; the validity is the `determination_valid` clock).
VOLUNTARY_REGISTRATION = frozenset({EpisodeType.VOLUNTARY_COMMUNITY,
                                    EpisodeType.VOLUNTARY_FACILITY})


def determination_problem(session: Session, client_id: int, episode_type: EpisodeType,
                          on: date) -> str | None:
    """The error key if a voluntary registration on `on` lacks a valid determination of
    dependence: one made on or before `on` whose validity (the `determination_valid` clock in
    force on its date) has not run out by `on`. None when valid, or when the law in force on
    `on` sets no validity clock (then no determination is required)."""
    if episode_type not in VOLUNTARY_REGISTRATION:
        return None
    if rules.clock_for(session, "determination_valid", on) is None:
        return None
    found = session.exec(
        select(AddictionDetermination).where(
            col(AddictionDetermination.client_id) == client_id,
            col(AddictionDetermination.dependent).is_(True),
            col(AddictionDetermination.determined_on) <= on,
        ).order_by(col(AddictionDetermination.determined_on).desc()).limit(12)
    ).all()
    for row in found:
        clock = rules.clock_for(session, "determination_valid", row.determined_on)
        if clock is None or on <= rules.due_date(session, clock, row.determined_on):
            return None
    return "error.determination_expired" if found else "error.determination_required"


def open_episode(
    *, session: Session, actor: Actor | None, client_id: int, data: EpisodeCreate
) -> EpisodeRead:
    """Open an episode as decided; its term follows the rule in force on the decision date."""
    me, client, _target = authorize_client(session, actor, Action.EPISODE_OPEN, client_id)
    today = today_vn()
    errors: dict[str, str] = {}
    if not EARLIEST <= data.start_date <= today + timedelta(days=MAX_DAYS_AHEAD):
        errors["start_date"] = "error.date_range"
    if data.decision_date is not None and not EARLIEST <= data.decision_date <= today:
        errors["decision_date"] = "error.date_range"
    decision_number, signer = clean(data.decision_number), clean(data.decision_signer)
    authority = clean(data.decision_authority)
    if len(decision_number) > 60:
        errors["decision_number"] = "error.too_long"
    if len(signer) > 120:
        errors["decision_signer"] = "error.too_long"
    if len(authority) > 120:
        errors["decision_authority"] = "error.too_long"
    if not 1 <= data.rehab_count <= 99:
        errors["rehab_count"] = "error.invalid_value"
    if data.manager_id is not None and session.get(User, data.manager_id) is None:
        errors["manager_id"] = "error.invalid_value"
    if data.provider_id is not None and session.get(Organisation, data.provider_id) is None:
        errors["provider_id"] = "error.invalid_value"
    held_at = data.held_at if data.episode_type == EpisodeType.PENDING_COMPULSORY else ""
    if data.episode_type == EpisodeType.PENDING_COMPULSORY and held_at not in HELD_AT:
        errors["held_at"] = "error.invalid_choice"
    previous: Episode | None = None
    if data.previous_episode_id is not None:
        previous = session.get(Episode, data.previous_episode_id)
        if previous is None or previous.client_id != client_id:
            errors["previous_episode_id"] = "error.invalid_value"
    elif data.episode_type == EpisodeType.POST_REHAB:
        previous = _previous_episode(session, client_id, data.start_date)
    on = data.decision_date or data.start_date
    live = _live_episodes(session, client_id)
    pending: Episode | None = None
    for other in live:
        if other.episode_type == data.episode_type:
            errors["episode_type"] = "error.episode_already_open"
            break
        found = rules.overlap_for(session, data.episode_type, EpisodeType(other.episode_type),
                                  on)
        if found is not None and found.outcome == rules.ENDS_LIVE:
            pending = other
        elif found is not None:
            errors["episode_type"] = found.message_key
            break
    if "episode_type" not in errors and "start_date" not in errors:
        problem = determination_problem(session, client_id, data.episode_type, on)
        if problem is not None:
            errors["episode_type"] = problem
    if errors:
        raise ValidationFailed(errors)
    rehab_count = _rehab_count(session, client_id, data.rehab_count) \
        if data.episode_type in rules.REHAB_TYPES else data.rehab_count
    previous_type = EpisodeType(previous.episode_type) if previous is not None else None
    rule = rules.rule_for(session, query_for(client, data.episode_type, on, rehab_count,
                                              previous_type))
    if rule is None:
        raise ValidationFailed({"episode_type": "error.no_duration_rule"})
    problem = rules.check_decided_months(rule, data.decided_months)
    if problem is not None:
        raise ValidationFailed({"decided_months": problem})
    credited = 0
    if pending is not None:
        # Admission under the court decision ends the pending management (Decree 116/2021
        # Art 44-45, an "ends_live" overlap row); the days held at a facility count against
        # the compulsory term.
        if pending.held_at == "facility":
            credited = max((data.start_date - pending.start_date).days, 0)
        transition(session, pending, pending.version, status=EpisodeStatus.CLOSED,
                    end_reason=EndReason.ADMITTED, actual_end=max(data.start_date,
                                                                  pending.start_date))
        audit.record(session, actor=me, action=Action.EPISODE_APPROVE_CLOSE,
                     target_type="episode", target_id=pending.id, detail="admitted")
    episode = Episode(
        client_id=client_id,
        episode_type=data.episode_type,
        decision_number=decision_number,
        decision_date=data.decision_date,
        decision_signer=signer,
        decision_authority=authority,
        start_date=data.start_date,
        expected_end=rules.term_end(rule, start=data.start_date, decision=data.decision_date,
                                    decided_months=data.decided_months,
                                    credited_days=credited),
        rehab_count=rehab_count,
        manager_id=data.manager_id,
        provider_id=data.provider_id,
        rule_id=rule.id,
        age_band=query_for(client, data.episode_type, on, rehab_count, None).age_band,
        decided_months=data.decided_months,
        credited_days=credited,
        previous_episode_id=previous.id if previous is not None else None,
        held_at=held_at,
        term_checked_at=utcnow(),
    )
    session.add(episode)
    session.flush()
    audit.record(session, actor=me, action=Action.EPISODE_OPEN, target_type="episode",
                 target_id=episode.id, detail=f"client={client_id} rule={rule.id}")
    return _read(episode)


def record_episode(
    *, session: Session, actor: Actor | None, client_id: int, data: EpisodeCreate,
    expected_end_on: date | None = None, actual_end: date | None = None,
    end_reason: EndReason | None = None,
) -> EpisodeRead:
    """An episode from a register kept before the app (the import): as `open_episode`, but
    the expected end may be given (else the rule in force on the decision or start date),
    and an episode that already ended is stored closed with its end date and reason (audited
    as opened and closed). Its term, if given, is the register's: supervisors review it
    against the rules on their review screen (`term_changes`)."""
    me, client, _target = authorize_client(session, actor, Action.EPISODE_OPEN, client_id)
    today = today_vn()
    errors: dict[str, str] = {}
    if not EARLIEST <= data.start_date <= today:
        errors["start_date"] = "error.date_range"
    if data.decision_date is not None and not EARLIEST <= data.decision_date <= today:
        errors["decision_date"] = "error.date_range"
    decision_number = clean(data.decision_number)
    if len(decision_number) > 60:
        errors["decision_number"] = "error.too_long"
    if data.provider_id is not None:
        provider = session.get(Organisation, data.provider_id)
        if provider is None or not provider.active:
            errors["provider_id"] = "error.invalid_value"
    if expected_end_on is not None and expected_end_on <= data.start_date:
        errors["expected_end"] = "error.date_order"
    if actual_end is not None and not data.start_date <= actual_end <= today:
        errors["actual_end"] = "error.date_order" if actual_end < data.start_date \
            else "error.date_range"
    if (actual_end is None) != (end_reason is None):
        errors["actual_end" if actual_end is None else "end_reason"] = "episode.error.end_pair"
    if actual_end is None and session.exec(
        select(Episode.id).where(
            Episode.client_id == client_id,
            Episode.episode_type == data.episode_type,
            col(Episode.status).in_(LIVE),
        )
    ).first() is not None:
        errors["episode_type"] = "error.episode_already_open"
    if errors:
        raise ValidationFailed(errors)
    query = query_for(client, data.episode_type, data.decision_date or data.start_date,
                       data.rehab_count, None)
    rule = rules.rule_for(session, query)
    if rule is None and expected_end_on is None:
        raise ValidationFailed({"episode_type": "error.no_duration_rule"})
    expected = expected_end_on or (rules.term_end(
        rule, start=data.start_date, decision=data.decision_date,
        decided_months=None) if rule is not None else None)
    episode = Episode(
        client_id=client_id, episode_type=data.episode_type, decision_number=decision_number,
        decision_date=data.decision_date, decision_signer=clean(data.decision_signer)[:120],
        decision_authority=clean(data.decision_authority)[:120],
        start_date=data.start_date, expected_end=expected, rehab_count=data.rehab_count,
        provider_id=data.provider_id, actual_end=actual_end, end_reason=end_reason,
        status=EpisodeStatus.CLOSED if actual_end is not None else EpisodeStatus.OPEN,
        rule_id=rule.id if rule is not None else None, age_band=query.age_band,
    )
    session.add(episode)
    session.flush()
    audit.record(session, actor=me, action=Action.EPISODE_OPEN, target_type="episode",
                 target_id=episode.id, detail=f"client={client_id} recorded")
    if actual_end is not None:
        audit.record(session, actor=me, action="episode.close", target_type="episode",
                     target_id=episode.id, detail=f"recorded reason={end_reason}")
    return _read(episode)


def episode_for(
    session: Session, actor: Actor | None, action: Action, episode_id: int
) -> tuple[Actor, Episode]:
    me = authorize_grant(session, actor, action)
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound()
    authorize_client(session, me, action, episode.client_id)
    return me, episode


def transition(session: Session, episode: Episode, expected_version: int, **values: Any) -> None:
    """Change an episode if it is still at `expected_version` (else Conflict), and bump it."""
    result = session.execute(
        update(Episode)
        .where(col(Episode.id) == episode.id, col(Episode.version) == expected_version)
        .values(**values, version=expected_version + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict()
    session.refresh(episode)


def propose_closure(
    *,
    session: Session,
    actor: Actor | None,
    episode_id: int,
    end_reason: EndReason,
    actual_end: date,
    expected_version: int,
) -> EpisodeRead:
    me, episode = episode_for(session, actor, Action.EPISODE_PROPOSE_CLOSE, episode_id)
    if episode.status != EpisodeStatus.OPEN:
        raise ValidationFailed({"status": "error.episode_not_open"})
    if not episode.start_date <= actual_end <= today_vn():
        raise ValidationFailed({"actual_end": "error.date_range"})
    transition(session, episode, expected_version, status=EpisodeStatus.CLOSURE_PROPOSED,
                end_reason=end_reason, actual_end=actual_end)
    audit.record(session, actor=me, action=Action.EPISODE_PROPOSE_CLOSE, target_type="episode",
                 target_id=episode_id, detail=f"reason={end_reason.value}")
    return _read(episode)


def approve_closure(
    *, session: Session, actor: Actor | None, episode_id: int, expected_version: int
) -> EpisodeRead:
    """A supervisor closes an episode whose closure was proposed."""
    me, episode = episode_for(session, actor, Action.EPISODE_APPROVE_CLOSE, episode_id)
    if episode.status != EpisodeStatus.CLOSURE_PROPOSED:
        raise ValidationFailed({"status": "error.episode_not_proposed"})
    transition(session, episode, expected_version, status=EpisodeStatus.CLOSED)
    audit.record(session, actor=me, action=Action.EPISODE_APPROVE_CLOSE, target_type="episode",
                 target_id=episode_id)
    return _read(episode)


def reject_closure(
    *, session: Session, actor: Actor | None, episode_id: int, expected_version: int
) -> EpisodeRead:
    """A supervisor sends a proposed closure back: the episode is open again."""
    me, episode = episode_for(session, actor, Action.EPISODE_APPROVE_CLOSE, episode_id)
    if episode.status != EpisodeStatus.CLOSURE_PROPOSED:
        raise ValidationFailed({"status": "error.episode_not_proposed"})
    transition(session, episode, expected_version, status=EpisodeStatus.OPEN, end_reason=None,
                actual_end=None)
    audit.record(session, actor=me, action=Action.EPISODE_APPROVE_CLOSE, target_type="episode",
                 target_id=episode_id, detail="rejected")
    return _read(episode)


def _due_episodes(
    session: Session, actor: Actor, today: date, *, first: date | None, last: date
) -> list[EpisodeDueItem]:
    query = (
        select(Episode, Client.full_name)
        .join(Client, col(Client.id) == col(Episode.client_id))
        .where(
            client_scope_filter(actor),
            col(Client.status) == ClientStatus.ACTIVE,
            col(Episode.status) == EpisodeStatus.OPEN,
            col(Episode.expected_end).is_not(None),
            col(Episode.expected_end) <= last,
        )
        .order_by(col(Episode.expected_end), col(Episode.id))
    )
    if first is not None:
        query = query.where(col(Episode.expected_end) >= first)
    items = []
    for episode, name in session.exec(query).all():
        assert episode.id is not None and episode.expected_end is not None
        items.append(EpisodeDueItem(
            episode_id=episode.id, client_id=episode.client_id, client_name=name,
            episode_type=EpisodeType(episode.episode_type), expected_end=episode.expected_end,
            days_left=(episode.expected_end - today).days,
        ))
    return items


def episodes_overdue(*, session: Session, actor: Actor | None, today: date) -> list[EpisodeDueItem]:
    """Open episodes in scope whose expected end has passed, oldest first."""
    me = authorize_grant(session, actor, Action.CASELOAD_VIEW)
    items = _due_episodes(session, me, today, first=None, last=today - timedelta(days=1))
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="episode",
                 target_id=None, detail=f"overdue={len(items)}")
    return items


def episodes_ending_soon(
    *, session: Session, actor: Actor | None, today: date, within_days: int = 30
) -> list[EpisodeDueItem]:
    """Open episodes in scope ending today or within `within_days` days."""
    me = authorize_grant(session, actor, Action.CASELOAD_VIEW)
    if not 0 <= within_days <= 366:
        raise ValidationFailed({"within_days": "error.invalid_value"})
    items = _due_episodes(session, me, today, first=today, last=today + timedelta(days=within_days))
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="episode",
                 target_id=None, detail=f"ending_soon={len(items)}")
    return items


# ---- reductions ----------------------------------------------------------------------------


def add_reduction(
    *, session: Session, actor: Actor | None, episode_id: int, data: EpisodeReductionCreate
) -> EpisodeRead:
    """A decision shortens an open episode's term by some months (e.g. a court's reduction of
    a compulsory term): recorded with its own decision; the expected end moves earlier."""
    me, episode = episode_for(session, actor, Action.EPISODE_DECIDE, episode_id)
    if episode.status not in LIVE:
        raise ValidationFailed({"months": "error.episode_not_open"})
    errors: dict[str, str] = {}
    params: dict[str, int] = {}
    number, authority = clean(data.decision_number), clean(data.decision_authority)
    signer = clean(data.decision_signer)
    if not number:
        errors["decision_number"] = "error.decision_required"
    if len(number) > 60 or len(authority) > 120 or len(signer) > 120:
        errors["decision_number"] = "error.too_long"
    if not episode.start_date <= data.decision_date <= today_vn():
        errors["decision_date"] = "error.date_range"
    rule = session.get(DurationRule, episode.rule_id) if episode.rule_id is not None else None
    term = episode.decided_months
    if term is None and rule is not None:
        term = rule.months
    already = reduced_months(session, episode_id)
    if episode.expected_end is None or term is None or not 1 <= data.months <= term - already:
        errors["months"] = "error.reduction_range"
    elif rule is not None and rule.reduction_max_months is not None and not (
        (rule.reduction_min_months or 1) <= data.months <= rule.reduction_max_months
    ):
        # The bounds of one reduction are the rule's row (3-6 months for adults' compulsory
        # rehab, LAW.md L6).
        errors["months"] = "error.reduction_bounds_law"
        params = {"low": rule.reduction_min_months or 1, "high": rule.reduction_max_months}
    if errors:
        raise ValidationFailed(errors, None, **params)
    session.add(EpisodeReduction(
        episode_id=episode_id, months=data.months, decision_number=number,
        decision_date=data.decision_date, decision_authority=authority, decision_signer=signer,
        recorded_by_id=me.user_id,
    ))
    session.flush()
    assert episode.expected_end is not None
    new_end = add_months(episode.expected_end, -data.months)
    transition(session, episode, episode.version, expected_end=new_end)
    audit.record(session, actor=me, action=Action.EPISODE_DECIDE, target_type="episode",
                 target_id=episode_id, detail=f"reduction={data.months}")
    return _read(episode)


# ---- reviewing terms against the rules in force ----------------------------------------


def _term_now(episode: Episode, client: Client, rows: list[Any], previous: EpisodeType | None,
              reduced: int) -> tuple[int | None, date | None, bool]:
    """(rule id, expected end, found) for an episode under the rules as they are now."""
    on = episode.decision_date or episode.start_date
    rule = rules.choose_rule(rows, query_for(client, EpisodeType(episode.episode_type), on,
                                              episode.rehab_count, previous))
    if rule is None:
        return None, None, False
    decided = episode.decided_months
    if rules.check_decided_months(rule, decided) is not None:
        decided = None  # a term outside the new bounds: the new default applies
    end = rules.term_end(rule, start=episode.start_date, decision=episode.decision_date,
                         decided_months=decided, reduced_months=reduced,
                         credited_days=episode.credited_days)
    return rule.id, end, True


def _changes(session: Session, actor: Actor, episode_ids: list[int] | None) -> list[
        tuple[Episode, str, str, int | None, date | None]]:
    rows = list(session.exec(select(DurationRule)).all())
    query = (
        select(Episode, Client, Place.name)
        .join(Client, col(Client.id) == col(Episode.client_id))
        .join(Place, col(Place.id) == col(Client.commune_id))
        .where(client_scope_filter(actor), col(Client.status) == ClientStatus.ACTIVE,
               col(Episode.status).in_(LIVE))
        .order_by(col(Episode.start_date), col(Episode.id))
    )
    if episode_ids is not None:
        query = query.where(col(Episode.id).in_(episode_ids))
    found = list(session.exec(query).all())
    ids = [e.id for e, _c, _p in found]
    prev_ids = {e.previous_episode_id for e, _c, _p in found if e.previous_episode_id}
    prev_types = {i: EpisodeType(t) for i, t in session.exec(
        select(Episode.id, Episode.episode_type).where(col(Episode.id).in_(prev_ids))).all()}
    reduced = dict(session.exec(
        select(EpisodeReduction.episode_id, func.sum(EpisodeReduction.months))
        .where(col(EpisodeReduction.episode_id).in_(ids))
        .group_by(col(EpisodeReduction.episode_id))).all())
    out = []
    for episode, client, place in found:
        assert episode.id is not None
        previous = prev_types.get(episode.previous_episode_id or 0)
        rule_id, end, ok = _term_now(episode, client, rows, previous,
                                     int(reduced.get(episode.id) or 0))
        if ok and end != episode.expected_end and episode.term_kept_for != kept_mark(end):
            out.append((episode, client.full_name, place, rule_id, end))
    return out


def kept_mark(end: date | None) -> str:
    """How `Episode.term_kept_for` names the end a supervisor declined."""
    return end.isoformat() if end is not None else "open"


def term_changes(*, session: Session, actor: Actor | None) -> list[TermChange]:
    """Open episodes in scope whose expected end the rules in force would now set otherwise:
    the supervisor confirms them; nothing changes until then."""
    me = authorize_grant(session, actor, Action.EPISODE_DECIDE)
    items = [
        TermChange(episode_id=e.id or 0, client_id=e.client_id, client_name=name,
                   commune_name=place, episode_type=EpisodeType(e.episode_type),
                   decision_date=e.decision_date, start_date=e.start_date,
                   current_end=e.expected_end, new_end=end, version=e.version)
        for e, name, place, _rule, end in _changes(session, me, None)
    ]
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="episode",
                 target_id=None, detail=f"term_changes={len(items)}")
    return items


def confirm_terms(
    *, session: Session, actor: Actor | None, versions: dict[int, int]
) -> int:
    """Apply the rules' end to the episodes named (id -> version as shown); returns how many.

    An episode changed since it was shown is a conflict (nothing is applied)."""
    me = authorize_grant(session, actor, Action.EPISODE_DECIDE)
    if not versions or len(versions) > 500:
        raise ValidationFailed({"episode_id": "error.invalid_value"})
    changes = _changes(session, me, list(versions))
    if len(changes) != len(versions):
        raise Conflict()
    now = utcnow()
    for episode, _name, _place, rule_id, end in changes:
        transition(session, episode, versions[episode.id or 0], expected_end=end,
                    rule_id=rule_id, term_checked_at=now, term_kept_for="")
        audit.record(session, actor=me, action=Action.EPISODE_DECIDE, target_type="episode",
                     target_id=episode.id, detail=f"term confirmed end={end}")
    return len(changes)


def keep_terms(
    *, session: Session, actor: Actor | None, versions: dict[int, int]
) -> int:
    """Keep the episodes named (id -> version as shown) as they are: their expected end stays,
    and the end the rules gave is not proposed again (until the rules give another). Audited;
    returns how many. An episode changed since it was shown is a conflict."""
    me = authorize_grant(session, actor, Action.EPISODE_DECIDE)
    if not versions or len(versions) > 500:
        raise ValidationFailed({"episode_id": "error.invalid_value"})
    changes = _changes(session, me, list(versions))
    if len(changes) != len(versions):
        raise Conflict()
    now = utcnow()
    for episode, _name, _place, _rule_id, end in changes:
        transition(session, episode, versions[episode.id or 0], term_kept_for=kept_mark(end),
                    term_checked_at=now)
        audit.record(session, actor=me, action=Action.EPISODE_DECIDE, target_type="episode",
                     target_id=episode.id,
                     detail=f"term kept end={episode.expected_end} rules={end}")
    return len(changes)


def rule_change_impact(
    *, session: Session, actor: Actor | None, add: DurationRuleCreate | None = None,
    close_rule_id: int | None = None, close_from: date | None = None,
) -> list[RuleImpact]:
    """Before an administrator adds or closes a rule: the open episodes (anywhere) whose
    expected end the rules would then set otherwise. Nothing is changed; no client names."""
    authorize_grant(session, actor, Action.RULE_EDIT)
    current = list(session.exec(select(DurationRule)).all())
    rows = [DurationRule(**{f: getattr(r, f) for f in DurationRule.model_fields}) for r in current]
    if add is not None:
        proposed = rules.checked_rule(add)
        proposed.id = max((r.id or 0 for r in rows), default=0) + 1
        rows.append(proposed)
        kind = add.episode_type
    elif close_rule_id is not None and close_from is not None:
        target = next((r for r in rows if r.id == close_rule_id), None)
        if target is None:
            raise NotFound()
        target.effective_to = close_from
        kind = EpisodeType(target.episode_type)
    else:
        raise ValidationFailed({"rule": "error.invalid_value"})
    found = session.exec(
        select(Episode, Client, Place.name)
        .join(Client, col(Client.id) == col(Episode.client_id))
        .join(Place, col(Place.id) == col(Client.commune_id))
        .where(col(Episode.status).in_(LIVE), col(Episode.episode_type) == kind)
        .order_by(col(Episode.start_date), col(Episode.id))
    ).all()
    prev_types = {i: EpisodeType(t) for i, t in session.exec(
        select(Episode.id, Episode.episode_type).where(col(Episode.id).in_(
            [e.previous_episode_id for e, _c, _p in found if e.previous_episode_id]))).all()}
    out = []
    for episode, client, place in found:
        assert episode.id is not None
        previous = prev_types.get(episode.previous_episode_id or 0)
        reduced = reduced_months(session, episode.id)
        _rid, end, ok = _term_now(episode, client, rows, previous, reduced)
        _rid, before, _ok = _term_now(episode, client, current, previous, reduced)
        if ok and end != before:
            out.append(RuleImpact(episode_id=episode.id, episode_type=kind, commune_name=place,
                                  decision_date=episode.decision_date,
                                  start_date=episode.start_date,
                                  current_end=episode.expected_end, new_end=end))
    return out
