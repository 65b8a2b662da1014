"""The grown-up deployment: PostgreSQL, the Redis state manager and several backend workers."""

from __future__ import annotations

import shutil

from playwright.sync_api import Browser, expect
from sqlalchemy import create_engine, text

from tests.e2e.server import RunningApp
from tests.e2e.test_auth import DEMO_PASSWORD, sign_in


def test_app_runs_with_redis_state_and_several_workers(pg_app: RunningApp) -> None:
    assert shutil.which("chromium")
    workers = [pid for pid in pg_app.process_tree() if pid != pg_app.pid]
    assert len(workers) >= 2, f"expected several backend processes, found {workers}"


def test_volunteer_signs_in_and_out_against_postgres(
    pg_app: RunningApp, browser: Browser, pg_database_url: str
) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=pg_app.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(pg_app.url + "today")
    expect(page.locator("#welcome")).to_contain_text("Xin chào")
    page.locator("#sign-out").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()
    context.close()
    engine = create_engine(pg_database_url)
    with engine.connect() as conn:
        actions = {row[0] for row in conn.execute(text("SELECT action FROM auditevent"))}
    engine.dispose()
    assert {"session.sign_in", "session.sign_out"} <= actions
