"""The record forms' States, driven without a browser: scope, refusals, audit, idempotency.

Each test signs a real user in (a real server-side session in a real SQLite file), puts the
token where the browser's cookie would be, points the router at the form's URL and calls the
handlers as Reflex would.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from reflex.istate.data import ReflexURL, RouterData
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import app.app  # noqa: F401  (registers every page and State)
from app.pages.drug_test import DrugTestState
from app.pages.group_activity import GroupActivityState
from app.pages.outreach import OutreachState
from app.pages.referral import ReferralState
from app.pages.support import SupportState
from app.pages.visit import VisitState
from app.services import activities
from app.services.calendar import today_vn
from app.services.dto import VisitCreate
from app.state.guard import HANDLER_ROLES
from app.state.session import AppState
from models import (
    AuditEvent,
    DrugTest,
    GroupActivity,
    GroupActivityClient,
    Organisation,
    OrgKind,
    OutreachContact,
    Referral,
    Support,
    Visit,
    VisitKind,
)
from tests.factories import World, count
from tests.state.conftest import page_state, run, sign_in

TODAY = today_vn().isoformat()

# Every client-bound form: its State, URL segment, a valid submission, and the table it fills.
CLIENT_FORMS: dict[str, tuple[type[AppState], str, dict[str, Any], type[SQLModel]]] = {
    "visit": (VisitState, "visit", {"kind": "home", "visit_date": TODAY,
                                    "content_counselling": "on"}, Visit),
    "test": (DrugTestState, "test", {"tested_on": TODAY, "sample": "urine", "method": "rapid",
                                     "result": "negative", "substance_heroin": "on"}, DrugTest),
    "referral": (ReferralState, "referral", {"service": "mmt", "referred_on": TODAY,
                                             "consent": "on"}, Referral),
    "support": (SupportState, "support", {"kind": "loan", "started_on": TODAY,
                                          "amount_vnd": "50.000.000", "term_months": "24"},
                Support),
}


def _denials(engine: Engine, target_type: str, target_id: int) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(
            AuditEvent.outcome == "denied", AuditEvent.target_type == target_type,
            AuditEvent.target_id == target_id,
        )).all())


def _count(engine: Engine, model: type[SQLModel]) -> int:
    with Session(engine) as s:
        return count(s, model)


# ---- the registry ---------------------------------------------------------------------------


def test_every_record_form_handler_is_for_volunteers_and_supervisors_only() -> None:
    names = ("VisitState", "DrugTestState", "ReferralState", "SupportState", "OutreachState",
             "GroupActivityState")
    handlers = {n: r for n, r in HANDLER_ROLES.items() if n.split(".")[0] in names}
    assert set(handlers) == {
        *(f"{n}.{h}" for n in names for h in ("load", "save")),
        "GroupActivityState.filter_clients",
        "ReferralState.pick_service",
    }
    assert {frozenset(r.value for r in roles) for roles in handlers.values()} == {
        frozenset({"volunteer", "supervisor"})
    }


# ---- another volunteer's client -----------------------------------------------------------


@pytest.mark.parametrize("form", sorted(CLIENT_FORMS))
def test_another_volunteers_client_in_the_url_is_not_found_audited_and_nothing_is_written(
    world_db: World, engine: Engine, form: str
) -> None:
    cls, segment, submission, table = CLIENT_FORMS[form]
    theirs = world_db.clients["a2"]  # vol_a2's client
    state = page_state(cls, sign_in(engine, "vol_a1"), f"/clients/{theirs}/{segment}")
    before = len(_denials(engine, "client", theirs))

    run(state.load)
    assert state.not_found is True
    assert state.client_name == ""
    run(state.save, submission)
    assert state.not_found is True
    assert state.error == "Không tìm thấy."

    assert len(_denials(engine, "client", theirs)) >= before + 2  # the open and the save
    assert _count(engine, table) == 0 or form == "referral"
    if form == "referral":  # the world holds referrals of its own: none for this client now
        with Session(engine) as s:
            assert s.exec(select(Referral).where(Referral.client_id == theirs,
                                                 Referral.author_id.is_not(None))).all() == []  # type: ignore[union-attr]


@pytest.mark.parametrize("form", sorted(CLIENT_FORMS))
def test_own_client_is_saved_once_even_when_the_same_submission_arrives_twice(
    world_db: World, engine: Engine, form: str
) -> None:
    cls, segment, submission, table = CLIENT_FORMS[form]
    mine = world_db.clients["a1"]
    state = page_state(cls, sign_in(engine, "vol_a1"), f"/clients/{mine}/{segment}")
    run(state.load)
    assert state.not_found is False and state.client_name == "Lê Văn Cường"
    before = _count(engine, table)
    data = {**submission, "submission_key": state.form_key}

    first = run(state.save, data)
    second = run(state.save, data)  # a double tap: the same key again

    assert state.error == "" and state.field_errors == {}
    assert _count(engine, table) == before + 1
    redirects = [e for e in first + second if getattr(e, "handler", None) is not None]
    assert len(redirects) == 2  # both go back to the profile
    assert state.form_key != data["submission_key"]  # renewed after the save


def test_a_supervisors_drug_test_keeps_its_time_for_the_24_hour_clock(
    world_db: World, engine: Engine
) -> None:
    mine = world_db.clients["a1"]
    state = page_state(DrugTestState, sign_in(engine, "sup_a1"), f"/clients/{mine}/test")
    run(state.load)
    yesterday = (today_vn() - timedelta(days=1)).isoformat()
    run(state.save, {**CLIENT_FORMS["test"][2], "tested_on": yesterday,
                     "tested_time": "21:30", "submission_key": state.form_key})
    assert state.error == "" and state.field_errors == {}
    with Session(engine) as s:
        test = s.exec(select(DrugTest)).one()
        assert test.tested_at is not None
        local = test.tested_at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
        assert (local.date().isoformat(), local.strftime("%H:%M")) == (yesterday, "21:30")


def test_a_future_visit_date_is_refused_next_to_the_field_and_nothing_is_written(
    world_db: World, engine: Engine
) -> None:
    mine = world_db.clients["a1"]
    state = page_state(VisitState, sign_in(engine, "vol_a1"), f"/clients/{mine}/visit")
    run(state.load)
    key = state.form_key
    future = (today_vn() + timedelta(days=1)).isoformat()
    run(state.save, {"kind": "home", "visit_date": future, "submission_key": key})
    assert "tương lai" in state.field_errors["visit_date"]
    assert state.form_key == key  # not renewed: the retry is the same submission
    assert _count(engine, Visit) == 0


def test_a_loan_amount_that_is_not_a_number_is_refused_next_to_the_field(
    world_db: World, engine: Engine
) -> None:
    mine = world_db.clients["a1"]
    state = page_state(SupportState, sign_in(engine, "vol_a1"), f"/clients/{mine}/support")
    run(state.load)
    run(state.save, {"kind": "loan", "started_on": TODAY, "amount_vnd": "50 triệu",
                     "term_months": "12"})
    assert "50.000.000" in state.field_errors["amount_vnd"]
    assert _count(engine, Support) == 0


# ---- outreach and group activities --------------------------------------------------------


def test_outreach_in_a_commune_outside_the_volunteers_is_refused_audited_and_not_written(
    world_db: World, engine: Engine
) -> None:
    state = page_state(OutreachState, sign_in(engine, "vol_a1"), "/outreach")
    run(state.load)
    assert [c["id"] for c in state.communes] == [str(world_db.commune_a1)]
    run(state.save, {"contact_date": TODAY, "place_id": str(world_db.commune_b1),
                     "category": "relative", "count": "5"})
    assert state.error == "Bạn không có quyền làm việc này."
    assert _denials(engine, "place", world_db.commune_b1)
    assert _count(engine, OutreachContact) == 0


def test_outreach_never_stores_a_client_id_sent_with_the_form(
    world_db: World, engine: Engine
) -> None:
    state = page_state(OutreachState, sign_in(engine, "vol_a1"), "/outreach")
    run(state.load)
    run(state.save, {"contact_date": TODAY, "place_id": str(world_db.commune_a1),
                     "category": "relative", "count": "5",
                     "client_id": str(world_db.clients["a2"])})
    with Session(engine) as s:
        rows = s.exec(select(OutreachContact)).all()
    assert [(r.count, r.client_id) for r in rows] == [(5, None)]
    assert "5" in state.success


def test_a_group_activity_naming_a_client_out_of_scope_is_not_found_audited_and_not_written(
    world_db: World, engine: Engine
) -> None:
    theirs = world_db.clients["a2"]  # vol_a2's client
    state = page_state(GroupActivityState, sign_in(engine, "vol_a1"), "/group-activity")
    run(state.load)
    assert state.records_groups is True
    assert {o["id"] for o in state.client_options} == {str(world_db.clients["a1"])}
    before = len(_denials(engine, "client", theirs))
    run(state.save, {"kind": "thematic_talk", "held_on": TODAY,
                     "place_id": str(world_db.commune_a1), "attendees_total": "10",
                     f"client_{world_db.clients['a1']}": "on", f"client_{theirs}": "on"})
    assert state.error == "Không tìm thấy."
    assert len(_denials(engine, "client", theirs)) == before + 1
    assert _count(engine, GroupActivity) == 0 and _count(engine, GroupActivityClient) == 0


def test_the_group_organisers_are_the_facilities_of_the_volunteers_province_as_options(
    world_db: World, engine: Engine
) -> None:
    with Session(engine) as s:
        s.add(Organisation(name='Đội <b>"A"</b> & bạn', kind=OrgKind.VOLUNTEER_TEAM,
                           place_id=world_db.province_a))
        s.commit()
    state = page_state(GroupActivityState, sign_in(engine, "vol_a1"), "/group-activity")
    run(state.load)
    html = state.organiser_options
    assert f'<option value="{world_db.facility_a}">Cơ sở điều trị A</option>' in html
    assert f'value="{world_db.facility_b}"' not in html  # province B: never offered
    assert "Đội &lt;b&gt;&quot;A&quot;&lt;/b&gt; &amp; bạn</option>" in html  # escaped
    assert html.count("<option ") == 2


def test_the_group_client_filter_finds_only_clients_in_scope_ignoring_accents(
    world_db: World, engine: Engine
) -> None:
    state = page_state(GroupActivityState, sign_in(engine, "sup_a"), "/group-activity")
    run(state.load)
    run(state.filter_clients, "pham thi")
    names = {o["id"]: o["name"] for o in state.client_options}
    assert [names[i] for i in state.shown] == ["Phạm Thị Dung"]
    assert str(world_db.clients["b1"]) not in names  # province B: never offered


def test_a_volunteer_records_a_group_talk_with_their_own_client_present(
    world_db: World, engine: Engine
) -> None:
    mine = world_db.clients["a1"]
    state = page_state(GroupActivityState, sign_in(engine, "vol_a1"), "/group-activity")
    run(state.load)
    assert state.records_groups is True
    data = {"kind": "thematic_talk", "held_on": TODAY, "place_id": str(world_db.commune_a1),
            "attendees_total": "12", f"client_{mine}": "on", "submission_key": state.form_key}
    run(state.save, data)
    run(state.save, data)  # a double tap
    with Session(engine) as s:
        rows = s.exec(select(GroupActivity)).all()
        present = s.exec(select(GroupActivityClient.client_id)).all()
    assert [(r.attendees_total, r.attendees_clients) for r in rows] == [(12, 1)]
    assert present == [mine]
    assert "1" in state.success


# ---- a key kept after a lost answer -------------------------------------------------------


def _goto(state: Any, path: str) -> None:
    """The same browser tab navigates: the router of its root state points elsewhere."""
    root = state
    while root.parent_state is not None:
        root = root.parent_state
    root.router = RouterData(url=ReflexURL(f"http://localhost{path}"), headers=root.router.headers)


def _lost_answer(engine: Engine, world: World, client_id: int, key: str) -> int:
    """A save that reached the database while its answer never reached the page."""
    with Session(engine, expire_on_commit=False) as s:
        visit = activities.log_visit(
            session=s, actor=world.actor(s, "sup_a"),
            data=VisitCreate(client_id=client_id, visit_date=today_vn(), kind=VisitKind.HOME),
            submission_key=key,
        )
        s.commit()
        return visit.id


def _visits_of(engine: Engine, client_id: int) -> list[int]:
    with Session(engine) as s:
        return list(s.exec(select(Visit.id).where(Visit.client_id == client_id)).all())


VISIT = {"kind": "home", "visit_date": TODAY, "content_counselling": "on"}


def test_a_form_opened_for_another_client_after_a_lost_answer_gets_a_new_key_and_saves(
    world_db: World, engine: Engine
) -> None:
    first, other = world_db.clients["a1"], world_db.clients["a2"]
    state = page_state(VisitState, sign_in(engine, "sup_a"), f"/clients/{first}/visit")
    run(state.load)
    kept = state.form_key
    _lost_answer(engine, world_db, first, kept)

    run(state.load)  # the same client's form again: the retry must be the same save
    assert state.form_key == kept

    _goto(state, f"/clients/{other}/visit")
    run(state.load)
    assert state.form_key != kept
    events = run(state.save, {**VISIT, "submission_key": state.form_key})

    assert state.error == ""
    assert len(_visits_of(engine, other)) == 1  # saved for the client on the screen
    assert [e for e in events if getattr(e, "handler", None) is not None]  # back to the profile


def test_a_key_refused_as_another_clients_is_renewed_so_the_next_tap_saves(
    world_db: World, engine: Engine
) -> None:
    first, other = world_db.clients["a1"], world_db.clients["a2"]
    state = page_state(VisitState, sign_in(engine, "sup_a"), f"/clients/{other}/visit")
    run(state.load)
    stale = state.form_key  # the key this form holds already made the first client's visit
    first_visit = _lost_answer(engine, world_db, first, stale)

    events = run(state.save, {**VISIT, "submission_key": stale})

    assert "khác" in state.error  # told, in Vietnamese, that nothing was saved
    assert [e for e in events if getattr(e, "handler", None) is not None] == []  # stays
    assert _visits_of(engine, other) == [] and _visits_of(engine, first) == [first_visit]
    assert state.form_key not in ("", stale)  # renewed: the hidden field gets the new key

    run(state.save, {**VISIT, "submission_key": state.form_key})  # the next tap
    assert state.error == ""
    assert len(_visits_of(engine, other)) == 1
