"""Duration rules with effective dates, and the episode life cycle built on them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from app.services import episodes, rules
from app.services.dto import DurationRuleCreate, EpisodeCreate
from app.services.errors import Conflict, ValidationFailed
from app.services.rules import add_months, rule_in_force, seed_duration_rules, today_vn
from models import DurationRule, EndReason, EpisodeStatus, EpisodeType
from tests.factories import World, count

TODAY = today_vn()


def test_seeding_rules_is_idempotent(session: Session) -> None:
    first = seed_duration_rules(session)
    again = seed_duration_rules(session)
    assert first == 2 * len(EpisodeType)
    assert again == 0
    assert count(session, DurationRule) == first


@pytest.mark.parametrize(("episode_type", "on", "months", "needs_review"), [
    (EpisodeType.ILLEGAL_USE, date(2024, 5, 1), 12, False),
    (EpisodeType.VOLUNTARY_COMMUNITY, date(2024, 5, 1), 6, False),
    (EpisodeType.VOLUNTARY_FACILITY, date(2024, 5, 1), 6, False),
    (EpisodeType.COMPULSORY, date(2024, 5, 1), 24, False),
    (EpisodeType.PENDING_COMPULSORY, date(2024, 5, 1), 3, True),
    (EpisodeType.POST_REHAB, date(2026, 6, 30), 12, False),
    (EpisodeType.POST_REHAB, date(2026, 7, 1), 24, True),  # Law 120/2025 from 1 July 2026
    (EpisodeType.MMT, date(2024, 5, 1), 0, False),
], ids=lambda v: str(v))
def test_the_rule_in_force_depends_on_the_date(session: Session, episode_type: EpisodeType,
                                               on: date, months: int, needs_review: bool) -> None:
    seed_duration_rules(session)
    rule = rule_in_force(session, episode_type, on)
    assert rule is not None
    assert (rule.months, rule.needs_review) == (months, needs_review)


def test_no_rule_before_the_2021_law_took_effect(session: Session) -> None:
    seed_duration_rules(session)
    assert rule_in_force(session, EpisodeType.POST_REHAB, date(2021, 12, 31)) is None


@pytest.mark.parametrize(("start", "months", "end"), [
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2025, 3, 15), 12, date(2026, 3, 15)),
    (date(2025, 11, 30), 3, date(2026, 2, 28)),
])
def test_add_months_clamps_to_the_end_of_the_month(start: date, months: int, end: date) -> None:
    assert add_months(start, months) == end


def test_opening_an_episode_sets_the_expected_end_from_the_rule(session: Session,
                                                               world: World) -> None:
    start = date(2025, 3, 10)
    opened = episodes.open_episode(session=session, actor=world.actor(session, "sup_a"),
                                   client_id=world.clients["a1"], data=EpisodeCreate(
                                       episode_type=EpisodeType.VOLUNTARY_COMMUNITY,
                                       start_date=start))
    assert opened.expected_end == date(2025, 9, 10)
    assert opened.status == EpisodeStatus.OPEN


def test_methadone_has_no_expected_end(session: Session, world: World) -> None:
    opened = episodes.open_episode(session=session, actor=world.actor(session, "sup_a"),
                                   client_id=world.clients["a1"], data=EpisodeCreate(
                                       episode_type=EpisodeType.MMT, start_date=TODAY))
    assert opened.expected_end is None


def test_an_episode_type_cannot_be_open_twice(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        episodes.open_episode(session=session, actor=world.actor(session, "sup_a"),
                              client_id=world.clients["a1"], data=EpisodeCreate(
                                  episode_type=EpisodeType.ILLEGAL_USE, start_date=TODAY))
    assert failed.value.fields == {"episode_type": "error.episode_already_open"}


def test_an_administrator_rule_change_applies_to_later_starts_only(session: Session,
                                                                  world: World) -> None:
    admin = world.actor(session, "admin")
    rules.add_rule(session=session, actor=admin, data=DurationRuleCreate(
        episode_type=EpisodeType.VOLUNTARY_COMMUNITY, months=9, effective_from=date(2025, 6, 1)))
    sup = world.actor(session, "sup_a")
    before = episodes.open_episode(session=session, actor=sup, client_id=world.clients["a2"],
                                   data=EpisodeCreate(episode_type=EpisodeType.VOLUNTARY_COMMUNITY,
                                                      start_date=date(2025, 5, 31)))
    after = episodes.open_episode(session=session, actor=sup, client_id=world.clients["a1"],
                                  data=EpisodeCreate(episode_type=EpisodeType.VOLUNTARY_COMMUNITY,
                                                     start_date=date(2025, 6, 1)))
    assert before.expected_end == date(2025, 11, 30)
    assert after.expected_end == date(2026, 3, 1)


def test_closure_is_proposed_then_approved(session: Session, world: World) -> None:
    ep_id = world.episodes["a1_open"]
    proposed = episodes.propose_closure(
        session=session, actor=world.actor(session, "vol_a1"), episode_id=ep_id,
        end_reason=EndReason.COMPLETED, actual_end=TODAY, expected_version=1)
    assert proposed.status == EpisodeStatus.CLOSURE_PROPOSED
    closed = episodes.approve_closure(session=session, actor=world.actor(session, "sup_a1"),
                                      episode_id=ep_id, expected_version=2)
    assert (closed.status, closed.end_reason, closed.actual_end) == (
        EpisodeStatus.CLOSED, EndReason.COMPLETED, TODAY)


def test_approving_with_a_stale_version_is_a_conflict(session: Session, world: World) -> None:
    with pytest.raises(Conflict):
        episodes.approve_closure(session=session, actor=world.actor(session, "sup_a"),
                                 episode_id=world.episodes["a1_proposed"], expected_version=5)


def test_a_rejected_closure_reopens_the_episode(session: Session, world: World) -> None:
    reopened = episodes.reject_closure(session=session, actor=world.actor(session, "sup_a"),
                                       episode_id=world.episodes["a1_proposed"],
                                       expected_version=1)
    assert (reopened.status, reopened.end_reason) == (EpisodeStatus.OPEN, None)


def test_overdue_and_ending_soon_lists_respect_scope(session: Session, world: World) -> None:
    # World episodes are open until 2026-01-01.
    today = date(2026, 1, 10)
    overdue = episodes.episodes_overdue(session=session, actor=world.actor(session, "sup_a"),
                                        today=today)
    assert {i.client_id for i in overdue} == {world.clients["a1"], world.clients["a2"]}
    assert all(i.days_left == -9 for i in overdue)
    soon = episodes.episodes_ending_soon(session=session, actor=world.actor(session, "vol_a1"),
                                         today=date(2025, 12, 15), within_days=30)
    assert [(i.client_id, i.expected_end) for i in soon] == [
        (world.clients["a1"], date(2026, 1, 1))]
    none_yet = episodes.episodes_ending_soon(session=session, actor=world.actor(session, "sup_b"),
                                             today=date(2025, 11, 1), within_days=30)
    assert none_yet == []


def test_a_closure_date_in_the_future_is_refused(session: Session, world: World) -> None:
    with pytest.raises(ValidationFailed) as failed:
        episodes.propose_closure(
            session=session, actor=world.actor(session, "vol_a1"),
            episode_id=world.episodes["a1_open"], end_reason=EndReason.MOVED,
            actual_end=TODAY + timedelta(days=1), expected_version=1)
    assert failed.value.fields == {"actual_end": "error.date_range"}
