"""The card screens' States (scan, card, print sheet), driven without a browser.

Each test signs a real user in (a real server-side session in a real SQLite file), puts the
token where the browser's cookie would be, points the router at the screen's URL and calls the
handlers as Reflex would.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import app.app  # noqa: F401  (registers every page and State)
from app.i18n import t
from app.pages.cards import CardState, PrintState, base_url_for
from app.pages.scan import SCAN_ROLES, ScanState
from app.services import cards, deployment
from app.services.cards import format_short_code, qr_payload
from app.state.guard import HANDLER_ROLES
from app.state.session import AppState
from models import AuditEvent, Card, CardStatus, Referral, ReferralStatus, Role, Visit
from tests.factories import World
from tests.state.conftest import audits, page_state, run, sign_in

ORIGIN = "https://donghanh.example.vn"


@pytest.fixture
def cards_world(world_db: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The shared world, with no public address in the environment: a card's link is on the
    origin of the page it was issued from."""
    monkeypatch.delenv("DH_PUBLIC_URL", raising=False)
    return world_db


def make_state(cls: type[AppState], token: str, path: str = "/scan") -> Any:
    """A screen of the deployment at ORIGIN, signed in with `token`."""
    return page_state(cls, token, path, origin=ORIGIN)


def issue(engine: Engine, world: World, client: str = "a1",
          by: str = "vol_a1") -> cards.IssuedCard:
    """A card with its clear token and code, which only the issuing answer has."""
    with Session(engine, expire_on_commit=False) as s:
        actor = world.actor(s, by)
        issued = cards.issue_card(session=s, actor=actor, client_id=world.clients[client])
        s.commit()
        return issued


# ---- registry ---------------------------------------------------------------------------------


def test_card_handlers_are_registered_for_the_roles_the_policy_allows() -> None:
    mine = {n: r for n, r in HANDLER_ROLES.items()
            if n.split(".")[0] in ("ScanState", "CardState", "PrintState")}
    assert set(SCAN_ROLES) == {Role.VOLUNTEER, Role.SUPERVISOR, Role.CLINIC}
    for name, roles in mine.items():
        assert roles, f"{name} must not be public"
        assert Role.ADMIN not in roles, name
    assert mine["ScanState.record_attendance"] == frozenset({Role.CLINIC})
    assert mine["PrintState.download"] == frozenset({Role.SUPERVISOR})
    assert mine["CardState.issue"] == frozenset({Role.VOLUNTEER, Role.SUPERVISOR})


# ---- scanning ---------------------------------------------------------------------------------


def test_clinic_staff_scan_a_card_and_record_attendance(engine: Engine, cards_world: World
                                                       ) -> None:
    card = issue(engine, cards_world)
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    run(scan.load)
    run(scan.scanned, qr_payload(card.token, ORIGIN))
    assert scan.result == "ok"
    assert scan.given_name == "Cường"
    assert [r["id"] for r in scan.referrals] == [str(cards_world.referrals["a1"])]
    run(scan.record_attendance, str(cards_world.referrals["a1"]))
    assert scan.attended == t("card.attendance.recorded")
    assert scan.referrals == []
    with Session(engine) as s:
        referral = s.get(Referral, cards_world.referrals["a1"])
        assert referral is not None and referral.status == ReferralStatus.USED
        visits = s.exec(select(Visit).where(Visit.client_id == cards_world.clients["a1"])).all()
        assert [v.kind for v in visits] == ["clinic_attendance"]


def test_nothing_scanned_is_kept_in_any_state_var(engine: Engine, cards_world: World) -> None:
    card = issue(engine, cards_world)
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    run(scan.scanned, qr_payload(card.token, ORIGIN))
    run(scan.submit_code, {"code": format_short_code(card.short_code)})
    assert scan.result == "ok"
    kept = repr(scan.dict()) + repr(vars(scan))
    assert card.token not in kept
    assert card.short_code not in kept and format_short_code(card.short_code) not in kept


