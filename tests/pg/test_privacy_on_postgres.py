"""Issue 17 on PostgreSQL with the Redis state manager and two workers: the access request to
its PDF and the deletion request to an anonymised record search no longer finds."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from tests.e2e.server import RunningApp
from tests.e2e.test_privacy_ui import run_access_request, run_deletion_request


@pytest.fixture
def pg_page(pg_app: RunningApp, browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, base_url=pg_app.url,
                                  locale="vi-VN", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


@pytest.fixture
def pg_db(pg_database_url: str) -> Iterator[Engine]:
    engine = create_engine(pg_database_url)
    yield engine
    engine.dispose()


def test_an_access_request_reaches_its_pdf_on_postgres(
        pg_page: Page, pg_app: RunningApp, pg_db: Engine) -> None:
    run_access_request(pg_page, pg_app.url, pg_db)


def test_a_deletion_request_anonymises_and_leaves_search_on_postgres(
        pg_page: Page, pg_app: RunningApp, pg_db: Engine) -> None:
    run_deletion_request(pg_page, pg_app.url, pg_db)
