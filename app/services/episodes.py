"""Management episodes (đợt quản lý): opening with the rule in force, closing in two steps.

A volunteer or supervisor proposes a closure with its reason and date; a supervisor approves
(or rejects) it. Expected ends come from `rules.rule_in_force` on the start date.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.dto import EpisodeCreate, EpisodeDueItem, EpisodeRead
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.policy import Action, authorize_client, authorize_grant, client_scope_filter
from app.services.rules import expected_end, today_vn
from app.services.text import clean
from models import (
    Client,
    ClientStatus,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    Organisation,
    User,
)

EARLIEST = date(2000, 1, 1)
# A decision may take effect a little after it is entered, never years ahead.
MAX_DAYS_AHEAD = 366
_LIVE = (EpisodeStatus.OPEN, EpisodeStatus.CLOSURE_PROPOSED)


def _read(ep: Episode) -> EpisodeRead:
    assert ep.id is not None
    return EpisodeRead(**{name: getattr(ep, name) for name in EpisodeRead.model_fields})


def open_episode(
    *, session: Session, actor: Actor | None, client_id: int, data: EpisodeCreate
) -> EpisodeRead:
    """Open an episode; its expected end follows the duration rule in force on the start date."""
    me, _client, _target = authorize_client(session, actor, Action.EPISODE_OPEN, client_id)
    today = today_vn()
    errors: dict[str, str] = {}
    if not EARLIEST <= data.start_date <= today + timedelta(days=MAX_DAYS_AHEAD):
        errors["start_date"] = "error.date_range"
    if data.decision_date is not None and not EARLIEST <= data.decision_date <= today:
        errors["decision_date"] = "error.date_range"
    decision_number, signer = clean(data.decision_number), clean(data.decision_signer)
    if len(decision_number) > 60:
        errors["decision_number"] = "error.too_long"
    if len(signer) > 120:
        errors["decision_signer"] = "error.too_long"
    if not 1 <= data.rehab_count <= 99:
        errors["rehab_count"] = "error.invalid_value"
    if data.manager_id is not None and session.get(User, data.manager_id) is None:
        errors["manager_id"] = "error.invalid_value"
    if data.provider_id is not None and session.get(Organisation, data.provider_id) is None:
        errors["provider_id"] = "error.invalid_value"
    already = session.exec(
        select(Episode.id).where(
            Episode.client_id == client_id,
            Episode.episode_type == data.episode_type,
            col(Episode.status).in_(_LIVE),
        )
    ).first()
    if already is not None:
        errors["episode_type"] = "error.episode_already_open"
    if errors:
        raise ValidationFailed(errors)
    episode = Episode(
        client_id=client_id,
        episode_type=data.episode_type,
        decision_number=decision_number,
        decision_date=data.decision_date,
        decision_signer=signer,
        start_date=data.start_date,
        expected_end=expected_end(session, data.episode_type, data.start_date),
        rehab_count=data.rehab_count,
        manager_id=data.manager_id,
        provider_id=data.provider_id,
    )
    session.add(episode)
    session.flush()
    audit.record(session, actor=me, action=Action.EPISODE_OPEN, target_type="episode",
                 target_id=episode.id, detail=f"client={client_id}")
    return _read(episode)


def record_episode(
    *, session: Session, actor: Actor | None, client_id: int, data: EpisodeCreate,
    expected_end_on: date | None = None, actual_end: date | None = None,
    end_reason: EndReason | None = None,
) -> EpisodeRead:
    """An episode from a register kept before the app (the import): as `open_episode`, but
    the expected end may be given (else the rule in force on the start date), and an episode
    that already ended is stored closed with its end date and reason (audited as opened and
    closed)."""
    me, _client, _target = authorize_client(session, actor, Action.EPISODE_OPEN, client_id)
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
            col(Episode.status).in_(_LIVE),
        )
    ).first() is not None:
        errors["episode_type"] = "error.episode_already_open"
    if errors:
        raise ValidationFailed(errors)
    expected = expected_end_on or expected_end(session, data.episode_type, data.start_date)
    episode = Episode(
        client_id=client_id, episode_type=data.episode_type, decision_number=decision_number,
        decision_date=data.decision_date, decision_signer=clean(data.decision_signer)[:120],
        start_date=data.start_date, expected_end=expected, rehab_count=data.rehab_count,
        provider_id=data.provider_id, actual_end=actual_end, end_reason=end_reason,
        status=EpisodeStatus.CLOSED if actual_end is not None else EpisodeStatus.OPEN,
    )
    session.add(episode)
    session.flush()
    audit.record(session, actor=me, action=Action.EPISODE_OPEN, target_type="episode",
                 target_id=episode.id, detail=f"client={client_id} recorded")
    if actual_end is not None:
        audit.record(session, actor=me, action="episode.close", target_type="episode",
                     target_id=episode.id, detail=f"recorded reason={end_reason}")
    return _read(episode)


def _episode_for(
    session: Session, actor: Actor | None, action: Action, episode_id: int
) -> tuple[Actor, Episode]:
    me = authorize_grant(session, actor, action)
    episode = session.get(Episode, episode_id)
    if episode is None:
        raise NotFound()
    authorize_client(session, me, action, episode.client_id)
    return me, episode


def _transition(session: Session, episode: Episode, expected_version: int, **values: Any) -> None:
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
    me, episode = _episode_for(session, actor, Action.EPISODE_PROPOSE_CLOSE, episode_id)
    if episode.status != EpisodeStatus.OPEN:
        raise ValidationFailed({"status": "error.episode_not_open"})
    if not episode.start_date <= actual_end <= today_vn():
        raise ValidationFailed({"actual_end": "error.date_range"})
    _transition(session, episode, expected_version, status=EpisodeStatus.CLOSURE_PROPOSED,
                end_reason=end_reason, actual_end=actual_end)
    audit.record(session, actor=me, action=Action.EPISODE_PROPOSE_CLOSE, target_type="episode",
                 target_id=episode_id, detail=f"reason={end_reason.value}")
    return _read(episode)


def approve_closure(
    *, session: Session, actor: Actor | None, episode_id: int, expected_version: int
) -> EpisodeRead:
    """A supervisor closes an episode whose closure was proposed."""
    me, episode = _episode_for(session, actor, Action.EPISODE_APPROVE_CLOSE, episode_id)
    if episode.status != EpisodeStatus.CLOSURE_PROPOSED:
        raise ValidationFailed({"status": "error.episode_not_proposed"})
    _transition(session, episode, expected_version, status=EpisodeStatus.CLOSED)
    audit.record(session, actor=me, action=Action.EPISODE_APPROVE_CLOSE, target_type="episode",
                 target_id=episode_id)
    return _read(episode)


def reject_closure(
    *, session: Session, actor: Actor | None, episode_id: int, expected_version: int
) -> EpisodeRead:
    """A supervisor sends a proposed closure back: the episode is open again."""
    me, episode = _episode_for(session, actor, Action.EPISODE_APPROVE_CLOSE, episode_id)
    if episode.status != EpisodeStatus.CLOSURE_PROPOSED:
        raise ValidationFailed({"status": "error.episode_not_proposed"})
    _transition(session, episode, expected_version, status=EpisodeStatus.OPEN, end_reason=None,
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
