"""The tab-token replay suite (tests/security/replay.py) on PostgreSQL, with Reflex's Redis
state manager and two backend workers: a replayed token may land on either worker, and the
tab's state lives in Redis, not in a worker's memory."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.server import RunningApp
from tests.security.replay import ENDINGS, scenario


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_replayed_tab_token_gets_no_personal_data_once_the_session_ended_on_redis(
    pg_app: RunningApp, pg_database_url: str, ending: str
) -> None:
    # A thread of its own: Playwright's browser tests keep an event loop in the main thread.
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, scenario(pg_app.url, pg_database_url, ending)).result()
    assert seen.pop("control: live cookie"), "the replay did not reach the tab's state"
    assert seen and not any(seen.values()), seen
