"""A role that needs a second administrator, in the browser (issue 19, item 5).

The demo administrator asks for a volunteer to become an administrator too: the dialog says
it waits for approval and lists it; a second administrator, on another phone, approves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlmodel import Session, select

from app.services import security
from app.services.db import engine_for
from app.services.demo import DEMO_PASSWORD
from models import Role, RoleAssignment, User
from tests.e2e.conftest import PHONE
from tests.e2e.server import ARTIFACTS
from tests.e2e.test_admin_ui import PASSWORD, make_volunteer, unique
from tests.e2e.test_auth import sign_in


@pytest.fixture
def other_phone(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, base_url=base_url, locale="vi-VN")
    context.set_default_timeout(20_000)
    yield context.new_page()
    context.close()


def _second_admin(e2e_db: Path, username: str) -> None:
    """Another administrator with the demo administrator's scope."""
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        demo = s.exec(select(User).where(User.username == "qt.demo")).one()
        scopes = s.exec(select(RoleAssignment).where(RoleAssignment.user_id == demo.id,
                                                     RoleAssignment.role == Role.ADMIN)).all()
        user = User(username=username, full_name="Quản trị thứ hai",
                    password_hash=security.hash_password(PASSWORD), language="vi")
        s.add(user)
        s.flush()
        assert user.id is not None
        for scope in scopes:
            s.add(RoleAssignment(user_id=user.id, role=Role.ADMIN, place_id=scope.place_id,
                                 facility_id=scope.facility_id))
        s.commit()


def _open_user(page: Page, username: str) -> None:
    page.locator("#user-search").fill(username)
    page.locator("#search-submit").click()
    escaped = username.replace(".", "\\.")
    page.locator(f"#manage-{escaped}").click()
    expect(page.locator("#user-dialog")).to_be_visible()


def test_an_admin_role_for_a_volunteer_waits_for_a_second_administrator(
    page: Page, other_phone: Page, base_url: str, e2e_db: Path
) -> None:
    target = unique("tnv.hai")
    second = unique("qt.hai")
    make_volunteer(e2e_db, target)
    _second_admin(e2e_db, second)

    sign_in(page, "qt.demo", DEMO_PASSWORD)
    expect(page.locator("#role-badge")).to_be_visible()
    _open_user(page, target)
    before = page.locator("#grant_scope").inner_text()
    page.locator("#grant_role").select_option("admin")
    # The scopes that fit an administrator replace the volunteer's communes.
    page.wait_for_function(
        "b => document.getElementById('grant_scope').innerText !== b", arg=before)
    page.locator("#add-role").click()
    pending = page.locator("#pending-roles")
    expect(pending).to_be_visible()
    expect(page.locator("#user-dialog")).to_contain_text("quản trị viên khác phê duyệt")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "role-approval-pending.png"))
    # The administrator who asked cannot approve their own request.
    pending.locator(".approve-role").first.click()
    expect(page.locator("#user-dialog")).to_contain_text("quản trị viên khác")
    expect(pending).to_be_visible()

    sign_in(other_phone, second, PASSWORD)
    expect(other_phone.locator("#role-badge")).to_be_visible()
    _open_user(other_phone, target)
    other_phone.locator("#pending-roles .approve-role").first.click()
    expect(other_phone.locator("#user-dialog")).to_contain_text("Đã phê duyệt")
    expect(other_phone.locator("#pending-roles")).to_have_count(0)
    with Session(engine_for(f"sqlite:///{e2e_db}")) as s:
        uid = s.exec(select(User.id).where(User.username == target)).one()
        roles = s.exec(select(RoleAssignment.role).where(RoleAssignment.user_id == uid)).all()
    assert sorted(roles) == sorted([Role.VOLUNTEER, Role.ADMIN])
