"""Attacks on the cards: guessing, looking outside one's scope, calling handlers signed out,
hammering the scanner. Service level where a browser adds nothing, State level otherwise."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app.i18n import t
from app.pages.cards import CardState, PrintState
from app.pages.scan import ScanState
from app.services.cards import (
    SCAN_LIMIT,
    ScanStatus,
    format_short_code,
    new_card_token,
    new_short_code,
    qr_payload,
    resolve_scan,
)
from models import AuditEvent, Referral, ReferralStatus, Visit
from tests.factories import World
from tests.state import test_cards_state
from tests.state.conftest import audits, run, sign_in, world_db  # noqa: F401 (a fixture)
from tests.state.test_cards_state import ORIGIN, issue, make_state

cards_world = test_cards_state.cards_world  # the card screens' fixture, here too


def _scan_events(engine: Engine) -> list[AuditEvent]:
    with Session(engine) as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == "card.scan")
                           .order_by(col(AuditEvent.id))).all())


def _sent_to_sign_in(events: list[Any]) -> bool:
    text = repr(events)
    return "/api/auth/signed-out" in text and "dhWipeDevice" in text


def test_guessed_tokens_and_codes_find_nothing_and_each_guess_is_audited(
    engine: Engine, cards_world: World
) -> None:
    card = issue(engine, cards_world)
    guesses = [qr_payload(new_card_token(), ORIGIN) for _ in range(8)]
    guesses += [format_short_code(new_short_code()) for _ in range(8)]
    with Session(engine) as s:
        me = cards_world.actor(s, "vol_a1")
        answers = [resolve_scan(session=s, actor=me, scanned=g) for g in guesses]
        s.commit()
    assert {a.status for a in answers} == {ScanStatus.NOT_FOUND}
    assert all(a.view is None for a in answers)
    events = _scan_events(engine)
    assert len(events) == len(guesses)
    assert {e.outcome for e in events} == {"not_found"}
    trail = repr([(e.detail, e.target_id) for e in events])
    assert card.token not in trail and all(g not in trail for g in guesses)


def test_a_mistyped_or_made_up_code_never_reaches_a_lookup(engine: Engine, cards_world: World
                                                          ) -> None:
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    forged = ("AAAA-BBBB-CC-D", "https://evil.example/k#DH1-" + "A" * 32, "<b>", "x" * 5000)
    for text in forged:
        run(scan.submit_code, {"code": text})
        assert scan.result in ("invalid", "not_found") and scan.given_name == ""
    assert len(_scan_events(engine)) == 4


def test_clinic_staff_of_another_facility_get_the_same_not_found_as_an_unknown_card(
    engine: Engine, cards_world: World
) -> None:
    card = issue(engine, cards_world)
    other = make_state(ScanState, sign_in(engine, "clinic_b"))
    run(other.scanned, qr_payload(card.token, ORIGIN))
    known_answer = (other.result, other.message, other.given_name, other.referrals)
    run(other.scanned, qr_payload(new_card_token(), ORIGIN))
    unknown_answer = (other.result, other.message, other.given_name, other.referrals)
    assert known_answer == unknown_answer == ("not_found", t("card.scan.not_found"), "", [])
    assert [e.outcome for e in _scan_events(engine)] == ["denied", "not_found"]


def test_out_of_scope_staff_cannot_record_attendance_for_someone_elses_referral(
    engine: Engine, cards_world: World
) -> None:
    card = issue(engine, cards_world)
    other = make_state(ScanState, sign_in(engine, "clinic_b"))
    run(other.scanned, qr_payload(card.token, ORIGIN))
    run(other.record_attendance, cards_world.referrals["a1"])
    with Session(engine) as s:
        referral = s.get(Referral, cards_world.referrals["a1"])
        assert referral is not None and referral.status == ReferralStatus.SENT
        assert s.exec(select(Visit)).all() == []
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "card.attendance")).all()
        assert [(e.outcome, e.target_id) for e in refused] == [
            ("denied", cards_world.referrals["a1"])]


def test_every_card_handler_called_signed_out_goes_to_sign_in(engine: Engine,
                                                            cards_world: World) -> None:
    card = issue(engine, cards_world)
    calls: list[tuple[type[Any], str, str, tuple[Any, ...]]] = [
        (ScanState, "/scan", "load", ()),
        (ScanState, "/scan", "scanned", (qr_payload(card.token, ORIGIN),)),
        (ScanState, "/scan", "submit_code", ({"code": format_short_code(card.short_code)},)),
        (ScanState, "/scan", "start_camera", ()),
        (ScanState, "/scan", "stop_camera", ()),
        (ScanState, "/scan", "scan_next", ()),
        (ScanState, "/scan", "camera_failed", ("denied",)),
        (ScanState, "/scan", "record_attendance", (cards_world.referrals["a1"],)),
        (CardState, f"/clients/{cards_world.clients['a1']}/card", "load", ()),
        (CardState, f"/clients/{cards_world.clients['a1']}/card", "ask", ("revoke",)),
        (CardState, f"/clients/{cards_world.clients['a1']}/card", "issue",
         ({"issue_key": "0" * 32},)),
        (CardState, f"/clients/{cards_world.clients['a1']}/card", "revoke", ({"reason": "lost"},)),
        (CardState, f"/clients/{cards_world.clients['a1']}/card", "download_card", ()),
        (PrintState, "/cards/print", "load", ()),
        (PrintState, "/cards/print", "download", ({"commune_id": str(cards_world.commune_a1)},)),
    ]
    for cls, path, name, args in calls:
        state = make_state(cls, "", path)
        events = run(getattr(state, name), *args)
        assert _sent_to_sign_in(events), f"{cls.__name__}.{name}"
        assert getattr(state, "given_name", "") == "" and getattr(state, "qr_src", "") == ""
    assert _scan_events(engine) == []
    assert audits(engine, action="card.print") == []


def test_a_forged_session_token_is_treated_as_signed_out(engine: Engine, cards_world: World
                                                        ) -> None:
    card = issue(engine, cards_world)
    scan = make_state(ScanState, "forged-" + "a" * 40)
    events = run(scan.scanned, qr_payload(card.token, ORIGIN))
    assert _sent_to_sign_in(events) and scan.result == ""


def test_administrators_may_not_scan_and_the_attempt_is_audited(engine: Engine,
                                                                cards_world: World) -> None:
    card = issue(engine, cards_world)
    scan = make_state(ScanState, sign_in(engine, "admin"))
    run(scan.scanned, qr_payload(card.token, ORIGIN))
    assert scan.result == "" and scan.given_name == ""
    refused = audits(engine, action="handler.call", outcome="denied")
    assert [e.detail for e in refused] == ["ScanState.scanned"]


def test_hammering_the_scanner_is_throttled_with_a_message(engine: Engine, cards_world: World
                                                          ) -> None:
    scan = make_state(ScanState, sign_in(engine, "clinic_a"))
    for _ in range(SCAN_LIMIT):
        run(scan.submit_code, {"code": format_short_code(new_short_code())})
        assert scan.result == "not_found"
    run(scan.submit_code, {"code": format_short_code(new_short_code())})
    assert scan.result == "error"
    assert scan.message == t("card.error.scan_throttled")
    throttled = [e for e in _scan_events(engine) if e.detail == "throttled"]
    assert len(throttled) == 1 and throttled[0].outcome == "denied"


def test_a_supervisor_of_another_province_cannot_print_or_list_these_cards(
    engine: Engine, cards_world: World
) -> None:
    issue(engine, cards_world)
    sheet = make_state(PrintState, sign_in(engine, "sup_b"), "/cards/print")
    run(sheet.load)
    assert [c["id"] for c in sheet.communes] == [str(cards_world.commune_b1)]  # their own
    for which in ("new", "reissue"):
        events = run(sheet.download, {"commune_id": str(cards_world.commune_a1), "sheet": which})
        assert not any("download" in repr(e) for e in events) and sheet.error
    assert audits(engine, action="card.print") == []


def test_the_scan_screen_counts_the_device_of_the_handshake_cookie(
    engine: Engine, cards_world: World
) -> None:
    """The device id is read from the websocket handshake's cookie (never from an event):
    a second account on the same browser is held back once the device has used the limit."""
    from reflex.istate.data import HeaderData, RouterData

    from app.services.cards import SCAN_LIMIT_PER_DEVICE

    def on_tablet(state: Any, device: str) -> Any:
        cookie = state.router.headers.cookie
        state.router = RouterData(url=state.router.url,
                                  headers=HeaderData(cookie=f"{cookie}; dh_device={device}"))
        return state

    tablet = "T" * 22
    first = on_tablet(make_state(ScanState, sign_in(engine, "clinic_a")), tablet)
    for _ in range(SCAN_LIMIT_PER_DEVICE // 2):
        run(first.submit_code, {"code": format_short_code(new_short_code())})
    second = on_tablet(make_state(ScanState, sign_in(engine, "sup_a1")), tablet)
    for _ in range(SCAN_LIMIT_PER_DEVICE - SCAN_LIMIT_PER_DEVICE // 2):
        run(second.submit_code, {"code": format_short_code(new_short_code())})
        assert second.result == "not_found"
    run(second.submit_code, {"code": format_short_code(new_short_code())})
    assert second.message == t("card.error.scan_throttled")
    # The same account on another browser goes on.
    elsewhere = on_tablet(make_state(ScanState, sign_in(engine, "sup_a1")), "P" * 22)
    run(elsewhere.submit_code, {"code": format_short_code(new_short_code())})
    assert elsewhere.result == "not_found"
