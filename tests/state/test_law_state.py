"""The law's screens through their State handlers: the supervisor's deadlines and terms to
confirm, the administrator's rule table, a client's legal records (issue 16)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page and State)
from app.pages.admin_rules import AdminRulesState
from app.pages.law_deadlines import DeadlinesState
from app.pages.law_records import LawRecordsState
from app.pages.law_terms import TermReviewState
from app.services.calendar import today_vn
from app.services.law import rules
from models import (
    AddictionDetermination,
    AuditEvent,
    DrugTest,
    DurationRule,
    EndReason,
    Episode,
    EpisodeStatus,
    EpisodeType,
    PostRehabDismissal,
    ResidenceChange,
    TestResult,
)
from tests.factories import World, make_client
from tests.state.conftest import page_state, run, session_token

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def test_terms_to_confirm_are_listed_and_confirmed_all_at_once(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    with Session(engine, expire_on_commit=False) as s:
        for ep in s.exec(select(Episode).where(Episode.client_id == world.clients["a1"])).all():
            ep.status = EpisodeStatus.CLOSED
            s.add(ep)
        old = Episode(client_id=world.clients["a1"], episode_type=EpisodeType.VOLUNTARY_COMMUNITY,
                      start_date=date(2026, 8, 1), expected_end=date(2027, 2, 1))
        s.add(old)
        s.commit()
        old_id = old.id
    state = page_state(TermReviewState, session_token(engine, world, "sup_a1"))
    run(state.load)
    assert [r["id"] for r in state.rows] == [str(old_id)]
    assert state.rows[0]["new"] == "01/08/2028"
    run(state.confirm_all)
    assert state.error == "" and state.saved_message == "Đã cập nhật 1 đợt."
    assert state.rows == []
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Episode, old_id)
        assert row is not None and row.expected_end == date(2028, 8, 1)


def test_an_administrator_checks_then_saves_a_rule_and_a_bad_one_is_refused(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    state = page_state(AdminRulesState, session_token(engine, world, "admin"), "/admin/rules")
    run(state.load)
    assert len(state.rules) == len(rules.TERMS_2021) + len(rules.TERMS_2025)
    form = {"episode_type": "post_rehab", "age_band": "adult", "rehab_order": "any",
            "previous_type": "compulsory", "months": "18", "min_months": "12",
            "max_months": "24", "effective_from": "2027-01-01", "effective_to": "",
            "legal_basis": "Nghị định sửa đổi (giả định)", "source": "test",
            "counts_from": "start", "needs_review": "on"}
    run(state.check_add, form)
    assert state.error == "" and state.pending == "add"
    with Session(engine, expire_on_commit=False) as s:
        before = len(s.exec(select(DurationRule)).all())
    run(state.save)
    assert state.saved_message and state.pending == ""
    with Session(engine, expire_on_commit=False) as s:
        assert len(s.exec(select(DurationRule)).all()) == before + 1
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "rule.edit")).first()
    # Answered in the page: the problem under its field, the focus sent to the first one.
    answer = run(state.check_add, {**form, "months": "30"})  # outside its own bounds
    assert state.errors["months"] and state.pending == ""
    assert "rule-add-form" in str(answer)
    run(state.check_close, {"rule_id": "999999", "close_effective_to": "2027-01-01"})
    assert state.errors["rule_id"] and state.pending == ""
    # Closing a row shown on screen: checked, then saved.
    first = state.rules[0]["id"]
    run(state.check_close, {"rule_id": first, "close_effective_to": "2023-01-01"})
    assert state.error == "" and state.pending == "close"
    run(state.save)
    with Session(engine, expire_on_commit=False) as s:
        closed = s.get(DurationRule, int(first))
        assert closed is not None and closed.effective_to == date(2023, 1, 1)


def test_a_positive_test_shows_a_decision_due_and_only_shown_rows_can_be_acted_on(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    today = today_vn()
    with Session(engine, expire_on_commit=False) as s:
        lone = make_client(s, world.commune_a1, world.users["vol_a1"], name="Mai Văn Lẻ")
        s.add(DrugTest(client_id=lone, tested_on=today - timedelta(days=1),
                       result=TestResult.POSITIVE))
        s.commit()
    state = page_state(DeadlinesState, session_token(engine, world, "sup_a"))
    run(state.load)
    kinds = {(r["kind"], r["client"]) for r in state.deadlines}
    if today - timedelta(days=1) >= rules.LAW_2025_FROM:
        assert ("management_decision", "Mai Văn Lẻ") in kinds
    run(state.accept_post_rehab, "424242")
    assert state.deadline_error
    run(state.mark_done, "transfer_notice", "424242")
    assert state.deadline_error


def test_a_volunteer_records_a_determination_on_the_legal_records_screen(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    state = page_state(LawRecordsState, session_token(engine, world, "vol_a1"),
                       f"/clients/{cid}/law")
    run(state.load)
    assert state.view == "found" and not state.can_reduce
    run(state.add_determination, {"determined_on": "2025-06-02", "dependent": "on",
                                  "facility_name": "Trung tâm y tế khu vực"})
    assert state.saved_message == "Đã ghi kết quả xác định."
    assert not any(state.errors.values())
    assert state.determinations[0]["valid"] == "02/12/2025"
    with Session(engine, expire_on_commit=False) as s:
        assert s.exec(select(AddictionDetermination)).one().dependent
        ended = s.get(Episode, world.episodes["a1_open"])
        assert ended is not None and ended.status == EpisodeStatus.CLOSED
    # Another volunteer's client: the screen says not found, and nothing is written.
    other = page_state(LawRecordsState, session_token(engine, world, "vol_a1"),
                       f"/clients/{world.clients['a2']}/law")
    run(other.load)
    assert other.view == "missing"
    run(other.add_determination, {"determined_on": "2025-06-02", "facility_name": "X"})
    with Session(engine, expire_on_commit=False) as s:
        assert len(s.exec(select(AddictionDetermination)).all()) == 1


# ---- issue 16's gaps through the screens ----------------------------------------------------


def _free(engine: Engine, client_id: int) -> None:
    with Session(engine, expire_on_commit=False) as s:
        for ep in s.exec(select(Episode).where(Episode.client_id == client_id)).all():
            ep.status = EpisodeStatus.CLOSED
            s.add(ep)
        s.commit()


def test_the_legal_records_forms_answer_under_each_field_and_focus_the_first_problem(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    state = page_state(LawRecordsState, session_token(engine, world, "vol_a1"),
                       f"/clients/{cid}/law")
    run(state.load)
    answer = run(state.add_determination, {"determined_on": "2025-06-02",
                                           "facility_name": ""})
    assert state.errors["facility_name"] == "Cần ghi cơ sở xác định tình trạng nghiện."
    assert "determination-form" in str(answer) and state.saved_message == ""
    with Session(engine, expire_on_commit=False) as s:
        assert s.exec(select(AddictionDetermination)).first() is None
    # A move with its time: kept with the date (the 24-hour notices count hours).
    answer = run(state.record_move, {"to_commune_id": str(world.commune_a2),
                                     "moved_on": "2025-06-02", "moved_time": "07:30"})
    assert state.saved_message and not any(state.errors.values())
    assert "move-form" in str(answer)  # emptied once saved
    with Session(engine, expire_on_commit=False) as s:
        change = s.exec(select(ResidenceChange)).one()
        assert change.moved_at is not None
        assert change.moved_at.astimezone(VN).time().isoformat() == "07:30:00"


def test_a_reduction_outside_the_rules_bounds_is_refused_under_its_field(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    _free(engine, cid)
    with Session(engine, expire_on_commit=False) as s:
        rule = s.exec(select(DurationRule).where(
            DurationRule.episode_type == EpisodeType.COMPULSORY,
            DurationRule.age_band == "adult",
            DurationRule.effective_from == rules.LAW_2021_FROM)).one()
        ep = Episode(client_id=cid, episode_type=EpisodeType.COMPULSORY,
                     start_date=date(2025, 3, 1), decision_date=date(2025, 2, 20),
                     expected_end=date(2027, 3, 1), rule_id=rule.id)
        s.add(ep)
        s.commit()
        eid = ep.id
    state = page_state(LawRecordsState, session_token(engine, world, "sup_a"),
                       f"/clients/{cid}/law")
    run(state.load)
    form = {"reduce_episode_id": str(eid), "reduce_months": "2",
            "reduce_decision_number": "7/QĐ-TA", "reduce_decision_date": "2025-12-01"}
    answer = run(state.add_reduction, form)
    assert state.errors["reduce_months"] == (
        "Mỗi lần giảm thời hạn phải từ 3 đến 6 tháng theo quy định áp dụng cho đợt này.")
    assert "reduction-form" in str(answer)
    run(state.add_reduction, {**form, "reduce_months": "3"})
    assert not any(state.errors.values()) and state.saved_message
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Episode, eid)
        assert row is not None and row.expected_end == date(2026, 12, 1)


def test_a_supervisor_dismisses_a_post_rehab_proposal_with_a_reason(
    world_db: World, engine: Engine,
) -> None:
    world = world_db
    cid = world.clients["a1"]
    _free(engine, cid)
    end = today_vn() - timedelta(days=3)
    with Session(engine, expire_on_commit=False) as s:
        ep = Episode(client_id=cid, episode_type=EpisodeType.MMT, start_date=date(2024, 1, 1),
                     status=EpisodeStatus.CLOSED, end_reason=EndReason.COMPLETED,
                     actual_end=end)
        s.add(ep)
        s.commit()
        eid = ep.id
    state = page_state(DeadlinesState, session_token(engine, world, "sup_a"))
    run(state.load)
    assert f"post_rehab_decision-{eid}" in {r["id"] for r in state.deadlines}
    answer = run(state.dismiss_post_rehab, {"ref": str(eid), "reason": "  "})
    assert (state.dismiss_ref, state.dismiss_error) == (str(eid), "Cần ghi lý do.")
    assert f"dismiss-form-{eid}" in str(answer)
    run(state.dismiss_post_rehab, {"ref": str(eid), "reason": "Đã chuyển đi tỉnh khác"})
    assert state.dismiss_error == ""
    assert state.saved_message == "Đã ghi: không mở quản lý sau cai."
    assert f"post_rehab_decision-{eid}" not in {r["id"] for r in state.deadlines}
    with Session(engine, expire_on_commit=False) as s:
        assert s.exec(select(PostRehabDismissal)).one().reason == "Đã chuyển đi tỉnh khác"
    # A row not on screen is refused unsent.
    run(state.dismiss_post_rehab, {"ref": "424242", "reason": "x"})
    assert state.deadline_error


def test_a_timed_positive_test_shows_the_hours_left(world_db: World, engine: Engine) -> None:
    world = world_db
    now = datetime.now(VN)
    if now.date() < rules.LAW_2025_FROM:  # pragma: no cover - the clock exists since then
        pytest.skip("no 24-hour clock before 1 July 2026")
    tested = now - timedelta(hours=3)
    with Session(engine, expire_on_commit=False) as s:
        lone = make_client(s, world.commune_a1, world.users["vol_a1"], name="Mai Văn Giờ")
        s.add(DrugTest(client_id=lone, tested_on=tested.date(), tested_at=tested,
                       result=TestResult.POSITIVE))
        s.commit()
    state = page_state(DeadlinesState, session_token(engine, world, "sup_a"))
    run(state.load)
    row = next(r for r in state.deadlines if r["client"] == "Mai Văn Giờ")
    assert row["when_vi"] in ("Còn 21 giờ", "Còn 20 giờ")  # a minute may pass meanwhile
    assert row["when_en"].endswith("h left")


def test_a_supervisor_keeps_a_term_as_it_is(world_db: World, engine: Engine) -> None:
    world = world_db
    _free(engine, world.clients["a1"])
    with Session(engine, expire_on_commit=False) as s:
        old = Episode(client_id=world.clients["a1"],
                      episode_type=EpisodeType.VOLUNTARY_COMMUNITY,
                      start_date=date(2026, 8, 1), expected_end=date(2027, 2, 1))
        s.add(old)
        s.commit()
        old_id = old.id
    state = page_state(TermReviewState, session_token(engine, world, "sup_a1"))
    run(state.load)
    assert [r["id"] for r in state.rows] == [str(old_id)]
    run(state.keep_one, str(old_id))
    assert state.error == "" and state.saved_message == "Đã giữ nguyên thời hạn của 1 đợt."
    assert state.rows == []
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Episode, old_id)
        assert row is not None and row.expected_end == date(2027, 2, 1)
