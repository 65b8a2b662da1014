"""The law's deadlines for a supervisor's places, soonest first.

- *management decision*: a positive drug test of a person under no management calls for the
  commune police's management decision within the `management_decision` clock (24 hours
  under Law 120/2025; no such clock before 1 July 2026);
- *transfer notice*: a move recorded by this commune, not yet notified to the receiving
  commune (`transfer_notice`, 24 hours), and on the receiving side the notice not yet
  recorded as received; *arrival report*: a person who moved here and has not
  reported at the new address (`arrival_report`, 24 hours);
- *provider's notice*: a voluntary community rehab with a provider whose notice of the start
  or the end has not been received (`provider_notice`, 5 working days, holidays from the
  `holiday` table);
- *post-rehab decision*: a completed rehab or methadone episode with no post-rehab episode
  after it (`transitions.post_rehab_proposals`);
- *episode ending*: an open episode whose expected end falls within 30 days.

Each clock is the row in force on the day its event happened (`rules.clock_for`). A clock in
hours counts hours from the moment of its event when the record holds it (a test's or a
move's time): it is due at that moment + 24 h, shown with the hours left. A record with its
date only (older rows, a time not known) is counted by whole days: "24 hours" after something
on the 3rd is due on the 4th.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from app.services import audit
from app.services.actor import Actor
from app.services.calendar import local_date
from app.services.law import episodes, rules, transitions
from app.services.law.dto import DeadlineItem
from app.services.policy import Action, authorize_grant, client_scope_filter
from models import (
    Client,
    ClientStatus,
    DrugTest,
    Episode,
    EpisodeStatus,
    EpisodeType,
    ResidenceChange,
    TestResult,
    utcnow,
)

# How far back unmet deadlines are still listed (an older one is a matter for the report).
LOOKBACK_DAYS = 120
ENDING_WITHIN_DAYS = 30
MAX_ITEMS = 300


def _item(kind: str, client_id: int, name: str, due: date, today: date, ref: int,
          **extra: object) -> DeadlineItem:
    return DeadlineItem(kind=kind, client_id=client_id, client_name=name, due=due,
                        days_left=(due - today).days, ref_id=ref, **extra)  # type: ignore[arg-type]


def hours_between(now: datetime, due_at: datetime) -> int:
    """Whole hours from now to `due_at`, rounded up; negative when overdue (rounded up too)."""
    seconds = (due_at - now).total_seconds()
    hours = math.ceil(abs(seconds) / 3600)
    return hours if seconds >= 0 else -hours


def _clock_item(session: Session, kind: str, clock: rules.Clock, client_id: int, name: str,
                on: date, at: datetime | None, today: date, now: datetime,
                ref: int) -> DeadlineItem:
    """A deadline of a clock that started on `on` (at `at` when the moment is known)."""
    due_at = rules.due_moment(clock, at)
    if due_at is None:
        return _item(kind, client_id, name, rules.due_date(session, clock, on), today, ref)
    return _item(kind, client_id, name, local_date(due_at), today, ref, due_at=due_at,
                 hours_left=hours_between(now, due_at))


def _management_decisions(session: Session, actor: Actor, today: date,
                          now: datetime) -> list[DeadlineItem]:
    since = max(today - timedelta(days=LOOKBACK_DAYS), rules.LAW_2021_FROM)
    managed = aliased(Episode)
    # Under management when tested, or a decision taken since: nothing to decide.
    covered = exists().where(
        col(managed.client_id) == col(DrugTest.client_id),
        or_(col(managed.start_date) >= col(DrugTest.tested_on),
            and_(col(managed.start_date) <= col(DrugTest.tested_on),
                 or_(col(managed.actual_end).is_(None),
                     col(managed.actual_end) >= col(DrugTest.tested_on)))),
    )
    found = session.exec(
        select(DrugTest, col(Client.full_name))
        .join(Client, col(Client.id) == col(DrugTest.client_id))
        .where(client_scope_filter(actor), col(Client.status) == ClientStatus.ACTIVE,
               col(DrugTest.result) == TestResult.POSITIVE, col(DrugTest.tested_on) >= since,
               ~covered)
        .order_by(col(DrugTest.tested_on)).limit(MAX_ITEMS)
    ).all()
    items = []
    for test, name in found:
        clock = rules.clock_for(session, "management_decision", test.tested_on)
        if clock is not None and test.id is not None:
            items.append(_clock_item(session, "management_decision", clock, test.client_id,
                                     name, test.tested_on, test.tested_at, today, now, test.id))
    return items


def _moves(session: Session, actor: Actor, today: date, now: datetime) -> list[DeadlineItem]:
    since = today - timedelta(days=LOOKBACK_DAYS)
    items = []
    # (deadline, whose commune sees it, the date that meets it, the clock)
    for kind, place_col, missing, clock_key in (
        ("transfer_notice", ResidenceChange.from_commune_id, ResidenceChange.notice_sent_on,
         "transfer_notice"),
        ("notice_received", ResidenceChange.to_commune_id, ResidenceChange.notice_received_on,
         "transfer_notice"),
        ("arrival_report", ResidenceChange.to_commune_id, ResidenceChange.reported_on,
         "arrival_report"),
    ):
        found = session.exec(
            select(ResidenceChange, Client.full_name)
            .join(Client, col(Client.id) == col(ResidenceChange.client_id))
            .where(col(place_col).in_(actor.commune_ids), col(missing).is_(None),
                   col(ResidenceChange.moved_on) >= since)
            .order_by(col(ResidenceChange.moved_on)).limit(MAX_ITEMS)
        ).all()
        for change, name in found:
            clock = rules.clock_for(session, clock_key, change.moved_on)
            if clock is not None and change.id is not None:
                items.append(_clock_item(session, kind, clock, change.client_id, name,
                                         change.moved_on, change.moved_at, today, now,
                                         change.id))
    return items


def _provider_notices(session: Session, actor: Actor, today: date) -> list[DeadlineItem]:
    since = today - timedelta(days=LOOKBACK_DAYS)
    found = session.exec(
        select(Episode, Client.full_name)
        .join(Client, col(Client.id) == col(Episode.client_id))
        .where(client_scope_filter(actor), col(Client.status) == ClientStatus.ACTIVE,
               col(Episode.episode_type) == EpisodeType.VOLUNTARY_COMMUNITY,
               col(Episode.provider_id).is_not(None),
               or_(and_(col(Episode.start_notice_on).is_(None),
                        col(Episode.start_date) >= since),
                   and_(col(Episode.end_notice_on).is_(None),
                        col(Episode.status) == EpisodeStatus.CLOSED,
                        col(Episode.actual_end) >= since)))
        .order_by(col(Episode.start_date)).limit(MAX_ITEMS)
    ).all()
    items = []
    for episode, name in found:
        assert episode.id is not None
        for kind, day, done in (("provider_notice_start", episode.start_date,
                                 episode.start_notice_on),
                                ("provider_notice_end", episode.actual_end,
                                 episode.end_notice_on)):
            if day is None or done is not None or day < since:
                continue
            if kind == "provider_notice_end" and episode.status != EpisodeStatus.CLOSED:
                continue
            clock = rules.clock_for(session, "provider_notice", day)
            if clock is not None:
                items.append(_item(kind, episode.client_id, name,
                                   rules.due_date(session, clock, day), today, episode.id,
                                   episode_type=EpisodeType(episode.episode_type)))
    return items


def supervisor_deadlines(*, session: Session, actor: Actor | None, today: date,
                         now: datetime | None = None) -> list[DeadlineItem]:
    """Every deadline of the law in the supervisor's places, soonest (most overdue) first.
    `now` (default: the clock) counts the hours left of the clocks in hours."""
    me = authorize_grant(session, actor, Action.EPISODE_DECIDE)
    now = now or utcnow()
    items = [*_management_decisions(session, me, today, now), *_moves(session, me, today, now),
             *_provider_notices(session, me, today)]
    for p in transitions.post_rehab_proposals(session=session, actor=me, today=today):
        # A post-rehab decision is due when the previous episode ends.
        items.append(_item("post_rehab_decision", p.client_id, p.client_name, p.start_date,
                           today, p.previous_episode_id, episode_type=p.previous_type,
                           months=p.months))
    for e in episodes.episodes_ending_soon(session=session, actor=me, today=today,
                                           within_days=ENDING_WITHIN_DAYS):
        items.append(_item("episode_ending", e.client_id, e.client_name, e.expected_end, today,
                           e.episode_id, episode_type=e.episode_type))
    items.sort(key=lambda i: (i.due, i.due_at or datetime.combine(i.due, time.max, tzinfo=UTC),
                              i.kind, i.ref_id))
    audit.record(session, actor=me, action=Action.CASELOAD_VIEW, target_type="deadline",
                 target_id=None, detail=f"deadlines={len(items)}")
    return items
