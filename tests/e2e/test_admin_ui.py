"""User administration in a real browser: create, one-time passwords, disable, reset."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from app.services import security
from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from models import Role, RoleAssignment, User
from tests.e2e.conftest import PHONE, close_context
from tests.e2e.test_auth import sign_in, sign_out

PASSWORD = "Bong-Sen-Thap-Muoi-9"


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def make_volunteer(e2e_db: Path, username: str, password: str = PASSWORD) -> int:
    """A volunteer in the demo volunteer's commune (inside the demo admin's province)."""
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        demo = s.exec(select(User).where(User.username == "tnv.demo")).one()
        place_id = s.exec(
            select(RoleAssignment.place_id).where(RoleAssignment.user_id == demo.id)
        ).one()
        user = User(
            username=username,
            full_name=f"Người Thử {username[-6:]}",
            password_hash=security.hash_password(password),
            language="vi",
        )
        s.add(user)
        s.flush()
        assert user.id is not None
        s.add(RoleAssignment(user_id=user.id, role=Role.VOLUNTEER, place_id=place_id))
        s.commit()
        return user.id


@pytest.fixture
def second_page(browser: Browser, base_url: str) -> Iterator[Page]:
    """Another person's phone: a separate browser context."""
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    context.set_default_timeout(20_000)
    yield context.new_page()
    close_context(context)


def expect_route(page: Page, route: str) -> None:
    """The page is at `route` (a static host may add a trailing slash)."""
    expect(page).to_have_url(re.compile(rf"^https?://[^/]+/{re.escape(route)}/?$"))


def expect_sign_in_screen(page: Page) -> None:
    """The sign-in page, reached for real: a session that ends leaves through
    /api/auth/signed-out once the device is wiped, and only then is the page at rest (a
    `goto` while that navigation runs is aborted)."""
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/(\?n=\w+)?$"), timeout=30_000)
    page.wait_for_load_state()
    expect(
        page.get_by_role("heading", name="Đăng nhập").or_(
            page.get_by_role("heading", name="Sign in")
        )
    ).to_be_visible()


def open_user(page: Page, username: str) -> None:
    page.locator("#user-search").fill(username)
    page.locator("#search-submit").click()
    escaped = username.replace(".", "\\.")
    page.locator(f"#manage-{escaped}").click()
    expect(page.locator("#edit-form")).to_be_visible()


def test_a_new_volunteer_must_replace_the_one_time_password_before_anything_else(
    page: Page, base_url: str
) -> None:
    username = unique("tnv.moi")
    sign_in(page, "qt.demo", DEMO_PASSWORD)
    expect_route(page, "admin/users")
    page.locator("#create-user").click()
    page.locator("#username").fill(username)
    page.locator("#full_name").fill("Đặng Thị Thu")
    page.locator("#create_role").select_option("volunteer")
    # Only communes of the admin's province are offered; pick the second one.
    expect(page.locator("#create_scope option").nth(1)).to_be_attached()
    page.locator("#create_scope").select_option(index=1)
    commune = page.locator("#create_scope option").nth(1).inner_text()
    page.locator("#create-submit").click()

    otp = page.locator("#otp-value")
    expect(otp).to_be_visible()
    one_time = otp.inner_text().strip()
    assert len(one_time) == 14
    page.locator("#otp-ack").click()
    expect(page.locator("#otp-dialog")).to_have_count(0)
    assert one_time not in page.content()  # shown once, then gone
    row = page.locator(".user-row", has_text=username)
    expect(row).to_contain_text(commune)
    expect(row).to_contain_text("Chờ đổi mật khẩu")
    sign_out(page)
    expect_sign_in_screen(page)

    sign_in(page, username, one_time)
    expect_route(page, "account")
    expect(page.locator("#must-change-banner")).to_be_visible()
    page.goto(base_url + "today")
    expect_route(page, "account")
    expect(page.locator("#must-change-banner")).to_be_visible()

    page.locator("#current").fill(one_time)
    page.locator("#new").fill("password123")
    page.locator("#repeat").fill("password123")
    page.locator("#change-password").click()
    expect(page.locator("#new-error")).to_contain_text("quá phổ biến")
    expect_route(page, "account")

    page.locator("#new").fill(PASSWORD)
    page.locator("#repeat").fill(PASSWORD)
    page.locator("#change-password").click()
    expect_route(page, "today")
    page.goto(base_url + "today")
    page.wait_for_timeout(1500)
    expect_route(page, "today")


def test_disabling_a_user_returns_their_open_browser_to_sign_in(
    page: Page, second_page: Page, base_url: str, e2e_db: Path
) -> None:
    username = unique("tnv.khoa")
    make_volunteer(e2e_db, username)
    sign_in(second_page, username, PASSWORD)
    expect_route(second_page, "today")
    second_page.goto(base_url + "account")
    expect(second_page.locator("#password-form")).to_be_visible()

    sign_in(page, "qt.demo", DEMO_PASSWORD)
    open_user(page, username)
    expect(page.locator(".user-session")).to_have_count(1)
    page.locator("#disable-user").click()
    expect(page.locator("#form-success")).to_be_visible()
    expect(page.locator("#enable-user")).to_be_visible()
    expect(page.locator("#no-sessions")).to_be_visible()

    second_page.locator("#refresh").click()  # the next action finds the account disabled
    expect_sign_in_screen(second_page)
    sign_in(second_page, username, PASSWORD)
    expect(second_page.locator("#signin-error")).to_be_visible(timeout=20_000)


def test_resetting_a_password_ends_the_users_sessions(
    page: Page, second_page: Page, base_url: str, e2e_db: Path
) -> None:
    username = unique("tnv.datlai")
    make_volunteer(e2e_db, username)
    sign_in(second_page, username, PASSWORD)
    expect_route(second_page, "today")
    second_page.goto(base_url + "account")
    expect(second_page.locator("#password-form")).to_be_visible()

    sign_in(page, "qt.demo", DEMO_PASSWORD)
    open_user(page, username)
    page.locator("#reset-password").click()
    page.locator("#reset-confirm").click()
    otp = page.locator("#otp-value")
    expect(otp).to_be_visible()
    one_time = otp.inner_text().strip()
    page.locator("#otp-ack").click()

    second_page.locator("#refresh").click()
    expect_sign_in_screen(second_page)
    sign_in(second_page, username, PASSWORD)
    expect(second_page.locator("#signin-error")).to_be_visible(timeout=20_000)
    sign_in(second_page, username, one_time)
    expect_route(second_page, "account")
    expect(second_page.locator("#must-change-banner")).to_be_visible()


def test_the_user_list_is_searchable_without_diacritics_and_fits_a_phone(
    page: Page, base_url: str
) -> None:
    sign_in(page, "qt.demo", DEMO_PASSWORD)
    page.locator("#user-search").fill("nguyen thi hoa")
    page.locator("#search-submit").click()
    expect(page.locator(".user-row")).to_have_count(1)
    expect(page.locator(".user-row")).to_contain_text("Nguyễn Thị Hoa")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
