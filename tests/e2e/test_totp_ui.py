"""The second factor in a real browser (issue 19 item 8): a volunteer turns it on on the
account screen (QR code, key in text, first code, recovery codes shown once), signs out, and
signs in again with the password and a code of the app, then with a recovery code — each step
a plain form post, no password or code in any address."""

from __future__ import annotations

import time
from pathlib import Path

import pyotp
from playwright.sync_api import Page, expect
from sqlmodel import Session, select

from app.services import second_factor
from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from models import TotpCredential, User, utcnow
from tests.e2e.server import ROOT
from tests.e2e.test_admin_ui import (
    PASSWORD,
    expect_route,
    expect_sign_in_screen,
    make_volunteer,
    open_user,
    second_page,  # noqa: F401  (fixture)
    unique,
)
from tests.e2e.test_auth import sign_in, sign_out

SCREENS = ROOT / "docs" / "screens"


def _screenshot(page: Page, name: str, top: str) -> None:
    """docs/screens/<name>.png at phone size (390 px), at rest, `top` just under the top bar."""
    page.evaluate(
        "(sel) => { document.querySelector(sel).scrollIntoView({block: 'start'});"
        " window.scrollBy(0, -72); }", top)
    page.mouse.move(0, 0)
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"))


def _no_secret_in(url: str, *secrets: str) -> None:
    assert all(s not in url for s in secrets), url


def test_a_volunteer_turns_on_the_second_factor_and_signs_in_with_a_code_then_a_recovery_code(
    page: Page, base_url: str, e2e_db: Path
) -> None:
    username = unique("tnv.haibuoc")
    user_id = make_volunteer(e2e_db, username)
    sign_in(page, username, PASSWORD)
    expect_route(page, "today")  # optional for volunteers: no second step yet

    # ---- enrolment on the account screen
    page.goto(base_url + "account")
    start = page.locator("#tf-start")
    expect(start).to_be_visible()
    start.click()
    expect(page.locator("#tf-qr")).to_be_visible()
    secret = page.locator("#tf-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    # The QR code is an inline image of the otpauth address (the same drawing as the cards').
    src = page.locator("#tf-qr").get_attribute("src") or ""
    assert src.startswith("data:image/svg+xml;base64,")
    _screenshot(page, "second-factor-enrol", "#second-factor-section")

    totp = pyotp.TOTP(secret)
    page.locator("#tf_code").fill("000000" if totp.now() != "000000" else "111111")
    page.locator("#tf-confirm").click()
    expect(page.locator("#tf_code-error")).to_be_visible()
    confirm_code = totp.now()
    page.locator("#tf_code").fill(confirm_code)
    page.locator("#tf-confirm").click()
    codes_shown = page.locator(".tf-recovery-code")
    expect(codes_shown).to_have_count(10)
    codes = [c.inner_text().strip() for c in codes_shown.all()]
    assert len(set(codes)) == 10
    _screenshot(page, "second-factor-recovery-codes", "#second-factor-section")
    page.locator("#tf-codes-done").click()
    expect(page.locator("#tf-on")).to_be_visible()
    expect(page.locator("#tf-codes-left")).to_contain_text("10")
    expect(page.locator(".tf-recovery-code")).to_have_count(0)  # shown once
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        assert second_factor.enrolled(s, user_id)
        assert s.get(TotpCredential, user_id) is not None
    sign_out(page)
    expect_sign_in_screen(page)

    # ---- password, then a code of the app (the next time step: the confirming one is spent)
    sign_in(page, username, PASSWORD)
    expect_route(page, "second-factor")
    expect(page.locator("#otp")).to_be_visible()
    page.locator("#otp").fill("000000" if totp.now() != "000000" else "111111")
    page.locator("#code-submit").click()
    expect(page.locator("#otp-error")).to_be_visible()  # under the field
    expect_route(page, "second-factor")
    code = totp.at(time.time() + 30)
    page.locator("#otp").fill(code)
    page.locator("#code-submit").click()
    expect_route(page, "today")
    _no_secret_in(page.url, PASSWORD, code)
    sign_out(page)
    expect_sign_in_screen(page)

    # ---- password, then a recovery code (once)
    sign_in(page, username, PASSWORD)
    expect_route(page, "second-factor")
    page.locator("#otp").fill(codes[0])
    page.locator("#code-submit").click()
    expect_route(page, "today")
    _no_secret_in(page.url, PASSWORD, codes[0])
    page.goto(base_url + "account")
    expect(page.locator("#tf-codes-left")).to_contain_text("9")
    sign_out(page)
    expect_sign_in_screen(page)

    sign_in(page, username, PASSWORD)
    expect_route(page, "second-factor")
    page.locator("#otp").fill(codes[0])
    page.locator("#code-submit").click()
    expect(page.locator("#otp-error")).to_be_visible()  # under the field
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        assert s.exec(select(User.username).where(User.id == user_id)).one() == username


def test_an_administrator_resets_a_lost_second_factor_with_a_reason(
    page: Page, second_page: Page, base_url: str, e2e_db: Path  # noqa: F811
) -> None:
    username = unique("tnv.matmay")
    user_id = make_volunteer(e2e_db, username)
    sign_in(second_page, username, PASSWORD)
    expect_route(second_page, "today")
    second_page.goto(base_url + "account")
    expect(second_page.locator("#password-form")).to_be_visible()
    # Their second factor is on (set up after this sign-in) — and then the phone is lost.
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        s.add(TotpCredential(user_id=user_id, confirmed_at=utcnow(), secret=second_factor.seal(
            second_factor.new_secret(), user_id=user_id)))
        s.commit()

    sign_in(page, "qt.demo", DEMO_PASSWORD)
    open_user(page, username)
    expect(page.locator("#second-factor-badge")).to_be_visible()
    page.locator("#reset-second-factor").click()
    dialog = page.locator("#tfa-reset-dialog")
    expect(dialog).to_be_visible()
    reason = page.locator("#tfa_reason")
    reason.fill("Mất điện thoại, đã gọi lại xác nhận")
    page.mouse.move(0, 0)
    # At rest: the dialog's opening animation has finished.
    page.wait_for_function(
        "() => document.getAnimations().every(a => a.playState !== 'running')")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "admin-second-factor-reset.png"))
    reason.fill(" ")
    page.locator("#tfa-reset-submit").click()
    expect(page.locator("#tfa_reason-error")).to_have_text("Cần ghi lý do.")  # under the field
    reason.fill("Mất điện thoại, đã gọi lại xác nhận")
    page.locator("#tfa-reset-submit").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#form-success")).to_contain_text("Đã đặt lại xác thực hai bước")
    expect(page.locator("#reset-second-factor")).to_have_count(0)
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        assert not second_factor.enrolled(s, user_id)

    # Their open phone is signed out; the password alone signs them in again.
    second_page.locator("#refresh").click()
    expect_sign_in_screen(second_page)
    sign_in(second_page, username, PASSWORD)
    expect_route(second_page, "today")
