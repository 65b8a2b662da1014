"""The record forms on a phone: what a volunteer taps, what they see, and what is stored."""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import select

from app.services import clients
from app.services.actor import load_actor
from app.services.calendar import today_vn
from app.services.db import engine_for, session_scope
from app.services.demo import DEMO_PASSWORD
from app.services.dto import ClientCreate, ConsentInput
from app.services.text import fold
from models import Client, Role, Sex, User
from tests.e2e.conftest import PHONE, close_context
from tests.e2e.server import ROOT
from tests.e2e.test_auth import sign_in

SCREENS = ROOT / "docs" / "screens"
AXE_JS = ROOT / ".tools" / "node_modules" / "axe-core" / "axe.min.js"


# --- helpers -------------------------------------------------------------------------------


def _rows(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def _new_client(db: Path, *, assigned: bool = True) -> tuple[int, str]:
    """A client of tnv.demo (or nobody's) with a unique name, made through the real service."""
    name = f"Đỗ Thử {secrets.token_hex(3).upper()}"
    with session_scope(engine_for(f"sqlite:///{db}")) as session:
        user = session.exec(select(User).where(User.username == "tnv.demo")).one()
        actor = load_actor(session, user_id=user.id, role=Role.VOLUNTEER)  # type: ignore[arg-type]
        assert actor is not None
        commune = min(actor.commune_ids)
        if not assigned:  # someone else's: a client this volunteer may not open
            client = Client(full_name=name, name_key=fold(name), birth_year=1991,
                            sex=Sex.MALE, commune_id=commune, assigned_volunteer_id=None)
            session.add(client)
            session.flush()
            assert client.id is not None
            return client.id, name
        read = clients.register_client(
            session=session, actor=actor, confirm_duplicates=True,
            data=ClientCreate(full_name=name, birth_year=1992, sex=Sex.MALE,
                              commune_id=commune, consents=[ConsentInput(given_on=today_vn())]),
        )
        return read.id, name


def _axe_serious(page: Page, scope: str = "#main") -> list[str]:
    """Serious or critical axe-core violations in the form's part of the page, as it is now.

    The shared frame (top bar, navigation) is scanned by its own tests."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async (scope) => (await axe.run(scope, {resultTypes: ['violations']})).violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact))"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '))",
        scope,
    )
    return list(result)


def _screen_and_scan(page: Page, name: str) -> None:
    """Save the Vietnamese phone screenshot for the docs and check accessibility."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # let fonts and the sticky bars settle
    page.screenshot(path=str(SCREENS / f"{name}.png"))
    assert _axe_serious(page) == []


@pytest.fixture
def volunteer(page: Page) -> Iterator[Page]:
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(re.compile(r"/today$"))
    yield page


def _open_form(page: Page, path: str) -> None:
    page.goto(path)
    expect(page.locator("#save")).to_be_visible()


# --- visits --------------------------------------------------------------------------------


def test_a_visit_with_the_defaults_takes_a_tap_on_the_kind_and_one_on_save(
    volunteer: Page, e2e_db: Path, base_url: str
) -> None:
    page = volunteer
    client_id, name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/visit")
    expect(page.locator("#client-name")).to_have_text(name)
    expect(page.locator("#visit_date")).to_have_value(today_vn().isoformat())
    _screen_and_scan(page, "visit")
    page.get_by_text("Điện thoại / Zalo").click()
    page.locator("#save").click()
    expect(page).to_have_url(f"{base_url}clients/{client_id}")
    rows = _rows(e2e_db, "SELECT kind, visit_date, content, next_appointment, author_id "
                 "FROM visit WHERE client_id = ?", client_id)
    author = _rows(e2e_db, "SELECT id FROM user WHERE username = 'tnv.demo'")[0][0]
    assert rows == [("phone", today_vn().isoformat(), "counselling", None, author)]


def test_a_future_visit_date_is_refused_with_its_message_and_nothing_typed_is_lost(
    volunteer: Page, e2e_db: Path
) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/visit")
    tomorrow = (today_vn() + timedelta(days=1)).isoformat()
    date_input = page.locator("#visit_date")
    date_input.fill(tomorrow)
    # The browser refuses it first (max attribute) ...
    expect(date_input).to_have_attribute("max", today_vn().isoformat())  # once the page loaded
    assert date_input.evaluate("el => el.checkValidity()") is False
    page.get_by_label("Tình hình ghi nhận").fill("Gia đình hợp tác, đã đi làm lại.")
    page.get_by_text("Mâu thuẫn gia đình").click()
    page.get_by_text("Gặp tại cộng đồng").click()
    # ... and the device refuses it too (an old browser that ignores `max`), next to the field,
    # before the record is saved anywhere (assets/device/src/forms.js).
    page.locator("#visit-form").evaluate("form => { form.noValidate = true }")
    page.locator("#save").click()
    error = page.locator("#visit_date-error")
    expect(error).to_contain_text("không được ở tương lai")
    expect(page.locator("#dh-notice")).to_contain_text("xem lại")
    expect(page.get_by_label("Tình hình ghi nhận")).to_have_value(
        "Gia đình hợp tác, đã đi làm lại."
    )
    expect(page.locator("#risk_family")).to_be_checked()
    expect(page.locator("#kind-community_meeting")).to_be_checked()
    expect(date_input).to_have_value(tomorrow)
    assert _rows(e2e_db, "SELECT count(*) FROM visit WHERE client_id = ?", client_id) == [(0,)]


def test_a_double_tap_on_save_stores_one_visit(volunteer: Page, e2e_db: Path,
                                               base_url: str) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/visit")
    # Two submissions of the same form, as fast as a thumb can tap twice.
    page.locator("#visit-form").evaluate("form => { form.requestSubmit(); form.requestSubmit(); }")
    expect(page).to_have_url(f"{base_url}clients/{client_id}")
    page.wait_for_timeout(1000)  # give a second record every chance to appear
    assert _rows(e2e_db, "SELECT count(*) FROM visit WHERE client_id = ?", client_id) == [(1,)]


def test_a_clients_page_and_forms_paint_their_frame_before_any_code_then_are_that_clients(
    volunteer: Page, e2e_db: Path, browser: Browser, base_url: str
) -> None:
    """A client's page and forms are answered with their route's frame, prerendered once for
    every client (app/api/route_shell.py, issue 20): a phone paints the form before any of the
    page's code has come. The frame holds nothing of the client (the same bytes for everyone,
    signed in or not); once its code has run it is that client's page, links included."""
    client_id, name = _new_client(e2e_db)
    bare = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN",
                               java_script_enabled=False)
    try:
        frame = bare.new_page()
        frame.goto(f"/clients/{client_id}/visit")
        expect(frame.get_by_role("heading", name="Ghi lần thăm")).to_be_visible()
        expect(frame.get_by_text("Thăm tại nhà")).to_be_visible()
        expect(frame.locator("#save")).to_be_visible()
        assert name not in frame.content()
    finally:
        close_context(bare)
    page = volunteer
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"/clients/{client_id}")
    expect(page.locator("#action-visit")).to_have_attribute("href",
                                                            f"/clients/{client_id}/visit")
    page.locator("#action-visit").click()
    expect(page.locator("#client-name")).to_have_text(name)
    expect(page.locator("#visit_date")).to_have_value(today_vn().isoformat())
    assert errors == []