def test_a_typed_code_with_dashes_and_lower_case_is_found(engine: Engine, cards_world: World
                                                         ) -> None:
    card = issue(engine, cards_world)
    scan = make_state(ScanState, sign_in(engine, "vol_a1"))
    run(scan.submit_code, {"code": format_short_code(card.short_code).lower()})
    assert (scan.result, scan.given_name) == ("ok", "Cường")
    assert scan.referrals == []  # volunteers see no referral list


def test_an_empty_code_asks_for_one_without_a_lookup(engine: Engine, cards_world: World) -> None:
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    run(scan.submit_code, {"code": "   "})
    assert scan.result == "error" and scan.message == t("cardui.scan.code_required")
    assert audits(engine, action="card.scan") == []


def test_a_revoked_card_says_revoked(engine: Engine, cards_world: World) -> None:
    card = issue(engine, cards_world)
    with Session(engine) as s:
        cards.revoke_card(session=s, actor=cards_world.actor(s, "vol_a1"), card_id=card.id or 0,
                          reason="lost")
        s.commit()
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    run(scan.scanned, f"DH1-{card.token}")
    assert scan.result == "revoked" and scan.message == t("card.scan.revoked")
    assert scan.given_name == ""


def test_attendance_only_for_a_referral_shown_by_the_last_scan(engine: Engine,
                                                               cards_world: World) -> None:
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    run(scan.record_attendance, str(cards_world.referrals["a1"]))
    assert scan.attendance_error == t("error.not_found")
    run(scan.record_attendance, "not-a-number")
    with Session(engine) as s:
        referral = s.get(Referral, cards_world.referrals["a1"])
        assert referral is not None and referral.status == ReferralStatus.SENT
        trail = s.exec(select(AuditEvent).where(AuditEvent.action == "card.attendance")).all()
        assert [(e.outcome, e.target_id) for e in trail] == [
            ("denied", cards_world.referrals["a1"])]


def test_camera_errors_show_a_message_and_turn_the_camera_off(engine: Engine,
                                                              cards_world: World) -> None:
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    run(scan.start_camera)
    assert scan.camera_on
    run(scan.camera_failed, "denied")
    assert not scan.camera_on and scan.camera_error_key == "cardui.scan.camera_denied"
    run(scan.camera_failed, {"weird": 1})
    assert scan.camera_error_key == "cardui.scan.camera_unavailable"


def test_loading_the_scan_screen_picks_up_a_card_link_left_by_k(engine: Engine,
                                                                cards_world: World) -> None:
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    events = run(scan.load)
    assert "sessionStorage" in repr(events) and "dh_card" in repr(events)


# ---- the card screen --------------------------------------------------------------------------


def test_a_volunteer_issues_reissues_and_revokes_a_card(engine: Engine, cards_world: World) -> None:
    path = f"/clients/{cards_world.clients['a1']}/card"
    screen = make_state(CardState, sign_in(engine, "vol_a1"), path)
    run(screen.load)
    assert not screen.not_found and not screen.has_card and screen.client_name
    run(screen.issue, {"issue_key": screen.issue_key})
    assert screen.has_card and screen.qr_src.startswith("data:image/svg+xml;base64,")
    first_code = screen.short_code
    run(screen.ask, "reissue")
    assert screen.confirming == "reissue"
    run(screen.issue, {"issue_key": screen.issue_key})
    assert screen.short_code != first_code
    assert [h["status"] for h in screen.history] == ["active", "revoked"]
    assert screen.history[1]["reason"] == "reissued"
    run(screen.revoke, {"reason": "because"})
    assert screen.error and screen.has_card
    run(screen.revoke, {"reason": "lost"})
    assert not screen.has_card and screen.success == t("cardui.card.revoked")
    assert "token" not in repr(screen.history)


