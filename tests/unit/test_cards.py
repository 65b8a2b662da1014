"""QR client cards: tokens and codes, issuing and revoking, what a scan shows whom, attendance."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlmodel import Session, col, select

from app.services import cards
from app.services.actor import Actor
from app.services.card_render import qr_png
from app.services.cards import (
    CROCKFORD,
    SCAN_LIMIT,
    CardView,
    ScanStatus,
    ScanThrottled,
    card_history,
    format_short_code,
    issue_card,
    new_card_token,
    new_short_code,
    parse_scanned,
    print_cards,
    qr_payload,
    record_attendance,
    resolve_scan,
    revoke_card,
    scans_in_window,
    short_code_valid,
)
from app.services.clients import client_timeline
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.text import fold
from models import (
    AuditEvent,
    Card,
    CardStatus,
    Referral,
    ReferralStatus,
    Setting,
    Visit,
    VisitKind,
    utcnow,
)
from tests.factories import World, make_client, make_referral

BASE_URL = "https://donghanh.example.vn"
TODAY = date(2025, 10, 15)


def _actor(world: World, session: Session, name: str) -> Actor:
    actor = world.actor(session, name)
    assert actor is not None
    return actor


def _issue(world: World, session: Session, client: str = "a1",
           by: str = "vol_a1") -> cards.IssuedCard:
    """A card, with its clear token and code as only the issuing answer has them."""
    issued = issue_card(session=session, actor=_actor(world, session, by),
                        client_id=world.clients[client])
    session.commit()
    return issued


def _scan(world: World, session: Session, who: str, text: str) -> cards.ScanResult:
    result = resolve_scan(session=session, actor=_actor(world, session, who), scanned=text,
                          today=TODAY)
    session.commit()
    return result


def _scan_events(session: Session) -> list[AuditEvent]:
    return list(session.exec(
        select(AuditEvent).where(AuditEvent.action == "card.scan").order_by(col(AuditEvent.id))
    ).all())


# --- tokens, payloads, codes ---------------------------------------------------------------


def test_a_token_carries_at_least_128_random_bits() -> None:
    token = new_card_token()
    assert re.fullmatch(r"[A-Z2-7]{32}", token)
    assert len(base64.b32decode(token)) * 8 >= 128


def test_ten_thousand_tokens_and_short_codes_are_all_different() -> None:
    assert len({new_card_token() for _ in range(10_000)}) == 10_000
    assert len({new_short_code() for _ in range(10_000)}) == 10_000


def test_the_qr_text_is_the_app_link_with_prefix_and_token_and_nothing_else(
    session: Session, world: World
) -> None:
    card = _issue(world, session)
    payload = qr_payload(card.token, BASE_URL)
    assert payload == f"{BASE_URL}/k#DH1-{card.token}"
    fragment = payload.split("#", 1)[1]
    assert re.fullmatch(r"DH1-[A-Z2-7]{32}", fragment)
    folded = fold(payload)
    for word in ("cuong", "le van", "drug", "ma tuy", "matuy", "cai nghien", "rehab", "methadone",
                 card.short_code.lower()):
        assert word not in folded
    assert f"/{world.clients['a1']}" not in payload and f"={world.clients['a1']}" not in payload


def test_without_a_base_url_the_qr_holds_just_prefix_and_token() -> None:
    token = new_card_token()
    assert qr_payload(token, "") == f"DH1-{token}"


def test_scanned_text_is_read_from_the_link_the_bare_tag_or_a_typed_code() -> None:
    token = new_card_token()
    code = new_short_code()
    grouped = format_short_code(code)
    assert parse_scanned(f"{BASE_URL}/k#DH1-{token}") == token
    assert parse_scanned(f"  {BASE_URL.upper()}/K#dh1-{token.lower()} ") == token
    assert parse_scanned(f"DH1-{token}") == token
    assert parse_scanned(f"DH1{token}") == token
    assert parse_scanned(grouped) == code
    assert parse_scanned(grouped.lower().replace("-", " ")) == code
    assert parse_scanned(code) == code


def test_typing_o_for_zero_and_i_or_l_for_one_is_forgiven() -> None:
    code = next(c for c in iter(new_short_code, None) if "0" in c[:10] or "1" in c[:10])
    typed = code.replace("0", "o").replace("1", "l")
    assert parse_scanned(typed) == code


def test_text_that_is_not_a_card_reads_as_nothing() -> None:
    token = new_card_token()
    for text in ("", token, "hello", f"{BASE_URL}/k#XX9-{token}", f"{BASE_URL}/k#DH1-{token[:-1]}",
                 f"https://elsewhere.example/k#{new_short_code()}", "DH1-" + "1" * 32,
                 "A" * 400, "7KQ2-M9XD-4R"):
        assert parse_scanned(text) is None


def test_a_grouped_code_has_four_four_two_and_the_check_character() -> None:
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}-[0-9A-Z]", format_short_code(
        new_short_code()))


def _substitutions(code: str) -> list[str]:
    return [code[:i] + ch + code[i + 1:] for i in range(len(code)) for ch in CROCKFORD
            if ch != code[i]]


def _transpositions(code: str) -> list[str]:
    return [code[:i] + code[i + 1] + code[i] + code[i + 2:] for i in range(len(code) - 1)
            if code[i] != code[i + 1]]


def test_the_check_character_catches_every_single_substitution() -> None:
    code = new_short_code()
    assert short_code_valid(code)
    wrong = _substitutions(code)
    assert len(wrong) == 11 * 31
    assert not [w for w in wrong if short_code_valid(w)]


def test_the_check_character_catches_every_adjacent_transposition() -> None:
    code = "7KQ2M9XD4R"
    code += cards._check_char(code)
    assert short_code_valid(code)
    swapped = _transpositions(code)
    assert len(swapped) == 10
    assert not [s for s in swapped if short_code_valid(s)]


def test_the_check_holds_for_many_random_codes() -> None:
    for _ in range(300):
        code = new_short_code()
        assert short_code_valid(code)
        assert not any(short_code_valid(w) for w in _substitutions(code))
        assert not any(short_code_valid(s) for s in _transpositions(code))


# --- issuing, revoking, history ------------------------------------------------------------


def test_reissuing_leaves_exactly_one_active_card_and_keeps_the_history(
    session: Session, world: World
) -> None:
    first = _issue(world, session)
    second = _issue(world, session)
    rows = session.exec(select(Card).where(Card.client_id == world.clients["a1"])).all()
    assert [r.status for r in rows if r.status == CardStatus.ACTIVE] == [CardStatus.ACTIVE]
    old = session.get(Card, first.id)
    assert old is not None
    session.refresh(old)
    assert old.status == CardStatus.REVOKED and old.revoked_reason == "reissued"
    assert old.revoked_at is not None
    history = card_history(session=session, actor=_actor(world, session, "vol_a1"),
                           client_id=world.clients["a1"])
    assert [h.id for h in history] == [second.id, first.id]
    assert [h.status for h in history] == [CardStatus.ACTIVE, CardStatus.REVOKED]
    # The history never has the token or the code: the database keeps neither.
    assert "token" not in history[0].model_dump() and "short_code" not in history[0].model_dump()
    assert second.token not in repr(history) and second.short_code not in repr(history)


def test_issuing_is_audited_with_the_revocation_of_the_previous_card(
    session: Session, world: World
) -> None:
    _issue(world, session)
    _issue(world, session)
    actions = [e.action for e in session.exec(
        select(AuditEvent).where(col(AuditEvent.action).in_(["card.issue", "card.revoke"]))
        .order_by(col(AuditEvent.id))).all()]
    assert actions == ["card.issue", "card.revoke", "card.issue"]


def test_a_revoked_card_scans_as_revoked(session: Session, world: World) -> None:
    card = _issue(world, session)
    read = revoke_card(session=session, actor=_actor(world, session, "vol_a1"),
                       card_id=card.id or 0, reason="lost")
    session.commit()
    assert read.status == CardStatus.REVOKED and read.revoked_reason == "lost"
    result = _scan(world, session, "vol_a1", qr_payload(card.token, BASE_URL))
    assert result.status == ScanStatus.REVOKED
    assert result.message_key == "card.scan.revoked"  # no new card: not told to use one
    assert result.view is None


def test_a_replaced_card_says_to_use_the_new_one(session: Session, world: World) -> None:
    old = _issue(world, session)
    _issue(world, session)
    result = _scan(world, session, "vol_a1", qr_payload(old.token, BASE_URL))
    assert result.status == ScanStatus.REVOKED
    assert result.message_key == "card.scan.revoked_replaced"


def test_revoking_needs_a_known_reason_and_an_active_card(session: Session, world: World) -> None:
    card = _issue(world, session)
    me = _actor(world, session, "vol_a1")
    with pytest.raises(ValidationFailed):
        revoke_card(session=session, actor=me, card_id=card.id or 0, reason="because")
    revoke_card(session=session, actor=me, card_id=card.id or 0, reason="damaged")
    with pytest.raises(Conflict):
        revoke_card(session=session, actor=me, card_id=card.id or 0, reason="damaged")


def test_cards_are_issued_only_within_scope_and_never_by_clinic_staff(
    session: Session, world: World
) -> None:
    with pytest.raises(NotFound):
        issue_card(session=session, actor=_actor(world, session, "vol_a2"),
                   client_id=world.clients["a1"])
    with pytest.raises(PermissionDenied):
        issue_card(session=session, actor=_actor(world, session, "clinic_a"),
                   client_id=world.clients["a1"])
    assert issue_card(session=session, actor=_actor(world, session, "sup_a"),
                      client_id=world.clients["a2"]).status == CardStatus.ACTIVE


def test_tokens_stay_unique_over_many_issues(session: Session, world: World) -> None:
    me = _actor(world, session, "vol_a1")
    for _ in range(300):
        issue_card(session=session, actor=me, client_id=world.clients["a1"])
    session.commit()
    tokens = session.exec(select(Card.token_hash)).all()
    codes = session.exec(select(Card.code_hash)).all()
    assert len(tokens) == len(set(tokens)) == 300 == len(set(codes))
    active = session.exec(select(Card).where(Card.status == CardStatus.ACTIVE)).all()
    assert len(active) == 1


# --- scanning ------------------------------------------------------------------------------


def test_a_decoded_qr_resolves_to_its_client(session: Session, world: World) -> None:
    card = _issue(world, session)
    image = Image.open(io.BytesIO(qr_png(qr_payload(card.token, BASE_URL))))
    decoded = zxingcpp.read_barcodes(image)
    assert len(decoded) == 1
    result = _scan(world, session, "vol_a1", decoded[0].text)
    assert result.status == ScanStatus.OK
    assert result.view is not None and result.view.client_id == world.clients["a1"]
    assert result.view.given_name == "Cường"
    assert result.view.age == TODAY.year - 1990


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_a_printed_card_decodes_and_resolves(session: Session, world: World,
                                             tmp_path: Path) -> None:
    _issue(world, session)
    pdf = print_cards(session=session, actor=_actor(world, session, "vol_a1"),
                      client_ids=[world.clients["a1"]], base_url=BASE_URL, layout="id1")
    session.commit()
    (tmp_path / "card.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "300", "-png", "-singlefile", str(tmp_path / "card.pdf"),
                    str(tmp_path / "card")], check=True)
    decoded = zxingcpp.read_barcodes(Image.open(tmp_path / "card.png"))
    assert len(decoded) == 1
    result = _scan(world, session, "clinic_a", decoded[0].text)
    assert result.status == ScanStatus.OK
    assert result.view is not None and result.view.client_id == world.clients["a1"]


def test_a_typed_short_code_finds_the_same_card(session: Session, world: World) -> None:
    card = _issue(world, session)
    typed = format_short_code(card.short_code).lower()
    result = _scan(world, session, "sup_a1", typed)
    assert result.status == ScanStatus.OK
    assert result.view is not None and result.view.client_id == world.clients["a1"]


def test_out_of_scope_staff_and_unknown_cards_get_the_same_generic_answer(
    session: Session, world: World
) -> None:
    card = _issue(world, session)
    known = qr_payload(card.token, BASE_URL)
    unknown = qr_payload(new_card_token(), BASE_URL)
    typed_unknown = format_short_code(new_short_code())
    answers = [
        _scan(world, session, "clinic_b", known),  # clinic of another facility
        _scan(world, session, "vol_a2", known),  # volunteer of another commune
        _scan(world, session, "vol_a1_peer", known),  # same commune, not their client
        _scan(world, session, "sup_b", known),  # supervisor of another province
        _scan(world, session, "vol_a1", unknown),
        _scan(world, session, "clinic_b", typed_unknown),
    ]
    assert all(a == answers[0] for a in answers)
    assert answers[0].status == ScanStatus.NOT_FOUND and answers[0].view is None
    assert answers[0].model_dump() == {"status": ScanStatus.NOT_FOUND,
                                       "message_key": "card.scan.not_found", "view": None}


def test_a_revoked_card_outside_scope_is_just_not_found(session: Session, world: World) -> None:
    card = _issue(world, session)
    revoke_card(session=session, actor=_actor(world, session, "vol_a1"), card_id=card.id or 0,
                reason="stolen")
    session.commit()
    result = _scan(world, session, "clinic_b", qr_payload(card.token, BASE_URL))
    assert result.status == ScanStatus.NOT_FOUND


def test_a_mistyped_code_is_reported_as_invalid_without_a_lookup(
    session: Session, world: World
) -> None:
    card = _issue(world, session)
    code = card.short_code
    typo = code[:3] + next(c for c in CROCKFORD if c != code[3]) + code[4:]
    result = _scan(world, session, "vol_a1", typo)
    assert result.status == ScanStatus.INVALID and result.view is None


def test_roles_without_the_scan_right_are_refused_and_that_is_audited(
    session: Session, world: World
) -> None:
    card = _issue(world, session)
    with pytest.raises(PermissionDenied):
        resolve_scan(session=session, actor=_actor(world, session, "admin"),
                     scanned=qr_payload(card.token, BASE_URL), today=TODAY)
    session.rollback()
    events = _scan_events(session)
    assert [(e.role, e.outcome) for e in events] == [("admin", "denied")]
    with pytest.raises(PermissionDenied):
        resolve_scan(session=session, actor=None, scanned=card.token, today=TODAY)


def test_every_scan_is_audited_without_the_token_or_code(session: Session, world: World) -> None:
    card = _issue(world, session)
    known = qr_payload(card.token, BASE_URL)
    _scan(world, session, "vol_a1", known)
    _scan(world, session, "clinic_b", known)
    _scan(world, session, "clinic_a", format_short_code(card.short_code))
    _scan(world, session, "vol_a1", qr_payload(new_card_token(), BASE_URL))
    _scan(world, session, "vol_a1", "nonsense")
    revoke_card(session=session, actor=_actor(world, session, "vol_a1"), card_id=card.id or 0,
                reason="lost")
    _scan(world, session, "vol_a1", known)
    events = _scan_events(session)
    assert [e.outcome for e in events] == ["ok", "denied", "ok", "not_found", "invalid",
                                           "revoked"]
    assert [e.target_id for e in events] == [card.id, card.id, card.id, None, None, card.id]
    for event in events:
        assert card.token not in event.detail and card.short_code not in event.detail
        assert card.token.lower() not in event.detail.lower()


def test_the_thirty_first_scan_in_ten_minutes_is_throttled(session: Session, world: World) -> None:
    card = _issue(world, session)
    known = qr_payload(card.token, BASE_URL)
    for _ in range(SCAN_LIMIT):
        assert _scan(world, session, "vol_a1", known).status == ScanStatus.OK
    with pytest.raises(ScanThrottled) as refused:
        resolve_scan(session=session, actor=_actor(world, session, "vol_a1"), scanned=known,
                     today=TODAY)
    session.rollback()
    assert refused.value.key == "card.error.scan_throttled"
    events = _scan_events(session)
    assert len(events) == SCAN_LIMIT + 1
    assert (events[-1].outcome, events[-1].detail) == ("denied", "throttled")
    # Someone else is not held back by it.
    assert _scan(world, session, "sup_a1", known).status == ScanStatus.OK
    # The window slides: ten minutes later the user may scan again.
    me = _actor(world, session, "vol_a1")
    assert scans_in_window(session, me) == SCAN_LIMIT
    assert scans_in_window(session, me, now=utcnow() + timedelta(minutes=11)) == 0


def test_unknown_guesses_count_towards_the_limit(session: Session, world: World) -> None:
    for _ in range(SCAN_LIMIT):
        _scan(world, session, "clinic_a", format_short_code(new_short_code()))
    with pytest.raises(ScanThrottled):
        resolve_scan(session=session, actor=_actor(world, session, "clinic_a"),
                     scanned=format_short_code(new_short_code()), today=TODAY)


def test_clinic_staff_see_only_the_minimal_view_and_their_own_referrals(
    session: Session, world: World
) -> None:
    a1 = world.clients["a1"]
    # Another facility's referral and a finished one must not show.
    make_referral(session, a1, world.facility_b)
    make_referral(session, a1, world.facility_a, status=ReferralStatus.USED)
    session.add(Visit(client_id=a1, visit_date=TODAY, kind=VisitKind.HOME, notes="private"))
    session.commit()
    card = _issue(world, session)
    result = _scan(world, session, "clinic_a", qr_payload(card.token, BASE_URL))
    assert result.status == ScanStatus.OK and result.view is not None
    view = result.view.model_dump()
    assert set(view) == {"client_id", "given_name", "age", "photo_path", "card_status",
                         "referrals"}
    assert set(CardView.model_fields) == set(view)
    flat = repr(view).lower()
    for leaked in ("hiv", "positive", "tày", "note", "private", "test", "lê văn", "substance"):
        assert leaked not in flat
    assert [r["id"] for r in view["referrals"]] == [world.referrals["a1"]]
    assert view["referrals"][0]["status"] == ReferralStatus.SENT


def test_volunteers_get_the_minimal_view_without_referrals(session: Session, world: World) -> None:
    session.add(Setting(key="unused", value=""))
    card = _issue(world, session)
    result = _scan(world, session, "vol_a1", qr_payload(card.token, BASE_URL))
    assert result.view is not None
    assert result.view.referrals == [] and result.view.photo_path is None


def test_age_uses_the_birth_date_when_known(session: Session, world: World) -> None:
    client_id = make_client(session, world.commune_a1, world.users["vol_a1"], name="Đỗ Thị Ánh",
                            birth_year=2000, birth_date=date(2000, 12, 31),
                            photo_path="photos/x.jpg")
    session.commit()
    card = issue_card(session=session, actor=_actor(world, session, "vol_a1"), client_id=client_id)
    result = _scan(world, session, "vol_a1", f"DH1-{card.token}")
    assert result.view is not None
    assert (result.view.given_name, result.view.age) == ("Ánh", 24)
    assert result.view.photo_path == "photos/x.jpg"


# --- attendance ----------------------------------------------------------------------------


def test_recording_attendance_completes_the_referral_and_shows_on_the_timeline(
    session: Session, world: World
) -> None:
    card = _issue(world, session)
    clinic = _actor(world, session, "clinic_a")
    done = record_attendance(session=session, actor=clinic, referral_id=world.referrals["a1"],
                             card_lookup=qr_payload(card.token, BASE_URL), today=TODAY)
    session.commit()
    assert done.referral_status == ReferralStatus.USED and done.visit_date == TODAY
    referral = session.get(Referral, world.referrals["a1"])
    assert referral is not None
    session.refresh(referral)
    assert referral.status == ReferralStatus.USED
    assert referral.feedback_on == TODAY
    assert referral.closed_by_id == world.users["clinic_a"]
    visit = session.get(Visit, done.visit_id)
    assert visit is not None
    assert (visit.kind, visit.author_id, visit.notes, visit.client_id) == (
        VisitKind.CLINIC_ATTENDANCE, world.users["clinic_a"], "", world.clients["a1"])
    timeline = client_timeline(session=session, actor=_actor(world, session, "vol_a1"),
                               client_id=world.clients["a1"])
    assert any(i.kind == "visit" and i.fields["kind"] == VisitKind.CLINIC_ATTENDANCE
               for i in timeline)
    # The referral is closed now: the scan no longer lists it, and a second attendance fails.
    after = _scan(world, session, "clinic_a", qr_payload(card.token, BASE_URL))
    assert after.view is not None and after.view.referrals == []
    with pytest.raises(Conflict):
        record_attendance(session=session, actor=clinic, referral_id=world.referrals["a1"],
                          client_id=world.clients["a1"], today=TODAY)


def test_attendance_only_for_a_referral_to_ones_own_facility(
    session: Session, world: World
) -> None:
    _issue(world, session)
    with pytest.raises(NotFound):
        record_attendance(session=session, actor=_actor(world, session, "clinic_b"),
                          referral_id=world.referrals["a1"], client_id=world.clients["a1"],
                          today=TODAY)
    session.rollback()
    denied = session.exec(select(AuditEvent).where(AuditEvent.action == "card.attendance")).all()
    assert [(e.outcome, e.target_id) for e in denied] == [("denied", world.referrals["a1"])]
    with pytest.raises(PermissionDenied):
        record_attendance(session=session, actor=_actor(world, session, "sup_a1"),
                          referral_id=world.referrals["a1"], today=TODAY)
    with pytest.raises(PermissionDenied):
        record_attendance(session=session, actor=_actor(world, session, "vol_a1"),
                          referral_id=world.referrals["a1"], today=TODAY)


def test_attendance_with_someone_elses_card_is_refused(session: Session, world: World) -> None:
    other = _issue(world, session, client="a2", by="vol_a2")
    with pytest.raises(NotFound):
        record_attendance(session=session, actor=_actor(world, session, "clinic_a"),
                          referral_id=world.referrals["a1"],
                          card_lookup=qr_payload(other.token, BASE_URL), today=TODAY)
    with pytest.raises(NotFound):
        record_attendance(session=session, actor=_actor(world, session, "clinic_a"),
                          referral_id=world.referrals["a1"], client_id=world.clients["a2"],
                          today=TODAY)
    referral = session.get(Referral, world.referrals["a1"])
    assert referral is not None and referral.status == ReferralStatus.SENT


# --- printing ------------------------------------------------------------------------------


def test_printing_uses_the_programme_name_setting_and_is_audited(
    session: Session, world: World
) -> None:
    session.add(Setting(key=cards.PROGRAMME_NAME_SETTING, value="Chương trình Bạn Đồng Hành"))
    _issue(world, session)
    assert cards.programme_name(session) == "Chương trình Bạn Đồng Hành"
    pdf = print_cards(session=session, actor=_actor(world, session, "vol_a1"),
                      client_ids=[world.clients["a1"]], base_url=BASE_URL)
    assert pdf.startswith(b"%PDF")
    printed = session.exec(select(AuditEvent).where(AuditEvent.action == "card.print")).all()
    assert len(printed) == 1


def test_printing_needs_an_active_card_in_scope(session: Session, world: World) -> None:
    me = _actor(world, session, "vol_a1")
    with pytest.raises(ValidationFailed):
        print_cards(session=session, actor=me, client_ids=[world.clients["a1"]],
                    base_url=BASE_URL)
    _issue(world, session, client="a2", by="vol_a2")
    with pytest.raises(NotFound):
        print_cards(session=session, actor=me, client_ids=[world.clients["a2"]],
                    base_url=BASE_URL)


def test_a_sheet_of_new_cards_never_replaces_a_card_in_use(session: Session,
                                                          world: World) -> None:
    me = _actor(world, session, "vol_a1")
    _issue(world, session)
    with pytest.raises(ValidationFailed):
        print_cards(session=session, actor=me, client_ids=[world.clients["a1"]],
                    base_url=BASE_URL, sheet="new")
    cards_now = session.exec(select(Card).where(Card.client_id == world.clients["a1"])).all()
    assert [c.status for c in cards_now] == [CardStatus.ACTIVE]


def test_the_default_programme_name_is_neutral(session: Session) -> None:
    name = fold(cards.programme_name(session))
    assert name and not any(w in name for w in ("ma tuy", "cai nghien", "drug"))


def test_the_scan_limit_also_counts_per_network_address(session: Session, world: World) -> None:
    """Many accounts behind one address cannot multiply the limit."""
    from app.services.cards import SCAN_LIMIT_PER_ADDRESS

    card = _issue(world, session)
    known = qr_payload(card.token, BASE_URL)
    users = ["vol_a1", "sup_a1", "clinic_a"]
    for i in range(SCAN_LIMIT_PER_ADDRESS):  # spread so that no user reaches their own limit
        resolve_scan(session=session, actor=_actor(world, session, users[i % 3]),
                     scanned=known, today=TODAY, client_addr="203.0.113.9")
    with pytest.raises(ScanThrottled):
        resolve_scan(session=session, actor=_actor(world, session, "vol_a1"), scanned=known,
                     today=TODAY, client_addr="203.0.113.9")
    session.rollback()
    # From another address the same user scans on.
    found = resolve_scan(session=session, actor=_actor(world, session, "vol_a1"),
                         scanned=known, today=TODAY, client_addr="198.51.100.4")
    assert found.status == ScanStatus.OK


def test_the_scan_limit_also_counts_per_device(session: Session, world: World) -> None:
    """Issue 19 item 9: switching accounts on one clinic tablet cannot multiply the limit,
    even where each scan comes from a different address; the trail names the device by a
    short hash, never its id."""
    from app.services.cards import SCAN_LIMIT_PER_DEVICE, device_key

    card = _issue(world, session)
    known = qr_payload(card.token, BASE_URL)
    users = ["vol_a1", "sup_a1", "clinic_a"]
    tablet = "tablet-" + "x" * 20
    for i in range(SCAN_LIMIT_PER_DEVICE):  # spread so that no user reaches their own limit
        resolve_scan(session=session, actor=_actor(world, session, users[i % 3]),
                     scanned=known, today=TODAY, client_addr=f"198.51.100.{i}",
                     device_id=tablet)
    details = session.exec(select(AuditEvent.detail).where(
        AuditEvent.action == "card.scan")).all()
    assert len(details) == SCAN_LIMIT_PER_DEVICE
    assert all(f"dev={device_key(tablet)}" in d for d in details)
    assert not [d for d in details if tablet in d]
    with pytest.raises(ScanThrottled):
        resolve_scan(session=session, actor=_actor(world, session, "clinic_a"), scanned=known,
                     today=TODAY, client_addr="192.0.2.1", device_id=tablet)
    session.rollback()
    # On another device the same user scans on.
    found = resolve_scan(session=session, actor=_actor(world, session, "clinic_a"),
                         scanned=known, today=TODAY, client_addr="192.0.2.1",
                         device_id="phone-" + "y" * 20)
    assert found.status == ScanStatus.OK


# --- keyed hashes (issue 19 item 9) ----------------------------------------------------------


def test_the_database_keeps_only_keyed_hashes_of_the_token_and_the_code(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No column of the card row holds the token or the code in any form a reader could type;
    the hashes are keyed (HMAC under the server key), so without the key nobody can test
    guesses against a copied database; the scan looks up by the hash of what it read."""
    import hashlib

    from app.services import security

    issued = _issue(world, session)
    row = session.get(Card, issued.id)
    assert row is not None
    stored = " ".join(str(getattr(row, c.name)) for c in Card.__table__.columns).upper()
    for secret in (issued.token, issued.short_code, format_short_code(issued.short_code)):
        assert secret.upper() not in stored
    assert row.token_hash == security.keyed_hash("card-token", issued.token)
    assert row.code_hash == security.keyed_hash("card-code", issued.short_code)
    assert row.token_hash != hashlib.sha256(issued.token.encode()).hexdigest()
    assert _scan(world, session, "vol_a1", qr_payload(issued.token, BASE_URL)).status \
        == ScanStatus.OK
    # Another server key: the same stored hashes match nothing.
    monkeypatch.setenv(security.SERVER_KEY_ENV, "k" * 40)
    assert _scan(world, session, "vol_a1", qr_payload(issued.token, BASE_URL)).status \
        == ScanStatus.NOT_FOUND
    assert _scan(world, session, "vol_a1", format_short_code(issued.short_code)).status \
        == ScanStatus.NOT_FOUND