def test_another_volunteers_client_in_the_url_shows_not_found_and_is_audited(
    volunteer: Page, e2e_db: Path
) -> None:
    page = volunteer
    client_id, name = _new_client(e2e_db, assigned=False)
    for form in ("visit", "test", "referral", "support"):
        page.goto(f"/clients/{client_id}/{form}")
        expect(page.locator("#not-found")).to_be_visible()
        expect(page.locator("#save")).to_have_count(0)
        assert name not in page.content()
    denied = _rows(e2e_db, "SELECT count(*) FROM auditevent WHERE target_type = 'client' "
                   "AND target_id = ? AND outcome = 'denied'", client_id)
    assert denied[0][0] >= 4


# --- outreach ------------------------------------------------------------------------------


def test_outreach_to_a_group_of_five_relatives_is_one_row_counting_five(
    volunteer: Page, e2e_db: Path
) -> None:
    page = volunteer
    page.locator("nav").get_by_role("link", name="Tiếp cận").first.click()
    expect(page.locator("#save")).to_be_visible()
    _screen_and_scan(page, "outreach")
    topic = f"Phòng chống tái nghiện {secrets.token_hex(3)}"
    page.get_by_text("Người thân").click()
    page.get_by_label("Số người").fill("5")
    page.get_by_label("Chủ đề tư vấn").fill(topic)
    page.locator("#save").click()
    expect(page.locator("#dh-notice")).to_contain_text("Đã gửi lúc")  # through the outbox
    rows = _rows(e2e_db, "SELECT category, count, contact_date, client_id FROM outreachcontact "
                 "WHERE topic = ?", topic)
    assert rows == [("relative", 5, today_vn().isoformat(), None)]
    # The form starts afresh for the next group.
    expect(page.get_by_label("Chủ đề tư vấn")).to_have_value("")
    expect(page.get_by_label("Số người")).to_have_value("1")