def test_a_double_tap_on_issue_makes_one_card(engine: Engine, cards_world: World) -> None:
    path = f"/clients/{cards_world.clients['a1']}/card"
    screen = make_state(CardState, sign_in(engine, "vol_a1"), path)
    run(screen.load)
    key = screen.issue_key
    run(screen.issue, {"issue_key": key})
    run(screen.issue, {"issue_key": key})
    with Session(engine) as s:
        rows = s.exec(select(Card).where(Card.client_id == cards_world.clients["a1"])).all()
    assert len(rows) == 1 and rows[0].status == CardStatus.ACTIVE


def test_another_volunteers_client_is_not_found_and_audited(engine: Engine,
                                                            cards_world: World) -> None:
    path = f"/clients/{cards_world.clients['a2']}/card"
    screen = make_state(CardState, sign_in(engine, "vol_a1"), path)
    run(screen.load)
    assert screen.not_found and screen.client_name == "" and screen.qr_src == ""
    denied = audits(engine, outcome="denied", target_id=cards_world.clients["a2"])
    assert denied and all(e.actor_id == cards_world.users["vol_a1"] for e in denied)
    run(screen.issue, {"issue_key": screen.issue_key})
    run(screen.download_card)
    with Session(engine) as s:
        assert s.exec(select(Card)).all() == []


