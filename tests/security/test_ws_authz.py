"""Authorisation over the real websocket: every handler, every role, and what the frames carry.

A test client (`tests.security.ws_client`) speaks Reflex's own protocol to the production
build: it signs in as each demo role (and stays signed out in one more tab), then sends every
handler in `HANDLER_ROLES` as a browser could. A role outside a handler's registered roles must
get the refusal (a toast and a `handler.call` / `denied` audit row; signed out: back to the
sign-in page) and no change to the handler's state; a role inside it, asking for a client
outside its scope, must never see that client and must leave a `denied` audit row.

Then every frame each role receives while opening its screens is searched for data it must
never get: clinic staff never HIV status, ethnicity, visit notes or another commune's names;
a volunteer never another volunteer's clients; the administrator no client names at all.
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import reflex as rx
from sqlmodel import Session, col, func, select

import app.app  # noqa: F401  (imports every page, so every State class exists)
from app.services.calendar import today_vn
from app.services.db import engine_for
from app.services.demo import DEMO_LOGINS, DEMO_PASSWORD
from app.services.text import fold
from app.state.guard import HANDLER_ROLES
from bench.ws_load import sign_in_async
from models import AuditEvent, Client, Place, PlaceKind, Referral, ReferralStatus, Role, User
from tests.factories import make_client, make_facility, make_referral, make_user
from tests.security.conftest import WsServer
from tests.security.ws_client import (
    Frame,
    Tab,
    events_of,
    frames_text,
    has_toast_error,
    leaves_for_sign_in,
    redirects_to,
)

pytestmark = pytest.mark.e2e

ROLE_LOGINS = {role: login for role, login, _pw in DEMO_LOGINS}
SIGNED_OUT = "signed_out"
# In-role calls that would end the tab's own session or change accounts: not sent in-role.
NOT_SENT_IN_ROLE = {
    "AppState.sign_out", "AccountState.change_password", "AccountState.end_session",
    "AdminUsersState.create_user", "AdminUsersState.save_user", "AdminUsersState.disable_user",
    "AdminUsersState.enable_user", "AdminUsersState.reset_password",
    "AdminUsersState.add_role", "AdminUsersState.remove_role",
    "AdminUsersState.end_user_session", "AdminUsersState.decide_request",
    "AdminUsersState.reset_second_factor",
    "ImportState.upload", "ImportState.commit",
    "TeamsState.save", "TeamsState.add_member", "TeamsState.end_member",
    "CaseloadState.reassign", "CaseloadState.undo_merge",
}


def _app_states() -> list[type[Any]]:
    found: list[type[Any]] = []
    todo: list[type[Any]] = [rx.State]
    while todo:
        cls = todo.pop()
        todo.extend(cls.get_substates())
        if cls.__module__.startswith("app."):
            found.append(cls)
    return found


@dataclass(frozen=True)
class Handler:
    qualname: str  # "ClassThatDefinesIt.handler": the registry's key and the audit detail
    event: str  # the full event name the browser sends
    state: str  # the full name of the state whose vars it changes
    params: tuple[str, ...]
    roles: frozenset[Role]


def _handlers() -> list[Handler]:
    found: dict[str, Handler] = {}
    for cls in _app_states():
        for name, handler in cls.event_handlers.items():
            if name.startswith("_") or name == "setvar":
                continue
            qualname = getattr(handler.fn, "__qualname__", "")
            if qualname not in HANDLER_ROLES or qualname.split(".")[0] != cls.__name__:
                continue  # inherited: tried on the class that defines it
            params = tuple(inspect.signature(handler.fn).parameters)[1:]
            found[qualname] = Handler(qualname, f"{cls.get_full_name()}.{name}",
                                      cls.get_full_name(), params, HANDLER_ROLES[qualname])
    return sorted(found.values(), key=lambda h: h.qualname)


@dataclass
class Scene:
    """The out-of-scope data this module plants, and the demo data it reads."""

    foreign_client: int
    foreign_name: str
    foreign_referral: int
    own_client: int  # tnv.demo's client, with HIV status and ethnicity set
    own_name: str
    ethnicity: str
    visit_note: str
    other_volunteer_name: str  # a client of a volunteer other than tnv.demo
    all_client_names: list[str]


def _user_id(db: Session, login: str) -> int:
    uid = db.exec(select(User.id).where(User.username == login)).one()
    assert uid is not None
    return uid


@pytest.fixture(scope="module")
def scene(ws_server: WsServer) -> Iterator[Scene]:
    engine = engine_for(ws_server.db_url)
    tag = secrets.token_hex(3).upper()
    with Session(engine, expire_on_commit=False) as db:
        vol = _user_id(db, "tnv.demo")
        mine = db.exec(select(Client).where(Client.assigned_volunteer_id == vol)
                       .order_by(col(Client.id))).first()
        assert mine is not None and mine.id is not None, "the demo gives tnv.demo clients"
        demo_province = db.exec(select(Place.parent_id).where(Place.id == mine.commune_id)).one()
        foreign_commune = db.exec(
            select(Place).where(Place.kind == PlaceKind.COMMUNE,
                                col(Place.parent_id) != demo_province)
            .order_by(col(Place.id))).first()
        assert foreign_commune is not None and foreign_commune.id is not None
        foreign_name = f"Hà Thị Ngoại Tỉnh {tag}"
        foreign = make_client(db, foreign_commune.id, None, name=foreign_name)
        clinic = make_facility(db, f"Cơ sở ngoại tỉnh {tag}", foreign_commune.id)
        referral = make_referral(db, foreign, clinic, referred_on=today_vn())
        # A second volunteer in the demo province, with a client of their own.
        other_name = f"Trương Văn Khác {tag}"
        other = make_user(db, f"tnv.khac.{tag.lower()}", Role.VOLUNTEER,
                          place_id=mine.commune_id)
        make_client(db, mine.commune_id, other, name=other_name)
        ethnicity = f"Dântộc{tag}"
        mine.hiv_status = "positive"
        mine.ethnicity = ethnicity
        db.add(mine)
        db.commit()
        names = [n for n in db.exec(select(Client.full_name)).all()]
        own_name = mine.full_name
    yield Scene(foreign_client=foreign, foreign_name=foreign_name, foreign_referral=referral,
                own_client=mine.id, own_name=own_name, ethnicity=ethnicity,
                visit_note=f"Ghi chú riêng tư {tag}", other_volunteer_name=other_name,
                all_client_names=names)


def _denied(ws_server: WsServer, **where: Any) -> int:
    with Session(engine_for(ws_server.db_url)) as db:
        query = select(func.count()).select_from(AuditEvent).where(
            AuditEvent.outcome == "denied")
        for name, value in where.items():
            query = query.where(getattr(AuditEvent, name) == value)
        return int(db.exec(query).one())


async def _signed_in(url: str, role: str) -> Tab:
    if role == SIGNED_OUT:
        return await Tab(url).open()
    # The form post sets the HttpOnly cookie; the tab's handshake then carries it.
    cookie, where = await sign_in_async(url, ROLE_LOGINS[role], DEMO_PASSWORD)
    assert cookie, f"{role} could not sign in: {where}"
    return await Tab(url, cookie=cookie).open()


# Searches name the out-of-scope client by part of its name (the box echoes what was typed).
_SURNAME = "Ngoại Tỉnh"


def _plausible(param: str, scene: Scene) -> Any:
    """An argument a browser could send; ids name the out-of-scope client (or its referral)."""
    if param == "form_data":
        return {"client_id": str(scene.foreign_client), "q": _SURNAME,
                "code": "x", "submission_key": secrets.token_hex(16)}
    if param == "referral_id":
        return str(scene.foreign_referral)
    if param.endswith("_id") or param in ("value", "page"):
        return str(scene.foreign_client)
    if param in ("is_open", "_open"):
        return True
    return {"lang": "en", "language": "en", "fmt": "csv", "files": [], "role": "volunteer",
            "what": "issue", "query": _SURNAME}.get(param, "x")


@dataclass
class Cells:
    tried: int = 0
    refused: int = 0
    scoped: int = 0
    failures: list[str] | None = None


def _path_for(handler: Handler, scene: Scene) -> str:
    segment = {"VisitState": "visit", "DrugTestState": "test", "ReferralState": "referral",
               "SupportState": "support", "CardState": "card",
               "LawRecordsState": "law"}.get(handler.qualname.split(".")[0])
    base = f"/clients/{scene.foreign_client}"
    return f"{base}/{segment}" if segment else base


async def _matrix(ws_server: WsServer, scene: Scene) -> Cells:
    handlers = _handlers()
    cells = Cells(failures=[])
    fails = cells.failures
    assert fails is not None
    for role in [SIGNED_OUT, *ROLE_LOGINS]:
        tab = await _signed_in(ws_server.url, role)
        try:
            for h in handlers:
                in_role = not h.roles or (role != SIGNED_OUT and Role(role) in h.roles)
                if in_role and h.qualname in NOT_SENT_IN_ROLE:
                    continue
                payload = {p: _plausible(p, scene) for p in h.params}
                path = _path_for(h, scene)
                before = (_denied(ws_server, action="handler.call", detail=h.qualname)
                          if not in_role and role != SIGNED_OUT else 0)
                frames = await tab.call(h.event, payload, path,
                                        {"client_id": str(scene.foreign_client)})
                cells.tried += 1
                cell = f"{role} × {h.qualname}"
                if scene.foreign_name in frames_text(frames):
                    fails.append(f"{cell}: the out-of-scope client's name reached the tab")
                if in_role:
                    cells.scoped += 1
                    continue
                cells.refused += 1
                if role == SIGNED_OUT:
                    if not leaves_for_sign_in(frames):
                        fails.append(f"{cell}: not sent to sign-in: {events_of(frames)}")
                    continue
                if not has_toast_error(frames):
                    fails.append(f"{cell}: no refusal toast")
                if any(h.state in (f.get("delta") or {}) for f in frames):
                    fails.append(f"{cell}: the handler's state changed")
                after = _denied(ws_server, action="handler.call", detail=h.qualname)
                if after != before + 1:
                    fails.append(f"{cell}: {after - before} denied audit rows, not 1")
        finally:
            await tab.close()
    return cells


# The matrix grows with every handler (the law, privacy and outbox screens added dozens): on
# a shared 2-core machine it no longer fits the default 300 s.
@pytest.mark.timeout(1500)
# Every handler of every screen times five roles: some 700 calls, about 8 minutes on the shared
# 2-core machine, more than the suite's default 300 s per test.
@pytest.mark.timeout(1200)
def test_every_handler_refuses_every_role_outside_its_registration_over_the_websocket(
    ws_server: WsServer, scene: Scene, record_property: Any
) -> None:
    cells = asyncio.run(_matrix(ws_server, scene))
    record_property("cells_tried", cells.tried)
    record_property("refusals_expected", cells.refused)
    record_property("in_role_out_of_scope", cells.scoped)
    record_property("failures", len(cells.failures))
    print(f"\nauthorisation cells tried: {cells.tried} ({cells.refused} refusals expected, "
          f"{cells.scoped} in-role calls with an out-of-scope id)")
    assert cells.tried > 300 and cells.refused > 200
    assert cells.failures == [], "\n".join(cells.failures or [])


# ---- in-role, out of scope: the client exists but is nobody's here ---------------------------

TODAY = today_vn().isoformat()
_CLIENT_FORMS = {
    "visit": {"kind": "home", "visit_date": TODAY, "content_counselling": "on"},
    "test": {"tested_on": TODAY, "sample": "urine", "method": "rapid", "result": "negative"},
    "referral": {"service": "mmt", "referred_on": TODAY, "consent": "on"},
    "support": {"kind": "loan", "started_on": TODAY, "amount_vnd": "5.000.000",
                "term_months": "12"},
}
_FORM_STATES = {"visit": "VisitState", "test": "DrugTestState", "referral": "ReferralState",
                "support": "SupportState"}


def _event(qualname: str) -> str:
    return next(h.event for h in _handlers() if h.qualname == qualname)


async def _scope_probes(ws_server: WsServer, scene: Scene, role: str) -> list[str]:
    """Open and save every client-bound screen on the out-of-scope client; each is audited."""
    fails: list[str] = []
    x = scene.foreign_client
    tab = await _signed_in(ws_server.url, role)
    try:
        probes: list[tuple[str, dict[str, Any], str]] = [
            ("ProfileState.load", {}, f"/clients/{x}"),
            ("CardState.load", {}, f"/clients/{x}/card"),
            # The law's records of the client (issue 16).
            ("LawRecordsState.load", {}, f"/clients/{x}/law"),
        ]
        for seg, form in _CLIENT_FORMS.items():
            probes.append((f"{_FORM_STATES[seg]}.load", {}, f"/clients/{x}/{seg}"))
            probes.append((f"{_FORM_STATES[seg]}.save",
                           {"form_data": {**form, "submission_key": secrets.token_hex(16)}},
                           f"/clients/{x}/{seg}"))
        if role == "supervisor":
            probes.append(("CaseloadState.merge_pair",
                           {"keep_id": str(scene.own_client), "merge_id": str(x)}, "/caseload"))
        for qualname, payload, path in probes:
            before = _denied(ws_server, target_type="client", target_id=x)
            frames = await tab.call(_event(qualname), payload, path, {"client_id": str(x)})
            if scene.foreign_name in frames_text(frames):
                fails.append(f"{role} {qualname}: the out-of-scope client's name was sent")
            if _denied(ws_server, target_type="client", target_id=x) <= before:
                fails.append(f"{role} {qualname}: no denied audit row for client {x}")
    finally:
        await tab.close()
    return fails


@pytest.mark.parametrize("role", ["volunteer", "supervisor"])
def test_an_out_of_scope_client_is_never_revealed_and_every_attempt_is_audited(
    ws_server: WsServer, scene: Scene, role: str
) -> None:
    assert asyncio.run(_scope_probes(ws_server, scene, role)) == []


def test_clinic_staff_cannot_record_attendance_on_another_provinces_referral(
    ws_server: WsServer, scene: Scene
) -> None:
    async def run() -> list[Frame]:
        tab = await _signed_in(ws_server.url, "clinic")
        try:
            await tab.call(_event("ScanState.load"), {}, "/scan")
            return await tab.call(_event("ScanState.record_attendance"),
                                  {"referral_id": str(scene.foreign_referral)}, "/scan")
        finally:
            await tab.close()

    frames = asyncio.run(run())
    assert scene.foreign_name not in frames_text(frames)
    # Refused before any lookup (only referrals shown after this tab's own scan are accepted):
    # an error next to the list, and the referral is untouched.
    assert "attendance_error" in frames_text(frames)
    with Session(engine_for(ws_server.db_url)) as db:
        referral = db.get(Referral, scene.foreign_referral)
        assert referral is not None and referral.status == ReferralStatus.SENT


# ---- what each role's frames carry ------------------------------------------------------------


async def _screens(ws_server: WsServer, scene: Scene, role: str) -> list[Frame]:
    """Open the role's screens as the browser would (check_session, then the page's load)."""
    tab = await _signed_in(ws_server.url, role)
    check = _event("AppState.check_session")
    try:
        by_role: dict[str, list[tuple[str, str, dict[str, Any] | None]]] = {
            "volunteer": [("TodayState.load", "/today", None),
                          ("ClientsState.load", "/clients", None),
                          ("ProfileState.load", f"/clients/{scene.own_client}", None),
                          ("ClientsState.search", "/clients",
                           {"form_data": {"q": "", "status": ""}}),
                          # Issue 17: their client's consents, and the audit they never get.
                          ("ConsentState.load", f"/clients/{scene.own_client}/consent", None),
                          ("ClientAuditState.load", f"/clients/{scene.own_client}/audit",
                           None)],
            "clinic": [("ScanState.load", "/scan", None),
                       ("ScanState.submit_code", "/scan", {"form_data": {"code": "AAAA-BBBB"}}),
                       ("PrivacyDeskState.load", "/privacy", None)],
            "supervisor": [("CaseloadState.load", "/caseload", None),
                           ("PrivacyDeskState.load_clocks", "/caseload", None),
                           ("ReportsState.load", "/reports", None),
                           ("ClientAuditState.load", f"/clients/{scene.own_client}/audit",
                            None),
                           ("PrivacyDeskState.load", "/privacy", None)],
            "admin": [("AdminUsersState.load", "/admin/users", None),
                      ("AdminPrivacyState.load", "/admin/privacy", None),
                      # Audit metadata of a record by its number: never the client's name.
                      ("ClientAuditState.load", f"/clients/{scene.own_client}/audit", None)],
        }
        screens = by_role[role]
        for qualname, path, payload in screens:
            await tab.call(check, {}, path)
            await tab.call(_event(qualname), payload or {}, path)
        return list(tab.frames)
    finally:
        await tab.close()


async def _write_visit_note(ws_server: WsServer, scene: Scene) -> None:
    tab = await _signed_in(ws_server.url, "volunteer")
    path = f"/clients/{scene.own_client}/visit"
    try:
        await tab.call(_event("VisitState.load"), {}, path)
        frames = await tab.call(_event("VisitState.save"), {"form_data": {
            "kind": "home", "visit_date": TODAY, "content_counselling": "on",
            "notes": scene.visit_note, "submission_key": secrets.token_hex(16)}}, path)
        assert redirects_to(frames), frames_text(frames)[-400:]
    finally:
        await tab.close()


FRAMES_CHECKED: dict[str, int] = {}


def test_each_roles_frames_carry_only_what_that_role_may_see(
    ws_server: WsServer, scene: Scene, record_property: Any
) -> None:
    asyncio.run(_write_visit_note(ws_server, scene))
    seen = {role: asyncio.run(_screens(ws_server, scene, role))
            for role in ("volunteer", "clinic", "supervisor", "admin")}
    text = {role: frames_text(frames) for role, frames in seen.items()}
    FRAMES_CHECKED.update({role: len(frames) for role, frames in seen.items()})
    print(f"\nframes checked: {FRAMES_CHECKED} = {sum(FRAMES_CHECKED.values())}")
    record_property("frames_checked", sum(FRAMES_CHECKED.values()))

    # The volunteer sees their own client's sensitive fields (the data is there to leak) ...
    assert scene.own_name in text["volunteer"] and scene.ethnicity in text["volunteer"]
    # ... but never another volunteer's client nor another province's.
    assert scene.other_volunteer_name not in text["volunteer"]
    assert scene.foreign_name not in text["volunteer"]
    # Clinic staff: no HIV status, ethnicity, visit notes, nor any client name outside a scan.
    clinic = text["clinic"]
    for secret in (scene.ethnicity, scene.visit_note, "hiv_status", scene.foreign_name,
                   scene.other_volunteer_name):
        assert secret not in clinic, secret
    assert fold(scene.ethnicity) not in fold(clinic)
    # The supervisor's province screens: never another province's client.
    assert scene.foreign_name not in text["supervisor"]
    # The administrator manages accounts: no client name at all (the audit of a record they
    # open by its number included).
    leaked = [n for n in scene.all_client_names if n in text["admin"]]
    assert leaked == []
    # "Ai đã xem hồ sơ này": the supervisor and the administrator receive the audit rows of
    # the volunteer's client; the volunteer asking for the same page receives none of them.
    assert '"audit-0"' in text["supervisor"] and '"audit-0"' in text["admin"]
    assert '"audit-0"' not in text["volunteer"]
    # Sanity: frames were really captured for every role.
    assert all(len(frames) >= 2 for frames in seen.values())
    assert all(events_of(frames) is not None for frames in seen.values())

