"""The privacy screens' States driven without a browser: who may call what, and what the
state carries (a volunteer never receives the audit of a record; an administrator never a
client's name)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page and State)
from app.pages.admin_privacy import AdminPrivacyState
from app.pages.consent_page import ConsentState
from app.pages.privacy_audit import ClientAuditState
from app.pages.privacy_desk import PrivacyDeskState
from app.pages.profile import ProfileState
from app.services.calendar import today_vn
from app.state.guard import HANDLER_ROLES
from models import AuditEvent, Client, DataRequest, Role
from tests.factories import World
from tests.state.conftest import page_state, run, session_token

STATES = (ClientAuditState, ConsentState, PrivacyDeskState, AdminPrivacyState)
TODAY = today_vn().isoformat()
CALLS: dict[str, tuple[Any, ...]] = {
    "ClientAuditState.load": (),
    "ClientAuditState.filter": ({"start": TODAY, "end": TODAY, "kind": ""},),
    "ClientAuditState.download": ("xlsx",),
    "ConsentState.load": (),
    "ConsentState.record": ({"purpose": "reporting", "given_on": TODAY},),
    "ConsentState.withdraw": ("1",),
    "ConsentState.print_form": (),
    "PrivacyDeskState.load": (),
    "PrivacyDeskState.load_clocks": (),
    "PrivacyDeskState.receive": ({"client_id": "1", "kind": "access", "received_on": TODAY,
                                  "requester_name": "Ai Đó"},),
    "PrivacyDeskState.acknowledge": ("1",),
    "PrivacyDeskState.answer": ({"request_id": "1", "outcome": "xong"},),
    "PrivacyDeskState.delete": ("1",),
    "PrivacyDeskState.access_file": ("1", "pdf"),
    "PrivacyDeskState.letter": ("1",),
    "PrivacyDeskState.open_glass": ({"glass_client_id": "1", "reason_kind": "medical_emergency",
                                     "reason": "Cấp cứu tại trạm y tế xã"},),
    "PrivacyDeskState.close_glass": ("1",),
    "PrivacyDeskState.correct": ({"request_id": "1", "field": "phone", "value": "0912345678"},),
    "PrivacyDeskState.restrict": ({"request_id": "1", "purpose_reporting": "on"},),
    "PrivacyDeskState.object_to": ({"request_id": "1", "purpose": "referral"},),
    "PrivacyDeskState.lift": ("1",),
    "AdminPrivacyState.load": (),
    "AdminPrivacyState.record_breach": ({"discovered_on": TODAY, "description": "Mất máy"},),
    "AdminPrivacyState.mark_notified": ({"breach_id": "1", "reference": "A05"},),
    "AdminPrivacyState.print_breach": ("1",),
    "AdminPrivacyState.account_audit": ({"username": "vol_a1", "start": TODAY,
                                         "end": TODAY},),
    "AdminPrivacyState.open_record_audit": ({"client_id": "1"},),
    "AdminPrivacyState.retention_plan": (),
    "AdminPrivacyState.add_holiday": ({"on": TODAY, "name": "Nghỉ"},),
    "AdminPrivacyState.update_term": ({"code": "request.ack", "amount": "2",
                                       "legal_basis": "x"},),
    "AdminPrivacyState.inventory": ("xlsx",),
}
NAMES = ("vol_a1", "sup_a", "clinic_a", "admin")


def test_every_privacy_handler_is_registered_and_exercised_here() -> None:
    names = {n for n in HANDLER_ROLES if n.split(".")[0] in {c.__name__ for c in STATES}}
    assert names == set(CALLS)
    # Nobody but supervisors and administrators may ask who saw a record.
    assert HANDLER_ROLES["ClientAuditState.load"] == {Role.SUPERVISOR, Role.ADMIN}


@pytest.mark.parametrize("handler", sorted(CALLS))
def test_roles_outside_a_handlers_registration_are_refused_and_audited(
        world_db: World, engine: Engine, handler: str) -> None:
    world = world_db
    cls_name, name = handler.split(".")
    cls = next(c for c in STATES if c.__name__ == cls_name)
    for who in NAMES:
        if world.roles[who] in HANDLER_ROLES[handler]:
            continue
        state = page_state(cls, session_token(engine, world, who),
                           f"/clients/{world.clients['a1']}/audit")
        assert run(getattr(state, name), *CALLS[handler]), "a refusal says something"
        assert not getattr(state, "rows", []) and not getattr(state, "requests", [])
        with Session(engine) as s:
            denied = s.exec(select(AuditEvent).where(
                AuditEvent.action == "handler.call", AuditEvent.outcome == "denied",
                AuditEvent.actor_id == world.users[who], AuditEvent.detail == handler)).all()
        assert len(denied) == 1, (who, handler)


def test_the_supervisor_sees_who_saw_the_record_and_the_admin_never_its_name(
        world_db: World, engine: Engine) -> None:
    world = world_db
    cid = world.clients["a1"]
    profile = page_state(ProfileState, session_token(engine, world, "vol_a1"), f"/clients/{cid}")
    run(profile.load)
    assert profile.view == "found"
    sup = page_state(ClientAuditState, session_token(engine, world, "sup_a"),
                     f"/clients/{cid}/audit")
    run(sup.load)
    assert sup.view == "found" and any(r["who"] == "vol_a1" for r in sup.rows)
    admin = page_state(ClientAuditState, session_token(engine, world, "admin"),
                       f"/clients/{cid}/audit")
    run(admin.load)
    assert admin.view == "found" and admin.rows
    assert "Lê Văn Cường" not in repr(admin.get_delta())
    out_of_scope = page_state(ClientAuditState, session_token(engine, world, "sup_b"),
                              f"/clients/{cid}/audit")
    run(out_of_scope.load)
    assert out_of_scope.view == "missing" and out_of_scope.rows == []
    downloads = run(sup.download, "xlsx")
    assert downloads and "nhat-ky-ho-so" in repr(downloads)


def test_a_request_from_the_desk_shows_its_clocks_on_the_supervisors_home(
        world_db: World, engine: Engine) -> None:
    world = world_db
    desk = page_state(PrivacyDeskState, session_token(engine, world, "sup_a"), "/privacy")
    run(desk.load)
    run(desk.receive, {"client_id": str(world.clients["a1"]), "kind": "access",
                       "received_on": TODAY, "requested_by": "subject",
                       "requester_name": "Lê Văn Cường"})
    assert desk.error == "" and desk.saved
    with Session(engine) as s:
        request = s.exec(select(DataRequest)).one()
    home = page_state(PrivacyDeskState, session_token(engine, world, "sup_a"), "/caseload")
    run(home.load_clocks)
    assert [r["id"] for r in home.requests] == [str(request.id)]
    assert home.requests[0]["ack_left_vi"].startswith("còn 2 ngày làm việc")
    files = run(desk.access_file, str(request.id), "pdf")
    assert files and "du-lieu-yeu-cau" in repr(files)
    # A volunteer's Today never carries them: the home clocks are for supervisors only.
    assert HANDLER_ROLES["PrivacyDeskState.load_clocks"] == {Role.SUPERVISOR}


def test_the_desk_carries_out_correction_restriction_and_objection_requests(
        world_db: World, engine: Engine) -> None:
    world = world_db
    cid = world.clients["a1"]
    desk = page_state(PrivacyDeskState, session_token(engine, world, "sup_a"), "/privacy")
    run(desk.load)
    for kind in ("correction", "restriction", "objection"):
        run(desk.receive, {"client_id": str(cid), "kind": kind, "received_on": TODAY,
                           "requested_by": "subject", "requester_name": "Lê Văn Cường"})
    ids = {r["kind"]: r["id"] for r in desk.requests}
    # A refusal puts its message on the screen and moves the focus to the form.
    refused = run(desk.correct, {"request_id": ids["correction"], "field": "phone",
                                 "value": ""})
    assert "correct-form-" + ids["correction"] in repr(refused)
    row = next(r for r in desk.requests if r["id"] == ids["correction"])
    assert row["problem"] and row["problem_at"] == "value-" + ids["correction"]
    run(desk.correct, {"request_id": ids["correction"], "field": "phone",
                       "value": "0912 345 678"})
    assert desk.error == "" and desk.saved
    run(desk.restrict, {"request_id": ids["restriction"], "purpose_reporting": "on",
                        "purpose_case_management": "on"})
    run(desk.object_to, {"request_id": ids["objection"], "purpose": "referral"})
    assert desk.error == ""
    assert {r["kind"]: r["open"] for r in desk.requests} == {
        "correction": "", "restriction": "", "objection": ""}
    assert sorted((r["purpose_en"], r["kind_label_en"]) for r in desk.limits) == [
        ("Case management and support", "Restriction"),
        ("De-identified statistics", "Restriction"),
        ("Sharing in referrals", "Objection")]
    assert len(desk.limits) == 3
    with Session(engine) as s:
        client = s.get(Client, cid)
        assert client is not None and client.phone is not None
        assert client.phone.replace(" ", "") == "0912345678"
    run(desk.lift, desk.limits[0]["id"])
    assert desk.error == "" and len(desk.limits) == 2


def test_the_desk_shows_the_data_protection_officer(world_db: World, engine: Engine) -> None:
    world = world_db
    from models import Setting

    with Session(engine) as s:
        s.add(Setting(key="privacy.dpo_name", value="Nguyễn Thị Hoa"))
        s.add(Setting(key="privacy.dpo_contact", value="0277 3851 234"))
        s.commit()
    desk = page_state(PrivacyDeskState, session_token(engine, world, "clinic_a"), "/privacy")
    run(desk.load)
    assert desk.dpo == "Nguyễn Thị Hoa — 0277 3851 234"


def test_clinic_staff_break_glass_then_read_the_one_client_on_the_profile(
        world_db: World, engine: Engine) -> None:
    world = world_db
    cid = world.clients["b1"]  # not referred to clinic_a
    profile = page_state(ProfileState, session_token(engine, world, "clinic_a"), f"/clients/{cid}")
    run(profile.load)
    assert profile.view == "missing"
    desk = page_state(PrivacyDeskState, session_token(engine, world, "clinic_a"), "/privacy")
    run(desk.load)
    run(desk.open_glass, {"glass_client_id": str(cid), "reason_kind": "medical_emergency",
                          "reason": "Người bệnh ngất tại cơ sở, cần biết tiền sử"})
    assert desk.error == "" and [r["client"] for r in desk.mine] == [str(cid)]
    profile = page_state(ProfileState, session_token(engine, world, "clinic_a"), f"/clients/{cid}")
    run(profile.load)
    assert profile.view == "found" and profile.head["name"] == "Hoàng Văn Em"
    assert profile.actions == []  # read-only
    with Session(engine) as s:
        assert s.get(Client, cid) is not None
    sup = page_state(PrivacyDeskState, session_token(engine, world, "sup_b"), "/caseload")
    run(sup.load_clocks)
    assert [r["who"] for r in sup.review] == ["clinic_a"]


def test_the_administrators_screen_loads_records_a_breach_and_shows_its_countdown(
        world_db: World, engine: Engine) -> None:
    world = world_db
    state = page_state(AdminPrivacyState, session_token(engine, world, "admin"), "/admin/privacy")
    run(state.load)
    assert state.error == "" and state.terms and state.holidays
    assert any(t["code"] == "breach.notify" and t["amount"] == "72" for t in state.terms)
    run(state.record_breach, {"discovered_on": TODAY, "discovered_time": "00:00",
                              "description": "Mất điện thoại có bản nháp", "severity": "high"})
    assert state.error == "" and len(state.breaches) == 1
    assert state.breaches[0]["open"] == "1" and "giờ" in state.breaches[0]["countdown_vi"]
    run(state.retention_plan)
    assert state.retention["clients"] == "0"
    run(state.account_audit, {"username": "vol_a1", "start": TODAY, "end": TODAY})
    assert state.account_shown == "vol_a1"
    assert run(state.inventory, "pdf")
    assert "Lê Văn Cường" not in repr(state.get_delta())