def test_the_qr_points_at_the_public_address_of_the_settings_never_the_browsers_host(
    engine: Engine, cards_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as s:
        assert base_url_for(s) == ""  # not set: the bare token, not ORIGIN
        monkeypatch.setenv("DH_PUBLIC_URL", "https://the.example.org/")
        assert base_url_for(s) == "https://the.example.org"
        admin = cards_world.actor(s, "admin")
        deployment.update_settings(session=s, actor=admin, data=deployment.SettingsInput(
            organisation_name="", programme_name="", public_url="https://dh.tinh.gov.vn/",
            contact_line=""))
        s.commit()
        assert base_url_for(s) == "https://dh.tinh.gov.vn"
    monkeypatch.delenv("DH_PUBLIC_URL")
    screen = make_state(CardState, sign_in(engine, "vol_a1"),
                        f"/clients/{cards_world.clients['a1']}/card")
    run(screen.load)
    run(screen.issue, {"issue_key": screen.issue_key})
    assert screen.qr_src and not screen.public_url_missing


def test_a_card_screen_warns_while_no_public_address_is_set(
    engine: Engine, cards_world: World
) -> None:
    screen = make_state(CardState, sign_in(engine, "vol_a1"),
                        f"/clients/{cards_world.clients['a1']}/card")
    run(screen.load)
    run(screen.issue, {"issue_key": screen.issue_key})
    assert screen.qr_src and screen.public_url_missing


def test_downloading_a_card_gives_a_pdf_and_is_audited(engine: Engine, cards_world: World) -> None:
    screen = make_state(CardState, sign_in(engine, "vol_a1"),
                        f"/clients/{cards_world.clients['a1']}/card")
    run(screen.load)
    run(screen.issue, {"issue_key": screen.issue_key})
    events = run(screen.download_card)
    assert any("download" in repr(e) for e in events)
    assert len(audits(engine, action="card.print")) == 1


def test_the_qr_and_code_are_shown_and_printed_only_right_after_issuing(
    engine: Engine, cards_world: World
) -> None:
    """Issue 19 item 9: the database keeps keyed hashes, so a card opened later shows neither
    its QR nor its code and cannot be downloaded; printing again means a new card."""
    issued = issue(engine, cards_world)
    screen = make_state(CardState, sign_in(engine, "vol_a1"),
                        f"/clients/{cards_world.clients['a1']}/card")
    run(screen.load)
    assert screen.has_card and screen.qr_src == "" and screen.short_code == ""
    assert issued.token not in repr(screen.history) and issued.short_code not in repr(
        screen.history)
    events = run(screen.download_card)
    assert not any("download" in repr(e) for e in events)
    assert screen.error == t("cardui.card.print_after_issue")
    assert audits(engine, action="card.print") == []
    run(screen.ask, "reissue")
    run(screen.issue, {"issue_key": screen.issue_key})
    assert screen.qr_src and screen.short_code
    assert any("download" in repr(e) for e in run(screen.download_card))
    run(screen.load)  # opened again: the code is gone from the screen and the tab
    assert screen.qr_src == "" and screen.short_code == "" and screen._fresh is None


# ---- the print sheet --------------------------------------------------------------------------


def _cards_of(engine: Engine, client_id: int) -> list[tuple[CardStatus, str]]:
    with Session(engine) as s:
        rows = s.exec(select(Card).where(Card.client_id == client_id)).all()
    return sorted((r.status, r.revoked_reason) for r in rows)


def test_a_supervisor_prints_new_cards_for_a_commune_without_touching_those_in_use(
        engine: Engine, cards_world: World) -> None:
    """The sheet of the clients without a card: new cards, and a card someone holds keeps
    working (printing the sheet again for one newly registered client used to revoke every
    card of the commune, as the database keeps only hashes)."""
    a1 = cards_world.clients["a1"]
    sheet = make_state(PrintState, sign_in(engine, "sup_a"), "/cards/print")
    run(sheet.load)
    labels = {c["id"]: c["label"] for c in sheet.communes}
    assert labels[str(cards_world.commune_a1)] == t(
        "cardui.print.count", name="Xã A Một", count=0, without=1)
    events = run(sheet.download, {"commune_id": str(cards_world.commune_a1), "sheet": "new"})
    assert any("download" in repr(e) for e in events)
    assert sheet.success == t("cardui.print.done", count=1) and sheet.error == ""
    assert _cards_of(engine, a1) == [(CardStatus.ACTIVE, "")]
    assert {c["id"]: c["label"] for c in sheet.communes}[str(cards_world.commune_a1)] == t(
        "cardui.print.count", name="Xã A Một", count=1, without=0)
    # Again: nobody is left without a card, and the card in use is untouched.
    events = run(sheet.download, {"commune_id": str(cards_world.commune_a1), "sheet": "new"})
    assert not any("download" in repr(e) for e in events)
    assert sheet.error == t("cardui.print.nobody_new") and sheet.success == ""
    assert _cards_of(engine, a1) == [(CardStatus.ACTIVE, "")]
    assert len(audits(engine, action="card.print")) == 1


def test_reprinting_a_whole_commune_reissues_every_card(engine: Engine,
                                                        cards_world: World) -> None:
    issue(engine, cards_world, "a1", "vol_a1")
    sheet = make_state(PrintState, sign_in(engine, "sup_a"), "/cards/print")
    run(sheet.load)
    events = run(sheet.download, {"commune_id": str(cards_world.commune_a1),
                                  "sheet": "reissue"})
    assert any("download" in repr(e) for e in events)
    assert sheet.success == t("cardui.print.done", count=1)
    assert len(audits(engine, action="card.print")) == 1
    # The sheet prints new cards (the database has no clear token to print): the old one is
    # revoked as reissued.
    assert _cards_of(engine, cards_world.clients["a1"]) == [
        (CardStatus.ACTIVE, ""), (CardStatus.REVOKED, "reissued")]
    run(sheet.download, {"commune_id": str(cards_world.commune_a2), "sheet": "reissue"})
    assert sheet.error == t("cardui.print.nobody_reissue")
    for bad in ({"commune_id": "1; drop table", "sheet": "new"},
                {"commune_id": str(cards_world.commune_a1), "sheet": "everyone"}):
        run(sheet.download, bad)
        assert sheet.error == t("error.invalid_choice") and sheet.success == ""
    assert len(audits(engine, action="card.print")) == 1


def test_the_print_sheet_is_for_supervisors_only(engine: Engine, cards_world: World) -> None:
    issue(engine, cards_world)
    sheet = make_state(PrintState, sign_in(engine, "vol_a1"), "/cards/print")
    run(sheet.download, {"commune_id": str(cards_world.commune_a1)})
    assert audits(engine, action="card.print") == []
    assert audits(engine, action="handler.call", outcome="denied")
