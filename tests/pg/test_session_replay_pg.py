"""The tab-token replay suite (tests/security/replay.py) on PostgreSQL, with Reflex's Redis
state manager and two backend workers: a replayed token may land on either worker, and the
tab's state lives in Redis, not in a worker's memory."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis.asyncio as aioredis

from tests.e2e.server import RunningApp
from tests.security.replay import ENDINGS, scenario


async def _redis_scenario(
    url: str, db_url: str, redis_url: str, ending: str
) -> dict[str, list[str]]:
    client = aioredis.Redis.from_url(redis_url)

    async def stored(token: str) -> bytes:
        """What Redis holds for the tab: one key per page state (`<token>_<state>`)."""
        keys = [key async for key in client.scan_iter(match=f"{token}_*")]
        return b"".join(value or b"" for value in await client.mget(keys)) if keys else b""

    try:
        return await scenario(url, db_url, ending, stored)
    finally:
        await client.aclose()


@pytest.mark.parametrize("ending", ENDINGS)
def test_a_replayed_tab_token_gets_no_personal_data_once_the_session_ended_on_redis(
    pg_app: RunningApp, pg_database_url: str, redis_url: str, ending: str
) -> None:
    """Also: once the session has ended, Redis itself no longer holds the closed tab's data,
    though nothing contacted the server with its token (the worker that handled the ending
    may not be the one that served the tab)."""
    # A thread of its own: Playwright's browser tests keep an event loop in the main thread.
    with ThreadPoolExecutor(1) as pool:
        seen = pool.submit(asyncio.run, _redis_scenario(pg_app.url, pg_database_url, redis_url,
                                                        ending)).result()
    assert seen.pop("control: live cookie"), "the replay did not reach the tab's state"
    assert seen.pop("control: the store before the end"), "the tab's state is not in Redis"
    assert seen and not any(seen.values()), seen
