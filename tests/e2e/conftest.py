"""Browser-test fixtures: the app served for real, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.e2e.server import ARTIFACTS, app_env, prepare_database, running_app

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}


# Development only: reuse an app already served (its URL and SQLite file) instead of building one.
REUSE_URL = os.environ.get("DH_E2E_URL", "")
REUSE_DB = os.environ.get("DH_E2E_DB", "")


@pytest.fixture(scope="session")
def e2e_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if REUSE_DB:
        return Path(REUSE_DB)
    return tmp_path_factory.mktemp("e2e") / "e2e.db"


@pytest.fixture(scope="session")
def base_url(e2e_db: Path) -> Iterator[str]:
    if REUSE_URL:
        yield REUSE_URL
        return
    env = app_env(f"sqlite:///{e2e_db}")
    prepare_database(env)
    with running_app(env, name="e2e") as app:
        yield app.url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Chromium is not installed: run `make test` (it installs Debian's chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Browser, base_url: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh phone-sized browser context per test; a screenshot is kept if the test fails."""
    context = browser.new_context(
        viewport=PHONE, base_url=base_url, locale="vi-VN", service_workers="allow"
    )
    context.set_default_timeout(20_000)
    pg = context.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        # The test may have closed this page and opened others: keep the last one open.
        shown = [p for p in context.pages if not p.is_closed()]
        if shown:
            ARTIFACTS.mkdir(exist_ok=True)
            shown[-1].screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    close_context(context)


def close_context(context: BrowserContext) -> None:
    """Close a phone: its pages first (no unload handlers run), then the context."""
    for pg in list(context.pages):
        if not pg.is_closed():
            pg.close(run_before_unload=False)
    context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
    # The browser tests share one database: those that read the demo data as seeded (the demo
    # client's overdue visit, the first page of the demo caseload) run before the others add
    # clients and records to it. The order is otherwise kept.
    items.sort(key=lambda item: item.get_closest_marker("pristine_demo") is None)