# --- drug test, referral, support ----------------------------------------------------------


def test_a_drug_test_is_stored_with_its_substances_and_result(
    volunteer: Page, e2e_db: Path, base_url: str
) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/test")
    _screen_and_scan(page, "drug-test")
    page.get_by_text("Heroin").click()
    page.get_by_text("Ma túy đá").click()
    page.get_by_text("Âm tính").click()
    page.get_by_label("Người hoặc nơi thực hiện").fill("Trạm y tế xã")
    page.locator("#save").click()
    expect(page).to_have_url(f"{base_url}clients/{client_id}")
    rows = _rows(e2e_db, "SELECT sample, method, substances, result, performed_by FROM drugtest "
                 "WHERE client_id = ?", client_id)
    assert rows == [("urine", "rapid", "heroin,methamphetamine", "negative", "Trạm y tế xã")]


def test_a_referral_with_consent_is_stored_open_to_the_chosen_facility(
    volunteer: Page, e2e_db: Path, base_url: str
) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/referral")
    expect(page.locator("#consent-text")).to_contain_text("họ tên, tuổi")
    _screen_and_scan(page, "referral")
    page.get_by_label("Dịch vụ").select_option("mmt")
    page.get_by_label("Nơi tiếp nhận").select_option(label="Cơ sở điều trị Methadone (demo)")
    # Consent is required: refused in the page, next to the box (no browser bubble).
    page.locator("#save").click()
    expect(page.locator("#consent-error")).to_be_visible()
    assert _rows(e2e_db, "SELECT id FROM referral WHERE client_id = ?", client_id) == []
    page.get_by_text("Người được chuyển gửi đồng ý").click()
    page.locator("#save").click()
    expect(page).to_have_url(f"{base_url}clients/{client_id}")
    clinic = _rows(e2e_db, "SELECT id FROM organisation WHERE name = ?",
                   "Cơ sở điều trị Methadone (demo)")[0][0]
    rows = _rows(e2e_db, "SELECT service, facility_id, consent, status, referred_on FROM referral "
                 "WHERE client_id = ?", client_id)
    assert rows == [("mmt", clinic, 1, "sent", today_vn().isoformat())]


def test_a_loan_typed_with_dots_is_stored_in_whole_dong(
    volunteer: Page, e2e_db: Path, base_url: str
) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/support")
    expect(page.get_by_label("Số tiền vay (đồng)")).to_be_hidden()  # only for a loan
    page.get_by_text("Vay vốn").click()
    amount = page.get_by_label("Số tiền vay (đồng)")
    expect(amount).to_be_visible()
    amount.fill("50.000.000")
    page.get_by_label("Thời hạn vay (tháng)").fill("24")
    page.get_by_label("Nguồn vốn").fill("Ngân hàng Chính sách xã hội")
    _screen_and_scan(page, "support")
    page.locator("#save").click()
    expect(page).to_have_url(f"{base_url}clients/{client_id}")
    rows = _rows(e2e_db, "SELECT kind, amount_vnd, term_months, fund_source FROM support "
                 "WHERE client_id = ?", client_id)
    assert rows == [("loan", 50_000_000, 24, "Ngân hàng Chính sách xã hội")]


