"""Transitions between episodes, the law's other records, its deadlines and working days."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, select

from app.services import calendar
from app.services.calendar import add_working_days, seed_holidays, today_vn
from app.services.dto import EpisodeCreate
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from app.services.law import deadlines, episodes, records, rules, transitions
from app.services.law.dto import (
    DeterminationCreate,
    FaultCreate,
    MonitoringCreate,
    ResidenceChangeCreate,
)
from models import (
    Client,
    DrugTest,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    TestResult,
)
from tests.factories import World, determined_if_voluntary, make_client

E = EpisodeType
TODAY = today_vn()


def _free(session: Session, client_id: int) -> None:
    for ep in session.exec(select(Episode).where(Episode.client_id == client_id)).all():
        ep.status = EpisodeStatus.CLOSED
        ep.end_reason = EndReason.QUIT
        session.add(ep)
    session.flush()


def _open(session: Session, world: World, client_id: int, t: EpisodeType, start: date,
          **extra: object) -> int:
    determined_if_voluntary(session, client_id, t, extra.get("decision_date"),  # type: ignore[arg-type]
                            start)
    opened = episodes.open_episode(
        session=session, actor=world.actor(session, "sup_a"), client_id=client_id,
        data=EpisodeCreate(episode_type=t, start_date=start, **extra))  # type: ignore[arg-type]
    return opened.id


def _complete(session: Session, world: World, episode_id: int, on: date) -> None:
    ep = session.get(Episode, episode_id)
    assert ep is not None
    episodes.propose_closure(session=session, actor=world.actor(session, "sup_a"),
                             episode_id=episode_id, end_reason=EndReason.COMPLETED,
                             actual_end=on, expected_version=ep.version)
    session.refresh(ep)
    episodes.approve_closure(session=session, actor=world.actor(session, "sup_a"),
                             episode_id=episode_id, expected_version=ep.version)


# ---- post-rehab proposals ---------------------------------------------------------------------


@pytest.mark.parametrize(("birth_year", "previous", "start", "months"), [
    (1990, E.COMPULSORY, date(2024, 1, 10), 24),   # adult after compulsory: 2 years
    (2009, E.COMPULSORY, date(2024, 1, 10), 12),   # minor after compulsory: 1 year
    (1990, E.VOLUNTARY_COMMUNITY, date(2025, 1, 10), 12),
    (1990, E.MMT, date(2023, 1, 10), 12),
])
def test_the_end_of_rehab_proposes_post_rehab_with_its_term_from_the_episode_and_age(
    session: Session, world: World, birth_year: int, previous: EpisodeType, start: date,
    months: int,
) -> None:
    cid = make_client(session, world.commune_a1, world.users["vol_a1"], name="Đỗ Văn Giang",
                      birth_year=birth_year, birth_date=date(birth_year, 2, 1))
    ep = _open(session, world, cid, previous, start, decision_date=start)
    end = date(2025, 12, 1)
    _complete(session, world, ep, end)
    sup = world.actor(session, "sup_a")
    proposals = [p for p in transitions.post_rehab_proposals(session=session, actor=sup)
                 if p.client_id == cid]
    assert [(p.previous_episode_id, p.start_date, p.months) for p in proposals] == [
        (ep, end, months)]
    accepted = transitions.accept_post_rehab(session=session, actor=sup, previous_episode_id=ep,
                                             decision_number="3/QĐ-UBND",
                                             decision_date=date(2025, 12, 2))
    assert accepted.episode_type == E.POST_REHAB
    assert (accepted.start_date, accepted.previous_episode_id) == (end, ep)
    assert accepted.expected_end == calendar.add_months(end, months)
    assert not [p for p in transitions.post_rehab_proposals(session=session, actor=sup)
                if p.client_id == cid]
    with pytest.raises(ValidationFailed):
        transitions.accept_post_rehab(session=session, actor=sup, previous_episode_id=ep)


def test_a_quit_rehab_proposes_nothing_and_volunteers_cannot_accept(session: Session,
                                                                    world: World) -> None:
    _free(session, world.clients["a1"])
    ep = _open(session, world, world.clients["a1"], E.VOLUNTARY_COMMUNITY, date(2025, 1, 1))
    row = session.get(Episode, ep)
    assert row is not None
    episodes.propose_closure(session=session, actor=world.actor(session, "sup_a"),
                             episode_id=ep, end_reason=EndReason.QUIT,
                             actual_end=date(2025, 3, 1), expected_version=row.version)
    session.refresh(row)
    episodes.approve_closure(session=session, actor=world.actor(session, "sup_a"),
                             episode_id=ep, expected_version=row.version)
    assert transitions.post_rehab_proposals(session=session,
                                            actor=world.actor(session, "sup_a")) == []
    with pytest.raises(PermissionDenied):
        transitions.accept_post_rehab(session=session, actor=world.actor(session, "vol_a1"),
                                      previous_episode_id=ep)
    with pytest.raises(NotFound):
        transitions.accept_post_rehab(session=session, actor=world.actor(session, "sup_b"),
                                      previous_episode_id=ep)


# ---- determination, monitoring, moves ---------------------------------------------------------


def test_a_determination_of_dependence_ends_illegal_use_management(session: Session,
                                                                    world: World) -> None:
    vol = world.actor(session, "vol_a1")
    found = records.record_determination(
        session=session, actor=vol, client_id=world.clients["a1"],
        data=DeterminationCreate(determined_on=date(2025, 6, 2), dependent=True,
                                 facility_id=world.facility_a))
    assert found.ended_episode_id == world.episodes["a1_open"]
    assert found.valid_until == date(2025, 12, 2)  # 6 months for a voluntary registration
    ended = session.get(Episode, world.episodes["a1_open"])
    assert ended is not None
    assert (ended.status, ended.end_reason, ended.actual_end) == (
        EpisodeStatus.CLOSED, EndReason.DEPENDENT, date(2025, 6, 2))
    # Once the post-rehab episode's proposed closure is approved, a rehab may be opened.
    episodes.approve_closure(session=session, actor=world.actor(session, "sup_a"),
                             episode_id=world.episodes["a1_proposed"], expected_version=1)
    _open(session, world, world.clients["a1"], E.VOLUNTARY_COMMUNITY, date(2025, 6, 10))


def test_a_determination_of_no_dependence_leaves_the_management_running(session: Session,
                                                                       world: World) -> None:
    found = records.record_determination(
        session=session, actor=world.actor(session, "vol_a1"), client_id=world.clients["a1"],
        data=DeterminationCreate(determined_on=date(2025, 6, 2), dependent=False,
                                 facility_name="Trạm y tế xã"))
    assert found.ended_episode_id is None
    still = session.get(Episode, world.episodes["a1_open"])
    assert still is not None and still.status == EpisodeStatus.OPEN


def test_electronic_monitoring_only_on_the_episodes_article_12_names(session: Session,
                                                                      world: World) -> None:
    sup = world.actor(session, "sup_a")
    _free(session, world.clients["a1"])
    compulsory = _open(session, world, world.clients["a1"], E.COMPULSORY, date(2026, 7, 5))
    decision = {"decision_number": "1/QĐ-CAX", "decision_date": date(2026, 7, 10),
                "device": "Vòng đeo GPS-01", "start_on": date(2026, 7, 10)}
    with pytest.raises(ValidationFailed) as failed:
        records.start_monitoring(session=session, actor=sup,
                                 data=MonitoringCreate(episode_id=compulsory, **decision))
    assert "episode_id" in failed.value.fields
    _free(session, world.clients["a1"])
    community = _open(session, world, world.clients["a1"], E.VOLUNTARY_COMMUNITY,
                      date(2026, 7, 5))
    with pytest.raises(ValidationFailed) as early:
        records.start_monitoring(session=session, actor=sup, data=MonitoringCreate(
            episode_id=community, **{**decision, "decision_date": date(2026, 6, 30)}))
    assert early.value.fields == {"decision_date": "error.monitoring_date"}
    started = records.start_monitoring(session=session, actor=sup,
                                       data=MonitoringCreate(episode_id=community, **decision))
    faulted = records.record_fault(session=session, actor=sup, monitoring_id=started.id,
                                   data=FaultCreate(occurred_on=date(2026, 8, 1),
                                                    description="Mất tín hiệu 6 giờ"))
    assert faulted.faults == 1
    assert [m.device for m in records.monitorings(session=session, actor=sup,
                                                  client_id=world.clients["a1"])] == [
        "Vòng đeo GPS-01"]


def test_a_move_changes_the_commune_and_its_notices_are_recorded_by_each_side(
    session: Session, world: World,
) -> None:
    moved = records.record_move(
        session=session, actor=world.actor(session, "vol_a1"), client_id=world.clients["a1"],
        data=ResidenceChangeCreate(to_commune_id=world.commune_a2, moved_on=TODAY))
    client = session.get(Client, world.clients["a1"])
    assert client is not None and client.commune_id == world.commune_a2
    # The old commune's supervisor sends the notice; the new one records the person's report.
    with pytest.raises(PermissionDenied):
        records.record_move_notice(session=session, actor=world.actor(session, "sup_b"),
                                   change_id=moved.id, which="sent", on=TODAY)
    sent = records.record_move_notice(session=session, actor=world.actor(session, "sup_a1"),
                                      change_id=moved.id, which="sent", on=TODAY)
    assert sent.notice_sent_on == TODAY
    reported = records.record_move_notice(session=session, actor=world.actor(session, "sup_a"),
                                          change_id=moved.id, which="reported", on=TODAY)
    assert reported.reported_on == TODAY


# ---- deadlines --------------------------------------------------------------------------------


def test_the_supervisors_deadlines(session: Session, world: World) -> None:
    today = date(2026, 9, 15)
    sup = world.actor(session, "sup_a")
    # A positive test of a person under no management: a decision within 24 hours.
    lone = make_client(session, world.commune_a1, world.users["vol_a1"], name="Vũ Thị Hoa")
    session.add(DrugTest(client_id=lone, tested_on=date(2026, 9, 14),
                         result=TestResult.POSITIVE))
    # The same before 1 July 2026: no 24-hour clock then.
    old = make_client(session, world.commune_a1, None, name="Vũ Văn Cũ")
    session.add(DrugTest(client_id=old, tested_on=date(2026, 6, 20), result=TestResult.POSITIVE))
    # A person under management who tests positive: nothing to decide.
    session.add(DrugTest(client_id=world.clients["a1"], tested_on=date(2025, 6, 1),
                         result=TestResult.POSITIVE))
    # A move on 14 September not yet notified.
    records.record_move(session=session, actor=sup, client_id=world.clients["a2"],
                        data=ResidenceChangeCreate(to_commune_id=world.commune_a1,
                                                   moved_on=date(2026, 9, 14)))
    # A community rehab with a provider who has not sent its start notice: 5 working days
    # from Friday 28 August 2026 skip the weekend, 31 August (a day off in lieu) and 1-2
    # September (National Day): 3, 4, 7, 8, 9 September.
    seed_holidays(session=session, years=[2026])
    rehab = make_client(session, world.commune_a1, None, name="Lý Văn Khoa")
    ep = Episode(client_id=rehab, episode_type=E.VOLUNTARY_COMMUNITY,
                 start_date=date(2026, 8, 28), expected_end=date(2028, 8, 28),
                 provider_id=world.facility_a)
    session.add(ep)
    session.flush()
    items = deadlines.supervisor_deadlines(session=session, actor=sup, today=today)
    got = {(i.kind, i.client_id, i.due) for i in items}
    assert ("management_decision", lone, date(2026, 9, 15)) in got
    assert not any(i.client_id in (old, world.clients["a1"]) and
                   i.kind == "management_decision" for i in items)
    assert ("transfer_notice", world.clients["a2"], date(2026, 9, 15)) in got
    assert ("arrival_report", world.clients["a2"], date(2026, 9, 15)) in got
    assert ("notice_received", world.clients["a2"], date(2026, 9, 15)) in got
    assert ("provider_notice_start", rehab, date(2026, 9, 9)) in got
    assert [i.due for i in items] == sorted(i.due for i in items)
    # A completed rehab whose post-rehab term would be over by now proposes nothing here.
    old_rehab = make_client(session, world.commune_a1, None, name="Cao Văn Xưa")
    session.add(Episode(client_id=old_rehab, episode_type=E.VOLUNTARY_COMMUNITY,
                        start_date=date(2022, 3, 1), status=EpisodeStatus.CLOSED,
                        end_reason=EndReason.COMPLETED, actual_end=date(2022, 9, 1)))
    session.flush()
    later = deadlines.supervisor_deadlines(session=session, actor=sup, today=today)
    assert not any(i.client_id == old_rehab for i in later)
    assert [p.client_id for p in transitions.post_rehab_proposals(session=session, actor=sup)
            if p.client_id == old_rehab] == [old_rehab]
    records.record_provider_notice(session=session, actor=sup, episode_id=ep.id or 0,
                                   which="start", on=date(2026, 9, 3))
    after = deadlines.supervisor_deadlines(session=session, actor=sup, today=today)
    assert not any(i.kind == "provider_notice_start" for i in after)
    # Another province sees none of it.
    other = deadlines.supervisor_deadlines(session=session,
                                           actor=world.actor(session, "sup_b"), today=today)
    assert {i.client_id for i in other}.isdisjoint({lone, rehab, world.clients["a2"]})


# ---- working days -----------------------------------------------------------------------------


def test_the_provider_clock_counts_working_days_from_the_holiday_rows(session: Session) -> None:
    rules.load_rules(session)
    assert seed_holidays(session=session, years=[2026]) > 0
    clock = rules.clock_for(session, "provider_notice", date(2026, 4, 24))
    assert clock is not None and (clock.amount, clock.unit) == (5, "working_days")
    # Friday 24 April 2026: 27 April (Hùng Kings, observed), 30 April and 1 May are days off.
    assert rules.due_date(session, clock, date(2026, 4, 24)) == date(2026, 5, 6)
    assert add_working_days(session=session, start=date(2026, 4, 24), days=5) == date(2026, 5, 6)
