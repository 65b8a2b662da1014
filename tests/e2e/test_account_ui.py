"""One's own account in a real browser: language saved on the account, sessions, password."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from app.services.db import engine_for
from models import User
from tests.e2e.conftest import PHONE
from tests.e2e.test_admin_ui import (
    PASSWORD,
    expect_route,
    expect_sign_in_screen,
    make_volunteer,
    second_page,  # noqa: F401  (fixture)
    unique,
)
from tests.e2e.test_auth import sign_in, sign_out


def stored_language(e2e_db: Path, username: str) -> str:
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        return s.exec(select(User.language).where(User.username == username)).one()


def test_the_language_chosen_on_the_account_follows_the_user_to_a_new_device(
    page: Page, browser: Browser, base_url: str, e2e_db: Path
) -> None:
    username = unique("tnv.ngonngu")
    make_volunteer(e2e_db, username)
    sign_in(page, username, PASSWORD)
    expect_route(page, "today")
    page.goto(base_url + "account")
    expect(page.get_by_role("heading", name="Đổi mật khẩu")).to_be_visible()
    page.locator("#language-en").click()
    expect(page.get_by_role("heading", name="Change password")).to_be_visible()
    expect(page.locator("#saved-notice")).to_contain_text("The language has been saved")
    assert stored_language(e2e_db, username) == "en"
    sign_out(page)
    expect_sign_in_screen(page)

    # A new device has no stored choice: the account's language comes with the sign-in.
    other = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    try:
        phone = other.new_page()
        phone.goto("/")
        expect(phone.get_by_role("heading", name="Đăng nhập")).to_be_visible()
        phone.get_by_label("Tên đăng nhập hoặc số điện thoại").fill(username)
        phone.get_by_label("Mật khẩu").fill(PASSWORD)
        phone.locator("#signin-submit").click()
        expect_route(phone, "today")
        phone.goto(base_url + "account")
        expect(phone.get_by_role("heading", name="Change password")).to_be_visible()
        phone.locator("#language-vi").click()
        expect(phone.get_by_role("heading", name="Đổi mật khẩu")).to_be_visible()
        assert stored_language(e2e_db, username) == "vi"
    finally:
        other.close()


def test_changing_the_password_ends_the_other_sessions_but_not_this_one(
    page: Page, second_page: Page, base_url: str, e2e_db: Path  # noqa: F811
) -> None:
    username = unique("tnv.doimk")
    make_volunteer(e2e_db, username)
    sign_in(second_page, username, PASSWORD)
    expect_route(second_page, "today")
    second_page.goto(base_url + "account")
    expect(second_page.locator("#password-form")).to_be_visible()

    sign_in(page, username, PASSWORD)
    expect_route(page, "today")
    page.goto(base_url + "account")
    expect(page.locator(".session-row")).to_have_count(2)
    page.locator("#current").fill(PASSWORD)
    page.locator("#new").fill("Hoa-Sen-Moi-2026")
    page.locator("#repeat").fill("Hoa-Sen-Moi-2027")
    page.locator("#change-password").click()
    expect(page.locator("#repeat-error")).to_be_visible()

    page.locator("#repeat").fill("Hoa-Sen-Moi-2026")
    page.locator("#change-password").click()
    expect(page.locator("#saved-notice")).to_contain_text("Đã đổi mật khẩu")
    expect(page.locator(".session-row")).to_have_count(1)
    assert page.locator("#new").input_value() == ""  # the form is cleared

    second_page.locator("#refresh").click()
    expect_sign_in_screen(second_page)
    page.locator("#refresh").click()
    expect(page.locator(".session-row")).to_have_count(1)
    expect_route(page, "account")


def test_ending_another_of_ones_sessions_signs_that_device_out(
    page: Page, second_page: Page, base_url: str, e2e_db: Path  # noqa: F811
) -> None:
    username = unique("tnv.phien")
    make_volunteer(e2e_db, username)
    sign_in(second_page, username, PASSWORD)
    expect_route(second_page, "today")
    second_page.goto(base_url + "account")
    expect(second_page.locator("#password-form")).to_be_visible()

    sign_in(page, username, PASSWORD)
    expect_route(page, "today")
    page.goto(base_url + "account")
    expect(page.locator(".session-row")).to_have_count(2)
    page.locator(".end-session").click()
    expect(page.locator(".session-row")).to_have_count(1)
    second_page.locator("#refresh").click()
    expect_sign_in_screen(second_page)