def test_support_already_completed_is_stored_with_its_status(
    volunteer: Page, e2e_db: Path, base_url: str
) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/support")
    status = page.get_by_label("Tình trạng")
    expect(status).to_have_value("active")
    page.get_by_text("Giới thiệu việc làm").click()
    status.select_option("completed")
    page.locator("#save").click()
    expect(page).to_have_url(f"{base_url}clients/{client_id}")
    rows = _rows(e2e_db, "SELECT kind, status FROM support WHERE client_id = ?", client_id)
    assert rows == [("job_placement", "completed")]


@pytest.mark.parametrize(("form", "table"), [("support", "support"), ("referral", "referral")])
def test_a_double_tap_on_save_stores_one_record(volunteer: Page, e2e_db: Path, base_url: str,
                                                form: str, table: str) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/{form}")
    if form == "referral":
        page.locator("#consent").check()
    page.locator(f"#{form}-form").evaluate(
        "form => { form.requestSubmit(); form.requestSubmit(); }")
    expect(page).to_have_url(f"{base_url}clients/{client_id}")
    page.wait_for_timeout(1000)  # give a second record every chance to appear
    assert _rows(e2e_db, f"SELECT count(*) FROM {table} WHERE client_id = ?",
                 client_id) == [(1,)]
    assert _rows(e2e_db, "SELECT count(*) FROM submission WHERE kind = ? AND record_id IN "
                 f"(SELECT id FROM {table} WHERE client_id = ?)",
                 table, client_id) == [(1,)]


def test_a_loan_amount_typed_without_dots_is_grouped_when_leaving_the_field(
    volunteer: Page, e2e_db: Path
) -> None:
    page = volunteer
    client_id, _name = _new_client(e2e_db)
    _open_form(page, f"/clients/{client_id}/support")
    page.get_by_text("Vay vốn").click()
    amount = page.get_by_label("Số tiền vay (đồng)")
    amount.fill("50000000")
    page.get_by_label("Thời hạn vay (tháng)").click()
    expect(amount).to_have_value("50.000.000")


# --- group activity -----------------------------------------------------------------------


def test_a_group_talk_is_stored_with_the_two_clients_ticked(
    volunteer: Page, e2e_db: Path
) -> None:
    page = volunteer
    first, first_name = _new_client(e2e_db)
    second, second_name = _new_client(e2e_db)
    _open_form(page, "/group-activity")
    _screen_and_scan(page, "group-activity")
    topic = f"Tác hại của ma túy tổng hợp {secrets.token_hex(3)}"
    page.get_by_label("Loại hoạt động").select_option("thematic_talk")
    page.get_by_label("Chủ đề").fill(topic)
    page.get_by_label("Tổng số người tham dự").fill("30")
    # The organisers: "none", then the facilities of the volunteer's province (drawn as HTML).
    organiser = page.get_by_label("Đơn vị tổ chức")
    expect(organiser.locator("option").first).to_have_text("— Không chọn —")
    expect(organiser.locator("option").nth(1)).to_be_attached()
    chosen = organiser.locator("option").nth(1).get_attribute("value")
    organiser.select_option(chosen)
    search = page.get_by_label("Lọc theo tên")
    for client_id, name in ((first, first_name), (second, second_name)):
        search.fill(name.split()[-1].lower())  # accents and case do not matter
        box = page.locator(f"#client_{client_id}")
        expect(box).to_be_visible()
        box.check()
    search.fill("")
    page.locator("#save").click()
    expect(page.locator("#dh-notice")).to_contain_text("Đã gửi lúc")  # through the outbox
    rows = _rows(e2e_db, "SELECT id, kind, attendees_total, attendees_clients, organiser_id "
                 "FROM groupactivity WHERE topic = ?", topic)
    assert [r[1:] for r in rows] == [("thematic_talk", 30, 2, int(chosen or 0))]
    present = _rows(e2e_db, "SELECT client_id FROM groupactivityclient WHERE activity_id = ? "
                    "ORDER BY client_id", rows[0][0])
    assert present == [(first,), (second,)]
