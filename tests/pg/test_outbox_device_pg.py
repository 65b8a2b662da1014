"""The volunteer's day through the device outbox on the grown-up deployment (issue 14):
PostgreSQL, the Redis state manager and two backend workers, in real Chromium. The same
scenarios as tests/e2e/test_outbox_device.py (websocket cuts with `route_web_socket`, lost
answers, lie-fi, a cold start with no signal, refusals, sign-out and expiry), counted in
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e import test_outbox_device as scenario
from tests.e2e.conftest import PHONE, close_context
from tests.e2e.server import RunningApp


@pytest.fixture
def phone(browser: Browser, pg_app: RunningApp) -> Iterator[Page]:
    """A fresh phone against the PostgreSQL + Redis app, its service worker allowed."""
    context = browser.new_context(viewport=PHONE, base_url=pg_app.url, locale="vi-VN",
                                  service_workers="allow")
    context.set_default_timeout(20_000)
    yield context.new_page()
    close_context(context)


def test_one_write_path_exactly_once_on_postgres(phone: Page, pg_database_url: str) -> None:
    scenario.test_one_write_path_exactly_once_across_websocket_cuts_double_taps_and_lost_answers(
        phone, pg_database_url)


def test_lie_fi_on_postgres(phone: Page, pg_database_url: str) -> None:
    scenario.test_lie_fi_goes_offline_within_10_s_keeps_the_record_and_sends_it_once(
        phone, pg_database_url)


def test_a_day_without_signal_on_postgres(phone: Page, pg_database_url: str) -> None:
    scenario.test_a_day_without_signal_cold_start_20_records_3_days_a_new_client_exactly_once(
        phone, pg_database_url)


def test_a_refused_record_corrected_on_postgres(phone: Page, pg_database_url: str) -> None:
    scenario.test_a_record_refused_because_the_client_was_reassigned_is_kept_readable_and_resent_once(
        phone, pg_database_url)


def test_decided_refusals_reach_the_device_on_postgres(phone: Page,
                                                       pg_database_url: str) -> None:
    scenario.test_refused_records_decided_since_reach_the_device_and_one_can_be_given_up(
        phone, pg_database_url)


def test_sign_out_and_expiry_on_postgres(phone: Page, pg_database_url: str) -> None:
    scenario.test_sign_out_and_expiry_leave_no_name_on_screen_and_nothing_readable(
        phone, pg_database_url)
