"""What a volunteer sees on the phone after each step (issue 18): the save confirmed in view,
sign-out told apart from expiry, a new client on Today the same day, the form's problems
answered in the page in the app's language, the connection notice in the app's language, and
the client's photo from consent to withdrawal."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from PIL import Image
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import create_engine, text

from app.services.cards import format_short_code
from app.services.demo import DEMO_PASSWORD
from tests.e2e.conftest import PHONE
from tests.e2e.server import ROOT
from tests.e2e.test_auth import sign_in, sign_out
from tests.e2e.test_cards_ui import (
    issue_card_directly,
    make_referred_client,
    phone_page,
    type_code,
)

SCREENS = ROOT / "docs" / "screens"


def _screenshot(page: Page, name: str) -> None:
    """docs/screens/<name>.png at phone size, at rest."""
    page.mouse.move(0, 0)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def _tag() -> str:
    return "".join(secrets.choice("bcdghklmnpqrstvx") for _ in range(6)).capitalize()


def _register(page: Page, name: str, birth_year: int) -> None:
    page.goto("/clients/new")
    expect(page.locator("#commune_id option").first).to_be_attached()  # communes loaded
    page.locator("#full_name").fill(name)
    page.locator("#birth_year").fill(str(birth_year))
    page.locator("#consent_case_management").check()
    page.locator("#register-submit").click()


def test_a_deliberate_sign_out_says_so_and_an_expired_session_says_it_expired(
    page: Page, base_url: str, e2e_db: Path
) -> None:
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    sign_out(page)
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()
    expect(page.get_by_text("Phiên làm việc đã hết hạn")).to_have_count(0)

    # A session that ends on the server (idle for 31 minutes) is an expiry.
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    engine = create_engine(f"sqlite:///{e2e_db}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE authsession SET last_seen_at = datetime(last_seen_at,"
                          " '-1860 seconds') WHERE ended_at IS NULL"))
    engine.dispose()
    page.goto("/clients")
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    expect(page.get_by_text("Phiên làm việc đã hết hạn")).to_be_visible()
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_have_count(0)


def test_a_registered_client_is_confirmed_in_view_and_is_on_today_the_same_day(
    page: Page, base_url: str
) -> None:
    name = f"Đinh Văn {_tag()}"
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    _register(page, name, 1990)

    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    notice = page.locator("#saved-notice")
    expect(notice).to_have_text(f"Đã đăng ký {name} (sinh năm 1990).")
    expect(notice).to_be_in_viewport()
    expect(notice).to_be_focused()
    expect(notice).to_have_attribute("role", "status")
    _screenshot(page, "profile-saved")

    page.locator("nav a[href='/today']").last.click()
    expect(page).to_have_url(base_url + "today")
    expect(page.locator("#saved-notice")).to_have_text("")  # kept only on its own screen
    row = page.locator("#not-visited-list li", has_text=name)
    expect(row).to_contain_text("Chưa thăm lần nào")
    expect(row).to_contain_text("Cần thăm")


def test_problems_are_answered_next_to_their_fields_in_english_with_the_focus_on_the_first(
    browser: Browser, base_url: str, e2e_db: Path
) -> None:
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="en-US")
    try:
        page = context.new_page()
        sign_in(page, "tnv.demo", DEMO_PASSWORD)
        expect(page).to_have_url(base_url + "today")
        page.goto("/account")
        page.locator("#language-en").click()
        expect(page.get_by_role("heading", name="Change password")).to_be_visible()

        page.goto("/clients/new")
        expect(page.locator("#commune_id option").first).to_be_attached()
        assert page.evaluate("document.getElementById('register-form').noValidate")
        # The name is required and left empty; the year is wrong.
        page.locator("#birth_year").fill("19")
        page.locator("#register-submit").click()
        # Not the browser's bubble: our own messages under the fields, in English, and the
        # focus on the first field in trouble.
        year_error = page.locator("#birth_year-error")
        expect(year_error).to_have_text(re.compile(r"year", re.IGNORECASE))
        expect(page.locator("#full_name-error")).to_be_visible()
        expect(page.locator("#full_name")).to_be_focused()
        expect(page.locator("#birth_year")).to_have_attribute("aria-invalid", "true")
        vietnamese = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]")
        for text in page.locator("[data-field-error]").all_inner_texts():
            assert text and not vietnamese.search(text.lower()), text

        # The record forms: a drug test without its result, a referral without consent.
        person = make_referred_client(e2e_db)
        page.goto(f"/clients/{person.client_id}/test")
        expect(page.locator("#client-name")).to_contain_text(person.given_name)  # loaded
        assert page.evaluate("document.getElementById('test-form').noValidate")
        page.locator("#save").click()
        expect(page.locator("#result-error")).to_have_text("Please choose one.")
        expect(page).to_have_url(re.compile(r"/test$"))  # nothing saved, still on the form
        page.goto(f"/clients/{person.client_id}/referral")
        expect(page.locator("#client-name")).to_contain_text(person.given_name)
        page.locator("#save").click()
        consent_error = page.locator("#consent-error")
        expect(consent_error).to_be_visible()
        assert not vietnamese.search(consent_error.inner_text().lower())
    finally:
        page.goto("/account")
        page.locator("#language-vi").click()
        expect(page.get_by_role("heading", name="Đổi mật khẩu")).to_be_visible()
        context.close()


def test_the_sign_in_and_administration_forms_answer_problems_under_their_fields(
    browser: Browser, base_url: str
) -> None:
    """The sign-in form is a plain HTML post: the server sends an empty field back by name and
    the page says so under it, in the app's language, with the focus there (no bubble, and the
    password never in the address). An administrator's forms do the same over the websocket."""
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="en-US")
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        assert page.evaluate("document.getElementById('signin-form').noValidate")
        assert page.evaluate("document.getElementById('signin-form').method") == "post"
        page.locator("#login").fill("tnv.demo")
        page.locator("#signin-submit").click()
        password_error = page.locator("#password-error")
        expect(password_error).to_have_text("Vui lòng nhập mật khẩu.")
        expect(page.locator("#password")).to_be_focused()
        expect(page.locator("#password")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#login-error")).to_have_count(0)
        expect(page.locator("#signin-error")).to_have_count(0)
        expect(page).to_have_url(base_url)  # the query is gone from the address bar
        _screenshot(page, "signin-empty-password")

        # Both empty: both said, the focus on the first; then the right password signs in.
        page.locator("#signin-submit").click()
        expect(page.locator("#login-error")).to_have_text(
            "Vui lòng nhập tên đăng nhập hoặc số điện thoại.")
        expect(page.locator("#password-error")).to_be_visible()
        expect(page.locator("#login")).to_be_focused()
        sign_in(page, "qt.demo", DEMO_PASSWORD)
        expect(page).to_have_url(base_url + "admin/users")

        # A new account with nothing typed: under each field, the focus on the first.
        page.locator("#create-user").click()
        expect(page.locator("#create_scope option").first).to_be_attached()
        assert page.evaluate("document.getElementById('create-form').noValidate")
        page.locator("#create-submit").click()
        expect(page.locator("#username-error")).to_be_visible()
        expect(page.locator("#full_name-error")).to_be_visible()
        expect(page.locator("#username")).to_be_focused()
        expect(page.locator("#otp-dialog")).to_have_count(0)  # nothing was created
        page.keyboard.press("Escape")

        # The settings: a private address is refused under its field; a save is confirmed.
        page.goto("/admin/settings")
        form = page.locator("#settings-form")
        expect(form).not_to_have_attribute("data-loaded", "0")
        assert page.evaluate("document.getElementById('settings-form').noValidate")
        stored = page.locator("#public_url").input_value()
        page.locator("#public_url").fill("http://192.168.1.5:3000")
        page.locator("#settings-save").click()
        expect(page.locator("#public_url-error")).to_be_visible()
        expect(page.locator("#public_url")).to_be_focused()
        expect(page.locator("#public_url")).to_have_attribute("aria-invalid", "true")
        page.locator("#public_url").fill(stored)
        page.locator("#settings-save").click()
        notice = page.locator("#saved-notice")
        expect(notice).to_have_text("Đã lưu cài đặt.")
        expect(notice).to_be_focused()
        expect(notice).to_be_in_viewport()
        expect(page.locator("#public_url-error")).to_have_count(0)
    finally:
        context.close()


def test_the_connection_notice_is_in_the_apps_language(browser: Browser, base_url: str) -> None:
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="en-US")
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        page.wait_for_timeout(500)  # connected
        # The server cannot be reached any more: the reconnections fail.
        context.set_offline(True)
        notice = page.locator("#connection-lost")
        expect(notice).to_be_visible(timeout=30_000)
        expect(notice).to_have_text("Không kết nối được với máy chủ. Đang thử kết nối lại…")
        expect(page.get_by_text("Cannot connect to server")).to_have_count(0)
    finally:
        context.close()


