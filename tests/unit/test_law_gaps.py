"""Issue 16's remaining gaps, at the service level: a voluntary registration needs a valid
determination (its validity a clock row), overlaps are rows (pending-compulsory and voluntary
rehab refused), post-rehab proposals dismissed with a reason, terms kept as they are, and
reduction bounds from the rule row."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from app.services import activities
from app.services.calendar import add_months, today_vn
from app.services.dto import DrugTestCreate, DurationRuleCreate, EpisodeCreate
from app.services.errors import PermissionDenied, ValidationFailed
from app.services.law import deadlines, episodes, records, rules, transitions
from app.services.law.dto import (
    DeterminationCreate,
    EpisodeReductionCreate,
    ResidenceChangeCreate,
)
from models import (
    AuditEvent,
    DrugTest,
    DurationRule,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    LawClock,
    OverlapRule,
    PostRehabDismissal,
    ResidenceChange,
    TestResult,
)
from tests.factories import World, make_client, make_determination

E = EpisodeType


def _free(session: Session, client_id: int) -> None:
    for ep in session.exec(select(Episode).where(Episode.client_id == client_id)).all():
        ep.status = EpisodeStatus.CLOSED
        ep.end_reason = EndReason.QUIT
        session.add(ep)
    session.flush()


def _open(session: Session, world: World, client_id: int, t: EpisodeType, start: date,
          decision: date | None = None, **extra: object) -> object:
    return episodes.open_episode(
        session=session, actor=world.actor(session, "sup_a"), client_id=client_id,
        data=EpisodeCreate(episode_type=t, start_date=start, decision_date=decision,
                           **extra))  # type: ignore[arg-type]


# ---- 1. a voluntary registration needs a valid determination ----------------------------------


@pytest.mark.parametrize("kind", [E.VOLUNTARY_COMMUNITY, E.VOLUNTARY_FACILITY])
def test_a_voluntary_registration_without_a_determination_is_refused(
    session: Session, world: World, kind: EpisodeType,
) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    with pytest.raises(ValidationFailed) as refused:
        _open(session, world, cid, kind, date(2026, 9, 1), date(2026, 8, 30))
    assert refused.value.fields == {"episode_type": "error.determination_required"}
    # A determination that found no dependence does not count either.
    make_determination(session, cid, date(2026, 8, 1), dependent=False)
    with pytest.raises(ValidationFailed) as refused:
        _open(session, world, cid, kind, date(2026, 9, 1), date(2026, 8, 30))
    assert refused.value.fields == {"episode_type": "error.determination_required"}


@pytest.mark.parametrize(("determined", "registered", "ok"), [
    (date(2026, 3, 1), date(2026, 9, 1), True),    # 6 months to the day: still valid
    (date(2026, 3, 1), date(2026, 9, 2), False),   # the day after: expired
    (date(2026, 8, 30), date(2026, 8, 30), True),  # the same day
    (date(2026, 9, 2), date(2026, 9, 1), False),   # made after the registration
])
def test_the_determination_must_be_valid_on_the_registration_date(
    session: Session, world: World, determined: date, registered: date, ok: bool,
) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    make_determination(session, cid, determined)
    if ok:
        opened = _open(session, world, cid, E.VOLUNTARY_COMMUNITY, registered, registered)
        assert opened.episode_type == E.VOLUNTARY_COMMUNITY  # type: ignore[attr-defined]
        return
    with pytest.raises(ValidationFailed) as refused:
        _open(session, world, cid, E.VOLUNTARY_COMMUNITY, registered, registered)
    expected = ("error.determination_required" if determined > registered
                else "error.determination_expired")
    assert refused.value.fields == {"episode_type": expected}


def test_the_validity_is_the_clock_row_not_a_constant(session: Session, world: World) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    make_determination(session, cid, date(2026, 1, 10))
    with pytest.raises(ValidationFailed):
        _open(session, world, cid, E.VOLUNTARY_COMMUNITY, date(2026, 9, 1), date(2026, 9, 1))
    # An administrator's correction of the clock (12 months) makes it valid.
    for clock in session.exec(select(LawClock).where(LawClock.key == "determination_valid")):
        clock.amount = 12
        session.add(clock)
    session.flush()
    opened = _open(session, world, cid, E.VOLUNTARY_COMMUNITY, date(2026, 9, 1),
                   date(2026, 9, 1))
    assert opened.id  # type: ignore[attr-defined]
    # With no validity clock in force, the law then asked no determination.
    _free(session, cid)
    for clock in session.exec(select(LawClock).where(LawClock.key == "determination_valid")):
        session.delete(clock)
    session.flush()
    other = make_client(session, world.commune_a1, world.users["vol_a1"], name="Hồ Văn Khải",
                        birth_year=1990)
    assert _open(session, world, other, E.VOLUNTARY_FACILITY, date(2026, 9, 1)).id  # type: ignore[attr-defined]


def test_other_episode_types_need_no_determination(session: Session, world: World) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    assert _open(session, world, cid, E.MMT, date(2026, 9, 1)).id  # type: ignore[attr-defined]


def test_the_determination_recorded_on_the_law_page_lets_the_registration_through(
    session: Session, world: World,
) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    records.record_determination(
        session=session, actor=world.actor(session, "vol_a1"), client_id=cid,
        data=DeterminationCreate(determined_on=date(2026, 8, 1), dependent=True,
                                 facility_name="Trạm y tế xã A Một"))
    opened = _open(session, world, cid, E.VOLUNTARY_COMMUNITY, date(2026, 8, 10),
                   date(2026, 8, 5))
    assert opened.expected_end == date(2028, 8, 10)  # type: ignore[attr-defined]


# ---- 2. overlaps are rows ---------------------------------------------------------------------


@pytest.mark.parametrize(("live", "new", "key"), [
    (E.PENDING_COMPULSORY, E.VOLUNTARY_COMMUNITY, "error.overlap.pending_voluntary"),
    (E.PENDING_COMPULSORY, E.VOLUNTARY_FACILITY, "error.overlap.pending_voluntary"),
    (E.VOLUNTARY_COMMUNITY, E.PENDING_COMPULSORY, "error.overlap.pending_voluntary"),
    (E.COMPULSORY, E.PENDING_COMPULSORY, "error.overlap.one_rehab"),
    (E.VOLUNTARY_FACILITY, E.MMT, "error.overlap.one_rehab"),
    (E.POST_REHAB, E.PENDING_COMPULSORY, "error.overlap.post_rehab"),
])
def test_overlaps_the_rows_refuse_name_the_rule(
    session: Session, world: World, live: EpisodeType, new: EpisodeType, key: str,
) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    make_determination(session, cid, date(2026, 8, 1))
    _open(session, world, cid, live, date(2026, 8, 2), held_at="family")
    with pytest.raises(ValidationFailed) as refused:
        _open(session, world, cid, new, date(2026, 8, 20), held_at="family")
    assert refused.value.fields == {"episode_type": key}


def test_methadone_may_go_on_while_the_compulsory_dossier_is_prepared(
    session: Session, world: World,
) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    _open(session, world, cid, E.PENDING_COMPULSORY, date(2026, 8, 2), held_at="family")
    assert _open(session, world, cid, E.MMT, date(2026, 8, 3)).id  # type: ignore[attr-defined]


def test_the_overlap_rules_are_rows_an_overlap_closed_no_longer_refuses(
    session: Session, world: World,
) -> None:
    rows = session.exec(select(OverlapRule)).all()
    assert len(rows) == len(rules.OVERLAPS)
    pair = [r for r in rows if (r.new_type, r.live_type) ==
            (E.VOLUNTARY_COMMUNITY, E.PENDING_COMPULSORY)]
    assert len(pair) == 1 and pair[0].needs_review and pair[0].legal_basis
    cid = world.clients["a1"]
    _free(session, cid)
    make_determination(session, cid, date(2026, 8, 1))
    _open(session, world, cid, E.PENDING_COMPULSORY, date(2026, 8, 2), held_at="family")
    pair[0].effective_to = date(2026, 8, 15)  # a correction: the law allows it from then on
    session.add(pair[0])
    session.flush()
    with pytest.raises(ValidationFailed):
        _open(session, world, cid, E.VOLUNTARY_COMMUNITY, date(2026, 8, 14), date(2026, 8, 14))
    assert _open(session, world, cid, E.VOLUNTARY_COMMUNITY, date(2026, 8, 16),
                 date(2026, 8, 16)).id  # type: ignore[attr-defined]
    # Admission is a row too: opening compulsory rehab ends the pending management.
    admission = session.exec(select(OverlapRule).where(
        OverlapRule.new_type == E.COMPULSORY,
        OverlapRule.live_type == E.PENDING_COMPULSORY)).one()
    assert admission.outcome == rules.ENDS_LIVE


def test_loading_the_overlap_rows_twice_adds_nothing(session: Session, world: World) -> None:
    assert rules.load_rules(session) == 0
    assert len(session.exec(select(OverlapRule)).all()) == len(rules.OVERLAPS)


# ---- 3. post-rehab proposals dismissed, terms kept ---------------------------------------------


def _completed(session: Session, world: World, cid: int) -> int:
    opened = _open(session, world, cid, E.MMT, date(2025, 1, 10))
    ep = session.get(Episode, opened.id)  # type: ignore[attr-defined]
    assert ep is not None
    ep.status, ep.end_reason, ep.actual_end = (EpisodeStatus.CLOSED, EndReason.COMPLETED,
                                               date(2026, 11, 1))
    session.add(ep)
    session.flush()
    assert ep.id is not None
    return ep.id


def test_a_post_rehab_proposal_is_dismissed_with_a_reason_and_audited(
    session: Session, world: World,
) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    ep = _completed(session, world, cid)
    sup = world.actor(session, "sup_a")
    assert ep in [p.previous_episode_id for p in
                  transitions.post_rehab_proposals(session=session, actor=sup)]
    with pytest.raises(ValidationFailed) as refused:
        transitions.dismiss_post_rehab(session=session, actor=sup, previous_episode_id=ep,
                                       reason="   ")
    assert refused.value.fields == {"reason": "error.reason_required"}
    with pytest.raises(PermissionDenied):
        transitions.dismiss_post_rehab(session=session, actor=world.actor(session, "vol_a1"),
                                       previous_episode_id=ep, reason="moved away")
    transitions.dismiss_post_rehab(session=session, actor=sup, previous_episode_id=ep,
                                   reason="Chuyển đi tỉnh khác")
    assert ep not in [p.previous_episode_id for p in
                      transitions.post_rehab_proposals(session=session, actor=sup)]
    kept = session.exec(select(PostRehabDismissal).where(
        PostRehabDismissal.previous_episode_id == ep)).one()
    assert kept.reason == "Chuyển đi tỉnh khác"
    event = session.exec(select(AuditEvent).where(
        AuditEvent.target_type == "episode", AuditEvent.target_id == ep,
        col(AuditEvent.detail).contains("dismissed"))).one()
    assert "Chuyển đi tỉnh khác" in event.detail
    # Gone for good: neither dismissed again nor accepted.
    with pytest.raises(ValidationFailed):
        transitions.dismiss_post_rehab(session=session, actor=sup, previous_episode_id=ep,
                                       reason="again")
    with pytest.raises(ValidationFailed):
        transitions.accept_post_rehab(session=session, actor=sup, previous_episode_id=ep)


def test_a_term_kept_as_it_is_leaves_the_review_until_the_rules_give_another_end(
    session: Session, world: World,
) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    old = Episode(client_id=cid, episode_type=E.VOLUNTARY_COMMUNITY,
                  start_date=date(2026, 8, 1), expected_end=date(2027, 2, 1))
    session.add(old)
    session.flush()
    sup = world.actor(session, "sup_a1")
    review = episodes.term_changes(session=session, actor=sup)
    assert [(c.episode_id, c.new_end) for c in review] == [(old.id, date(2028, 8, 1))]
    assert episodes.keep_terms(session=session, actor=sup,
                               versions={old.id or 0: review[0].version}) == 1
    session.refresh(old)
    assert old.expected_end == date(2027, 2, 1)  # kept
    assert old.term_kept_for == "2028-08-01"
    assert episodes.term_changes(session=session, actor=sup) == []
    assert session.exec(select(AuditEvent).where(
        AuditEvent.target_id == old.id, col(AuditEvent.detail).contains("term kept"))).first()
    # A later rule that gives yet another end proposes it again.
    rules.add_rule(session=session, actor=world.actor(session, "admin"), data=DurationRuleCreate(
        episode_type=E.VOLUNTARY_COMMUNITY, months=18, min_months=12, max_months=36,
        effective_from=date(2026, 7, 15), legal_basis="A correction", rehab_order="first"))
    assert [(c.episode_id, c.new_end) for c in episodes.term_changes(
        session=session, actor=sup)] == [(old.id, date(2028, 2, 1))]


# ---- 4. reduction bounds are the rule's row -----------------------------------------------------


def _reduce(session: Session, world: World, episode_id: int, months: int) -> object:
    return episodes.add_reduction(
        session=session, actor=world.actor(session, "sup_a"), episode_id=episode_id,
        data=EpisodeReductionCreate(months=months, decision_number=f"{months}/QĐ-TA",
                                    decision_date=date(2025, 12, 1)))


@pytest.mark.parametrize(("months", "ok"), [(2, False), (3, True), (6, True), (7, False)])
def test_a_compulsory_reduction_is_3_to_6_months(session: Session, world: World, months: int,
                                                 ok: bool) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    opened = _open(session, world, cid, E.COMPULSORY, date(2025, 3, 1), date(2025, 2, 20))
    eid = opened.id  # type: ignore[attr-defined]
    if ok:
        reduced = _reduce(session, world, eid, months)
        assert reduced.expected_end == add_months(date(2027, 3, 1), -months)  # type: ignore[attr-defined]
        return
    with pytest.raises(ValidationFailed) as refused:
        _reduce(session, world, eid, months)
    assert refused.value.fields == {"months": "error.reduction_bounds_law"}
    assert refused.value.params == {"low": 3, "high": 6}


def test_the_reduction_bounds_are_read_from_the_rule_row(session: Session,
                                                         world: World) -> None:
    cid = world.clients["a1"]
    _free(session, cid)
    opened = _open(session, world, cid, E.COMPULSORY, date(2025, 3, 1), date(2025, 2, 20))
    rule = session.get(DurationRule, opened.rule_id)  # type: ignore[attr-defined]
    assert rule is not None and (rule.reduction_min_months, rule.reduction_max_months) == (3, 6)
    rule.reduction_min_months, rule.reduction_max_months = 1, 2
    session.add(rule)
    session.flush()
    with pytest.raises(ValidationFailed):
        _reduce(session, world, opened.id, 3)  # type: ignore[attr-defined]
    assert _reduce(session, world, opened.id, 2).expected_end == date(2027, 1, 1)  # type: ignore[attr-defined]


def test_an_administrators_rule_row_carries_reduction_bounds(session: Session,
                                                             world: World) -> None:
    admin = world.actor(session, "admin")
    base = {"episode_type": E.COMPULSORY, "months": 18, "min_months": 12, "max_months": 24,
            "effective_from": date(2027, 1, 1), "legal_basis": "x", "age_band": "adult"}
    with pytest.raises(ValidationFailed) as refused:
        rules.add_rule(session=session, actor=admin, data=DurationRuleCreate(
            **base, reduction_min_months=3))  # type: ignore[arg-type]
    assert refused.value.fields == {"reduction_max_months": "error.reduction_bounds"}
    with pytest.raises(ValidationFailed):
        rules.add_rule(session=session, actor=admin, data=DurationRuleCreate(
            **base, reduction_min_months=7, reduction_max_months=6))  # type: ignore[arg-type]
    added = rules.add_rule(session=session, actor=admin, data=DurationRuleCreate(
        **base, reduction_min_months=2, reduction_max_months=5))  # type: ignore[arg-type]
    assert (added.reduction_min_months, added.reduction_max_months) == (2, 5)


# ---- 5. the 24-hour clocks count hours when the time is known ---------------------------------

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_positive_test_with_its_time_is_due_24_hours_later_with_the_hours_left(
    session: Session, world: World,
) -> None:
    sup = world.actor(session, "sup_a")
    timed = make_client(session, world.commune_a1, world.users["vol_a1"], name="Vũ Thị Giờ")
    dated = make_client(session, world.commune_a1, world.users["vol_a1"], name="Vũ Văn Ngày")
    saved = activities.record_drug_test(session=session, actor=world.actor(session, "vol_a1"),
                                        data=DrugTestCreate(client_id=timed,
                                                            tested_on=date(2026, 9, 14),
                                                            tested_time=time(21, 30),
                                                            result=TestResult.POSITIVE))
    test = session.get(DrugTest, saved.id)
    assert test is not None
    assert test.tested_at == datetime(2026, 9, 14, 21, 30, tzinfo=VN)
    # An older row (or a test saved offline): its date only, counted by whole days.
    session.add(DrugTest(client_id=dated, tested_on=date(2026, 9, 14),
                         result=TestResult.POSITIVE))
    session.flush()
    now = datetime(2026, 9, 15, 8, 0, tzinfo=VN)
    items = {i.client_id: i for i in deadlines.supervisor_deadlines(
        session=session, actor=sup, today=date(2026, 9, 15), now=now)
        if i.kind == "management_decision"}
    assert items[timed].due_at == datetime(2026, 9, 15, 21, 30, tzinfo=VN)
    assert (items[timed].due, items[timed].hours_left) == (date(2026, 9, 15), 14)
    assert (items[dated].due, items[dated].due_at, items[dated].hours_left) == (
        date(2026, 9, 15), None, None)
    # Overdue by 30 minutes: one hour overdue (rounded up).
    late = deadlines.supervisor_deadlines(session=session, actor=sup, today=date(2026, 9, 15),
                                          now=datetime(2026, 9, 15, 22, 0, tzinfo=VN))
    assert [i.hours_left for i in late if i.client_id == timed] == [-1]


def test_a_test_time_in_the_future_is_refused(session: Session, world: World) -> None:
    cid = make_client(session, world.commune_a1, world.users["vol_a1"], name="Vũ Văn Sớm")
    later = (datetime.now(VN) + timedelta(hours=1))
    if later.date() != today_vn():  # pragma: no cover - the last hour of the day
        pytest.skip("no later time today")
    with pytest.raises(ValidationFailed) as refused:
        activities.record_drug_test(
            session=session, actor=world.actor(session, "vol_a1"),
            data=DrugTestCreate(client_id=cid, tested_on=today_vn(),
                                tested_time=later.time().replace(microsecond=0),
                                result=TestResult.POSITIVE))
    assert refused.value.fields == {"tested_time": "error.date_range"}


def test_a_move_with_its_time_counts_its_notices_in_hours_and_a_notice_keeps_its_moment(
    session: Session, world: World,
) -> None:
    sup = world.actor(session, "sup_a")
    moved = records.record_move(
        session=session, actor=sup, client_id=world.clients["a2"],
        data=ResidenceChangeCreate(to_commune_id=world.commune_a1, moved_on=date(2026, 9, 14),
                                   moved_time=time(7, 0)))
    assert moved.moved_at == datetime(2026, 9, 14, 7, 0, tzinfo=VN)
    now = datetime(2026, 9, 14, 19, 0, tzinfo=VN)
    items = {i.kind: i for i in deadlines.supervisor_deadlines(
        session=session, actor=sup, today=date(2026, 9, 14), now=now)
        if i.ref_id == moved.id}
    assert {k: (i.due_at, i.hours_left) for k, i in items.items()} == {
        k: (datetime(2026, 9, 15, 7, 0, tzinfo=VN), 12)
        for k in ("transfer_notice", "notice_received", "arrival_report")}
    sent = datetime(2026, 9, 14, 16, 45, tzinfo=VN)
    records.record_move_notice(session=session, actor=sup, change_id=moved.id, which="sent",
                               on=date(2026, 9, 14), at=sent)
    row = session.get(ResidenceChange, moved.id)
    assert row is not None and row.notice_sent_at == sent
    assert row.notice_sent_on == date(2026, 9, 14)
    # A notice sent before the move is refused.
    with pytest.raises(ValidationFailed) as refused:
        records.record_move(
            session=session, actor=sup, client_id=world.clients["a1"],
            data=ResidenceChangeCreate(to_commune_id=world.commune_a2,
                                       moved_on=date(2026, 9, 14), moved_time=time(9, 0),
                                       notice_sent_on=date(2026, 9, 14),
                                       notice_sent_time=time(8, 0)))
    assert refused.value.fields == {"notice_sent_time": "error.date_range"}