def test_the_server_key_is_made_once_outside_the_database_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.services import security

    monkeypatch.delenv(security.SERVER_KEY_ENV, raising=False)
    first = security.server_key(tmp_path)
    assert first == security.server_key(tmp_path) and len(first) >= 32
    key_file = tmp_path / security.SERVER_KEY_FILE
    assert key_file.stat().st_mode & 0o077 == 0  # the app's user only
    assert [p.name for p in tmp_path.iterdir()] == [security.SERVER_KEY_FILE]
    monkeypatch.setenv(security.SERVER_KEY_ENV, "short")
    with pytest.raises(RuntimeError):
        security.server_key(tmp_path)


def test_printing_again_issues_a_new_card_and_revokes_the_old(session: Session,
                                                              world: World) -> None:
    """The old token cannot be printed again (the database has only its hash): a reprint is a
    new card, and the card the client held says "use the new card"."""
    old = _issue(world, session)
    pdf = print_cards(session=session, actor=_actor(world, session, "vol_a1"),
                      client_ids=[world.clients["a1"]], base_url=BASE_URL, layout="id1")
    session.commit()
    assert pdf.startswith(b"%PDF")
    active = session.exec(select(Card).where(Card.client_id == world.clients["a1"],
                                             Card.status == CardStatus.ACTIVE)).all()
    assert [c.id for c in active] != [old.id] and len(active) == 1
    again = _scan(world, session, "vol_a1", qr_payload(old.token, BASE_URL))
    assert again.message_key == "card.scan.revoked_replaced"
    actions = [e.action for e in session.exec(select(AuditEvent).where(
        col(AuditEvent.action).in_(["card.issue", "card.revoke", "card.print"]))
        .order_by(col(AuditEvent.id))).all()]
    assert actions == ["card.issue", "card.revoke", "card.issue", "card.print"]


def test_a_card_just_issued_prints_once_it_is_still_the_active_one(session: Session,
                                                                   world: World) -> None:
    me = _actor(world, session, "vol_a1")
    first = _issue(world, session)
    pdf = cards.print_issued(session=session, actor=me, issued=[first], base_url=BASE_URL,
                             layout="id1")
    assert pdf.startswith(b"%PDF")
    _issue(world, session)
    with pytest.raises(ValidationFailed):  # replaced since: its token no longer scans
        cards.print_issued(session=session, actor=me, issued=[first], base_url=BASE_URL)
    forged = first.model_copy(update={"token": new_card_token()})
    with pytest.raises(ValidationFailed):
        cards.print_issued(session=session, actor=me, issued=[forged], base_url=BASE_URL)
