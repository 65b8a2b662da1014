"""A volunteer's Today screen on a phone: what is overdue, one tap to the client, ready to visit."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app.services.demo import DEMO_PASSWORD
from tests.e2e.axe import serious_violations
from tests.e2e.server import ROOT
from tests.e2e.test_auth import sign_in

SCREENS = ROOT / "docs" / "screens"
# Nothing is left out of the accessibility scans: the whole frame is checked too.
FRAME_EXCLUDE: tuple[str, ...] = ()


@pytest.mark.pristine_demo
def test_today_shows_the_demo_client_with_an_overdue_appointment_and_one_tap_opens_a_visit(
    page: Page, base_url: str
) -> None:
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(base_url + "today")
    overdue = page.locator("#overdue-list")
    # Demo: Nguyễn Văn An's appointment set at the last visit was two days ago.
    row = overdue.locator("li", has_text="Nguyễn Văn An")
    expect(row).to_contain_text("Đến hẹn / lỡ hẹn")
    expect(row).to_contain_text(re.compile(r"Quá hạn \d+ ngày"))
    assert int(page.locator("#count-overdue").inner_text().split()[0]) >= 1
    expect(page.locator("#count-referrals")).to_contain_text("Chuyển gửi đang mở")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    SCREENS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)  # at rest: nothing hovered
    page.screenshot(path=str(SCREENS / "today.png"))
    assert serious_violations(page, exclude=FRAME_EXCLUDE) == []

    row.locator("a").click()
    expect(page).to_have_url(re.compile(r"/clients/\d+$"))
    expect(page.locator("#client-name")).to_have_text("Nguyễn Văn An")
    client_id = page.url.rstrip("/").rsplit("/", 1)[1]
    # The first action on the profile is "Log visit", one tap away.
    first_action = page.get_by_role("group", name="Việc cần làm với đối tượng").locator("a").first
    expect(first_action).to_have_text("Ghi lần thăm")
    expect(first_action).to_have_attribute("href", f"/clients/{client_id}/visit")


def test_today_count_cards_jump_to_their_lists(page: Page, base_url: str) -> None:
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page.locator("#overdue-list")).to_be_visible()
    page.locator("#count-referrals").click()
    expect(page).to_have_url(base_url + "today#referrals")
    expect(page.locator("#referrals")).to_be_in_viewport()