def test_a_photo_taken_with_consent_is_seen_by_the_clinic_and_deleted_when_withdrawn(
    page: Page, browser: Browser, base_url: str, e2e_db: Path, tmp_path: Path
) -> None:
    person = make_referred_client(e2e_db)
    card = issue_card_directly(e2e_db, person.client_id)
    picture = tmp_path / "face.jpg"
    Image.new("RGB", (240, 320), (180, 140, 120)).save(picture, "JPEG")

    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    page.goto(f"/clients/{person.client_id}")
    expect(page.locator("#client-name")).to_contain_text(person.given_name)
    expect(page.locator("#client-photo")).to_have_count(0)
    page.locator("#photo-toggle").click()
    expect(page.locator("#photo-toggle")).to_have_attribute("aria-expanded", "true")
    page.locator("#photo-upload input[type=file]").set_input_files(str(picture))
    expect(page.locator("#chosen-photo")).to_have_text("face.jpg")
    # Without the person's consent: refused in the page, the focus on the consent.
    page.locator("#save-photo").click()
    expect(page.locator("#photo_consent-error")).to_contain_text("Cần sự đồng ý")
    expect(page.locator("#photo_consent")).to_be_focused()
    page.locator("#photo_consent").check()
    page.locator("#save-photo").click()
    notice = page.locator("#saved-notice")
    expect(notice).to_contain_text(f"Đã lưu ảnh của Hoàng Thị {person.given_name}.")
    expect(notice).to_be_in_viewport()
    photo = page.locator("#client-photo")
    expect(photo).to_be_visible()
    page.wait_for_function("() => document.getElementById('client-photo')?.naturalWidth > 0")
    source = photo.get_attribute("src") or ""
    assert re.fullmatch(r"/api/photos/[0-9a-f]{32}\.jpg", source), source

    # The clinic, scanning the card, sees the face beside the given name and age.
    clinic = phone_page(browser, base_url)
    sign_in(clinic, "yte.demo", DEMO_PASSWORD)
    expect(clinic).to_have_url(base_url + "scan")
    type_code(clinic, format_short_code(card.short_code))
    expect(clinic.locator("#scan-name")).to_have_text(person.given_name)
    expect(clinic.locator("#scan-photo")).to_be_visible()
    clinic.wait_for_function("() => document.getElementById('scan-photo')?.naturalWidth > 0")
    _screenshot(clinic, "scan-photo")
    # Never on the card.
    page.goto(f"/clients/{person.client_id}/card")
    expect(page.locator("main")).to_be_visible()
    page.wait_for_timeout(500)
    assert "/api/photos/" not in page.content()

    # The person withdraws their consent: the photo is deleted at once.
    page.goto(f"/clients/{person.client_id}")
    page.locator("#photo-toggle").click()
    page.locator("#withdraw-photo").click()
    expect(notice).to_contain_text(f"Đã xóa ảnh của Hoàng Thị {person.given_name}")
    expect(page.locator("#client-photo")).to_have_count(0)
    assert page.request.get(source).status == 404
    clinic.locator("#scan-next").click()
    type_code(clinic, format_short_code(card.short_code))
    expect(clinic.locator("#scan-name")).to_have_text(person.given_name)
    expect(clinic.locator("#scan-photo")).to_have_count(0)
    assert clinic.request.get(source).status == 404
    clinic.context.close()
