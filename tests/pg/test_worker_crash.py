"""Faults on the grown-up deployment, in a real browser: every backend worker killed with
`kill -9` while a volunteer has a form open, and every database connection cut.

What must hold: Granian starts new workers (app/runtime.py), the tab reconnects to its own
state (same tab token), and the next save — through the device outbox, under the key the
device made for that draft — works and is stored exactly once.
"""

from __future__ import annotations

import os
import re
import signal
import time

import psycopg
from playwright.sync_api import Browser, Page, expect

from bench.soak import terminate_connections
from tests.e2e.server import RunningApp
from tests.e2e.test_auth import DEMO_PASSWORD, sign_in


def _dsn(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _workers(app: RunningApp) -> set[int]:
    return {pid for pid in app.process_tree() if pid != app.pid}


def _a_client_of(dsn: str, username: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            'SELECT c.id FROM client c JOIN "user" u ON u.id = c.assigned_volunteer_id '
            "WHERE u.username = %s AND c.status = 'active' ORDER BY c.id LIMIT 1", (username,)
        ).fetchone()
    assert row is not None
    return int(row[0])


def _count(dsn: str, sql: str, *params: object) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(sql, params).fetchone()
    assert row is not None
    return int(row[0])


def _volunteer_on_visit_form(browser: Browser, app: RunningApp, client_id: int) -> Page:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=app.url)
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, "tnv.demo", DEMO_PASSWORD)
    expect(page).to_have_url(app.url + "today")
    # The device holds this user's outbox key before a record is written.
    page.wait_for_selector("html[data-dh-unlocked]", state="attached", timeout=60_000)
    page.goto(f"/clients/{client_id}/visit")
    expect(page.locator("form[data-outbox=visit]")).to_be_visible()
    return page


def _save_and_see_it_sent(page: Page) -> None:
    """Saved on the device at once; sent when a worker answers (the first try may meet the
    dead ones, then the outbox retries): nothing is left waiting."""
    page.locator("form[data-outbox=visit]").evaluate("form => form.requestSubmit()")
    # "Saved on this device" first (or at once "sent"); then "sent at HH:MM", which the device
    # shows only once the server has answered that it stored the record. The waiting count
    # alone cannot tell: it reads 0 in the instant before the save is queued, too.
    expect(page.locator("#dh-notice")).to_contain_text(re.compile("Đã lưu trên máy|Đã gửi lúc"))
    expect(page.locator("#dh-notice")).to_contain_text("Đã gửi lúc", timeout=90_000)
    expect(page.locator("#dh-waiting")).to_have_attribute("data-count", "0")


def test_killed_workers_are_replaced_and_the_open_form_keeps_its_state(
    pg_app: RunningApp, browser: Browser, pg_database_url: str
) -> None:
    dsn = _dsn(pg_database_url)
    client_id = _a_client_of(dsn, "tnv.demo")
    page = _volunteer_on_visit_form(browser, pg_app, client_id)
    token = page.evaluate("window.sessionStorage.getItem('token')")
    page.locator("textarea[name=notes]").fill("Ghi chú viết trước khi máy chủ gặp sự cố.")

    before = _workers(pg_app)
    assert len(before) >= 2
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        now = _workers(pg_app)
        if len(now) >= len(before) and not now & before:
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"workers not replaced: before {before}, now {_workers(pg_app)}; "
                             f"server log:\n{pg_app.log_tail()}")

    # The tab reconnects by itself, to the same server-side state.
    visits = _count(dsn, "SELECT count(*) FROM visit WHERE client_id = %s", client_id)
    _save_and_see_it_sent(page)
    # A saved record lands on the client's page (a navigation in the same tab).
    page.wait_for_url(re.compile(rf"/clients/{client_id}$"))
    page.wait_for_load_state()
    assert page.evaluate("window.sessionStorage.getItem('token')") == token
    assert _count(dsn, "SELECT count(*) FROM visit WHERE client_id = %s", client_id) == visits + 1
    assert _count(dsn, "SELECT count(*) FROM visit WHERE notes = %s",
                  "Ghi chú viết trước khi máy chủ gặp sự cố.") == 1
    page.context.close()


def test_cut_database_connections_are_invisible_to_the_volunteer(
    pg_app: RunningApp, browser: Browser, pg_database_url: str
) -> None:
    dsn = _dsn(pg_database_url)
    client_id = _a_client_of(dsn, "tnv.demo")
    page = _volunteer_on_visit_form(browser, pg_app, client_id)
    note = f"Ghi chú khi mất kết nối cơ sở dữ liệu {time.time_ns()}"
    page.locator("textarea[name=notes]").fill(note)
    base, name = _dsn(pg_database_url).rsplit("/", 1)
    cut = terminate_connections(name, admin_dsn=base + "/postgres")
    assert cut >= 1, "the app held no connection to cut"
    _save_and_see_it_sent(page)
    assert _count(dsn, "SELECT count(*) FROM visit WHERE notes = %s", note) == 1
    page.context.close()
