"""Signing in and out in a real browser, as each role, on a phone-sized screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from app.services.demo import DEMO_PASSWORD

HOMES = {
    "tnv.demo": ("today", "Tình nguyện viên"),
    "gs.demo": ("caseload", "Cán bộ quản lý"),
    "yte.demo": ("scan", "Nhân viên cơ sở điều trị"),
    "qt.demo": ("admin/users", "Quản trị"),
}


def sign_in(page: Page, login: str, password: str) -> None:
    page.goto("/")
    page.get_by_label("Tên đăng nhập hoặc số điện thoại").fill(login)
    page.get_by_label("Mật khẩu").fill(password)
    page.locator("#signin-submit").click()


def sign_out(page: Page) -> None:
    """Tap "Đăng xuất". A volunteer's device first asks what to do with its sealed data
    (issue 14): keep it locked, as a volunteer who will sign in again would."""
    page.locator("#sign-out").click()
    page.wait_for_function(
        "() => document.getElementById('dh-signout') !== null || location.pathname === '/'")
    keep = page.locator("#dh-signout-keep")
    if keep.count():
        keep.click()


@pytest.mark.parametrize("username", sorted(HOMES))
def test_each_role_lands_on_its_own_home(page: Page, base_url: str, username: str) -> None:
    route, role_label = HOMES[username]
    sign_in(page, username, DEMO_PASSWORD)
    expect(page).to_have_url(base_url + route)
    expect(page.locator("#role-badge")).to_have_text(role_label)
    # The session token is an opaque server-issued cookie, not the Reflex client token, and
    # no script on the page can read it.
    cookie = next(c for c in page.context.cookies() if c["name"] == "dh_session")
    assert len(cookie["value"]) >= 43 and cookie["sameSite"] == "Strict"
    assert cookie["httpOnly"] and not cookie["secure"]  # plain http here: not Secure
    assert "dh_session" not in page.evaluate("document.cookie")


def test_wrong_password_and_unknown_user_get_the_same_message(page: Page) -> None:
    sign_in(page, "tnv.demo", "not-the-password")
    first = page.locator("#signin-error")
    expect(first).to_be_visible(timeout=20_000)  # the form post comes back as a page load
    wrong_password = first.inner_text()
    sign_in(page, "nobody.here", "not-the-password")
    expect(page.locator("#signin-error")).to_have_text(wrong_password)
    assert "Tên đăng nhập hoặc mật khẩu" in wrong_password
    expect(page).to_have_url(page.url)  # still on sign-in


def test_expired_session_returns_to_sign_in_on_next_action_and_keeps_nothing(
    page: Page, base_url: str, e2e_db: Path
) -> None:
    sign_in(page, "gs.demo", DEMO_PASSWORD)
    expect(page.locator("#welcome")).to_contain_text("Trần Văn Minh")
    # Move the clock forward: the session was last seen 31 minutes ago.
    engine = create_engine(f"sqlite:///{e2e_db}")
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE authsession SET last_seen_at = datetime(last_seen_at, :delta) "
                "WHERE ended_at IS NULL"
            ),
            {"delta": f"-{int(timedelta(minutes=31).total_seconds())} seconds"},
        )
    engine.dispose()
    page.locator("#refresh").click()  # the next guarded action finds the session gone
    expect(
        page.get_by_role("heading", name="Đăng nhập").or_(
            page.get_by_role("heading", name="Sign in")
        )
    ).to_be_visible()
    assert "Trần Văn Minh" not in page.content()
    assert not [c for c in page.context.cookies() if c["name"] == "dh_session" and c["value"]]
    # Going back to a signed-in page does not bring anything back.
    page.goto(base_url + "caseload")
    expect(page).to_have_url(base_url)
    assert "Trần Văn Minh" not in page.content()
