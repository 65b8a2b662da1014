"""app/runtime.py against a real Redis: when is a tab's old socket record a leftover?

A reconnecting tab keeps its token (and its server-side state) when the worker that held its
old socket is dead, or when that worker releases the record while the tab waits (the
ordinary reconnect race). Only a record that stays on a live worker is a duplicated tab.
"""

from __future__ import annotations

import asyncio
import pickle
import uuid
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis.asyncio as aioredis
from reflex.utils.token_manager import SocketRecord

from app import runtime


def _run(coro: Coroutine[Any, Any, bool]) -> bool:
    """asyncio.run in a thread of its own: Playwright's browser tests in this lane keep an
    event loop running in the main thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


class Manager:
    """The parts of Reflex's RedisTokenManager that runtime.py reads."""

    def __init__(self, client: Any) -> None:
        self.redis = client
        self.instance_id = uuid.uuid4().hex
        self.sid_to_token: dict[str, str] = {}

    def _get_redis_key(self, token: str) -> str:
        return f"token_manager_socket_record_{token}"


async def _scenario(redis_url: str, *, other_beats: bool, released_after: float | None) -> bool:
    client = aioredis.Redis.from_url(redis_url)
    me, other = Manager(client), Manager(client)
    token = str(uuid.uuid4())
    record = SocketRecord(instance_id=other.instance_id, sid="old-sid")
    await client.set(me._get_redis_key(token), pickle.dumps(record), ex=60)
    tasks = []
    if other_beats:
        tasks.append(asyncio.create_task(runtime._beat(other)))
        await asyncio.sleep(0.1)

    async def release() -> None:
        assert released_after is not None
        await asyncio.sleep(released_after)
        await client.delete(me._get_redis_key(token))

    if released_after is not None:
        tasks.append(asyncio.create_task(release()))
    try:
        return await runtime._leftover(me, token, record)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.delete(me._get_redis_key(token), runtime._ALIVE_PREFIX + other.instance_id)
        await client.aclose()


@pytest.mark.parametrize(("other_beats", "released_after", "leftover"), [
    (False, None, True),  # the worker died: its record is a leftover
    (True, 1.0, True),  # a live worker lets the old socket go a second later: a reconnect
    (True, None, False),  # a live worker keeps the socket: a duplicated tab
])
def test_a_record_is_a_leftover_only_when_its_socket_is_gone(
    redis_url: str, other_beats: bool, released_after: float | None, leftover: bool
) -> None:
    assert _run(_scenario(redis_url, other_beats=other_beats,
                          released_after=released_after)) is leftover


def test_a_worker_that_stopped_beating_is_dead_after_the_wait(redis_url: str) -> None:
    async def scenario() -> bool:
        client = aioredis.Redis.from_url(redis_url)
        me, dead = Manager(client), Manager(client)
        await client.set(runtime._ALIVE_PREFIX + dead.instance_id, "last-beat", ex=60)
        token = str(uuid.uuid4())
        record = SocketRecord(instance_id=dead.instance_id, sid="old-sid")
        await client.set(me._get_redis_key(token), pickle.dumps(record), ex=60)
        try:
            return await runtime._leftover(me, token, record)
        finally:
            await client.delete(me._get_redis_key(token),
                                runtime._ALIVE_PREFIX + dead.instance_id)
            await client.aclose()

    assert _run(scenario()) is True
